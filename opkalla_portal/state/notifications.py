"""Profile → Email notifications: the signed-in user's own switches, saved on each change."""

from __future__ import annotations

from typing import TypedDict

import reflex as rx

from opkalla_portal.services import notifications as service
from opkalla_portal.services.access import Capability, PermissionDenied
from opkalla_portal.state.base import PortalState, refused


class NotificationKind(TypedDict):
    kind: str
    label: str
    description: str


class NotificationsState(PortalState):
    kinds: list[NotificationKind] = []
    enabled: dict[str, bool] = {}

    def _show(self, preferences: dict[str, bool]) -> None:
        self.enabled = preferences
        self.kinds = [NotificationKind(kind=kind, label=service.KINDS[kind][0], description=service.KINDS[kind][1])
                      for kind in preferences]

    @rx.event
    def load(self):
        try:
            identity = self._require(Capability.PROFILE)
        except PermissionDenied:
            return None  # on_load: the page guard already redirects
        self._show(service.get_preferences(identity))

    @rx.event
    def toggle(self, kind: str, on: bool):
        """One switch changed: save it for the signed-in user only."""
        try:
            identity = self._require(Capability.PROFILE)
        except PermissionDenied as error:
            return refused(error)
        try:
            self._show(service.set_preference(identity, kind, on is True))
        except ValueError as error:
            return rx.toast.error(str(error))
        label = service.KINDS[str(kind)][0]
        return rx.toast.success(f"{label}: {'on' if self.enabled.get(str(kind)) else 'off'}. Saved.")
