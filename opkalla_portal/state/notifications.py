"""Profile → Email notifications: the signed-in user's own switches, saved on each change."""

from __future__ import annotations

from typing import TypedDict

import reflex as rx

from opkalla_portal.services import notifications as service
from opkalla_portal.services.access import Capability, Identity
from opkalla_portal.state.base import PortalState, guarded


class NotificationKind(TypedDict):
    kind: str
    label: str
    description: str


class NotificationsState(PortalState):
    kinds: list[NotificationKind] = []
    enabled: dict[str, bool] = {}

    def _show(self, preferences: dict[str, bool]) -> None:
        self.enabled = preferences
        self.kinds = [
            NotificationKind(kind=kind, label=service.KINDS[kind][0], description=service.KINDS[kind][1])
            for kind in preferences
        ]

    @guarded(Capability.PROFILE)
    def load(self, identity: Identity):
        self._show(service.get_preferences(identity))

    @guarded(Capability.PROFILE)
    def toggle(self, identity: Identity, kind: str, on: bool):
        """One switch changed: save it for the signed-in user only."""
        self._show(service.set_preference(identity, kind, on is True))
        label = service.KINDS[str(kind)][0]
        return rx.toast.success(f"{label}: {'on' if self.enabled.get(str(kind)) else 'off'}. Saved.")
