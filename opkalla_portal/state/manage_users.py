"""Manage Users: the lists, search and Invite User; the handlers the browser may call.

Every handler re-checks the session and Capability.USERS on the server; ids and values
arrive raw from the browser and are validated by services.users, which scopes everything
to the signed-in user's own organization.
"""

from __future__ import annotations

from typing import TypedDict

import reflex as rx

from opkalla_portal import deployment
from opkalla_portal.services import mail as mail_service
from opkalla_portal.services import users as user_service
from opkalla_portal.services.access import Capability, Identity
from opkalla_portal.services.validation import ValidationFailed, clean
from opkalla_portal.state.base import PortalState, guarded
from opkalla_portal.state.deltas import assign_changed

INVITE_FIELDS = ("first_name", "last_name", "email")


class UserRow(TypedDict):
    id: int
    name: str
    email: str
    role: str
    status: str


class UsersState(PortalState):
    """The Manage Users page: the two lists, search, and the Invite User form."""

    active_users: list[UserRow] = []
    inactive_users: list[UserRow] = []
    search: str = ""
    loaded: bool = False
    held_mail_viewer: bool = False  # the deployment shows held emails (the demo)
    outbox_link: bool = False  # demo mode, or the provider's administrators (failed deliveries)
    invite_open: bool = False
    invite_errors: dict[str, str] = {}
    inviting: bool = False

    def _refresh(self, identity) -> None:
        lists = user_service.list_users(identity, self.search)
        assign_changed(self, active_users=[UserRow(**row) for row in lists["active"]])
        assign_changed(self, inactive_users=[UserRow(**row) for row in lists["inactive"]])
        self.loaded = True

    @guarded(Capability.USERS)
    def load(self, identity: Identity):
        self.held_mail_viewer = deployment.current().held_mail_viewer
        self.outbox_link = self.held_mail_viewer or mail_service.is_provider_admin(identity)
        self._refresh(identity)

    @guarded(Capability.USERS)
    def set_search(self, identity: Identity, value: str):
        self.search = clean(value)[:100]
        self._refresh(identity)

    @guarded(Capability.USERS)
    def set_invite_open(self, identity: Identity, is_open: bool):
        self.invite_open = is_open is True
        self.invite_errors = {}

    @guarded(Capability.USERS)
    def submit_invite(self, identity: Identity, form_data: dict):
        """Invite User → Submit: creates the inactive user; messages appear beside bad fields."""
        data = form_data if isinstance(form_data, dict) else {}
        try:
            user_service.invite_user(identity, data.get("first_name"), data.get("last_name"), data.get("email"))
        except ValidationFailed as failed:
            self.invite_errors = {field: failed.errors.get(field, "") for field in INVITE_FIELDS}
            return None
        name = f"{clean(data.get('first_name'))} {clean(data.get('last_name'))}"
        self.invite_open = False
        self.invite_errors = {}
        self._refresh(identity)
        return rx.toast.success(f"{name} was added to Inactive Portal Users. Select their name to send the invitation.")
