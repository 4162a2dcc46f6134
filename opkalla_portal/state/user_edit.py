"""User Edit: one user of the organization, the web role to Associate, and portal access.

Every handler re-checks the session and Capability.USERS on the server; the user id arrives
raw from the browser and services.users scopes it to the signed-in user's own organization.
"""

from __future__ import annotations

import reflex as rx

from opkalla_portal import deployment
from opkalla_portal.services import users as user_service
from opkalla_portal.services.access import WEB_ROLES, Capability, Identity
from opkalla_portal.state.base import PortalState, guarded


class UserEditState(PortalState):
    """User Edit: one user of the organization, the web role to Associate, and portal access."""

    user_id: int = 0
    name: str = ""
    email: str = ""
    title: str = ""
    role: str = ""
    status: str = ""
    last_sign_in: str = ""
    is_self: bool = False
    not_found: bool = False
    selected_role: str = ""
    held_mail_viewer: bool = False  # the deployment shows held emails (the demo)
    busy: bool = False

    def _show(self, identity, user_id) -> None:
        try:
            user = user_service.get_user(identity, user_id)
        except user_service.UserNotFound:
            self.not_found, self.user_id = True, 0
            return
        self.not_found = False
        self.user_id = user["id"]
        self.name, self.email, self.title = user["name"], user["email"], user["title"]
        self.role, self.status, self.last_sign_in = user["role"], user["status"], user["last_sign_in"]
        self.is_self = user["is_self"]
        self.selected_role = user["role"]

    @guarded(Capability.USERS)
    def load(self, identity: Identity):
        self.held_mail_viewer = deployment.current().held_mail_viewer
        self._show(identity, self.router.url.query_parameters.get("id", ""))

    @guarded(Capability.USERS)
    def set_selected_role(self, identity: Identity, role: str):
        if role in WEB_ROLES:
            self.selected_role = role

    def _apply(self, identity, action, success: str):
        """Run one change for the shown user (re-loaded under the identity's organization)."""
        if not self.user_id:
            return rx.toast.error("Select a user on Manage Users first.")
        try:
            result = action()  # a refusal (UserNotFound, NotAllowed) reaches the guard as a toast
        finally:
            self._show(identity, self.user_id)
        return rx.toast.success(success.format(name=self.name, result=result))

    @guarded(Capability.USERS)
    def associate(self, identity: Identity):
        """Associate: assign the chosen web role."""
        role = self.selected_role
        if role not in WEB_ROLES:
            return rx.toast.error("Choose one of the web roles first.")
        return self._apply(
            identity, lambda: user_service.associate_role(identity, self.user_id, role), "{name} is now " + role + "."
        )

    @guarded(Capability.USERS)
    def enable_portal_access(self, identity: Identity):
        """Enable Portal Access: email the invitation link."""
        return self._apply(
            identity, lambda: user_service.enable_portal_access(identity, self.user_id), "Invitation sent to {result}."
        )

    @guarded(Capability.USERS)
    def deactivate(self, identity: Identity):
        """Turn off portal access; the user's sessions end at once."""
        return self._apply(
            identity, lambda: user_service.deactivate_user(identity, self.user_id), "{name} can no longer sign in."
        )
