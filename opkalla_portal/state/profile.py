"""The Profile page: the signed-in user's own fields and the Update handler."""

from __future__ import annotations

import reflex as rx

from opkalla_portal.services import profile as profile_service
from opkalla_portal.services.access import Capability, Identity
from opkalla_portal.services.validation import ValidationFailed
from opkalla_portal.state.base import PortalState, guarded


def _blank(fields) -> dict[str, str]:
    return {field: "" for field in fields}


class ProfileState(PortalState):
    values: dict[str, str] = _blank(profile_service.PROFILE_FIELDS)
    errors: dict[str, str] = _blank(profile_service.PROFILE_FIELDS)
    loaded: bool = False
    # Bumped after each save so the form re-mounts with the saved (cleaned) values.
    revision: int = 0

    @guarded(Capability.PROFILE)
    def load(self, identity: Identity):
        self.values = profile_service.get_profile(identity)
        self.errors = _blank(profile_service.PROFILE_FIELDS)
        self.loaded = True

    @guarded(Capability.PROFILE)
    def save(self, identity: Identity, form_data: dict):
        """Update: validate everything, save all or nothing, confirm."""
        try:
            saved = profile_service.update_profile(identity, form_data)
        except ValidationFailed as failed:
            self.errors = {field: failed.errors.get(field, "") for field in profile_service.PROFILE_FIELDS}
            return rx.toast.error("Your profile was not saved. Correct the highlighted fields.")
        self.values = saved
        self.errors = _blank(profile_service.PROFILE_FIELDS)
        self.revision += 1
        self._publish_identity(self._identity() or identity)  # the name in the header may have changed
        return rx.toast.success("Your profile was updated.")
