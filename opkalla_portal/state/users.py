"""Manage Users, User Edit and the demo Outbox: UI state and the handlers the browser may call.

Every handler re-checks the session and Capability.USERS on the server; ids and values
arrive raw from the browser and are validated by services.users, which scopes everything
to the signed-in user's own organization.
"""

from __future__ import annotations

from typing import TypedDict

import reflex as rx

from opkalla_portal.services import mail as mail_service
from opkalla_portal.services import users as user_service
from opkalla_portal.services.access import WEB_ROLES, Capability, Identity
from opkalla_portal.services.validation import ValidationFailed, clean
from opkalla_portal.settings import load_settings
from opkalla_portal.state.base import PortalState, guarded

INVITE_FIELDS = ("first_name", "last_name", "email")


class UserRow(TypedDict):
    id: int
    name: str
    email: str
    role: str
    status: str


class OutboxRow(TypedDict):
    id: int
    to: str
    subject: str
    body: str
    link: str
    created: str
    status: str


class FailedMailRow(TypedDict):
    id: int
    to: str
    subject: str
    organization: str
    attempts: int
    error: str
    created: str


class UsersState(PortalState):
    """The Manage Users page: the two lists, search, and the Invite User form."""

    active_users: list[UserRow] = []
    inactive_users: list[UserRow] = []
    search: str = ""
    loaded: bool = False
    demo_mode: bool = False
    outbox_link: bool = False  # demo mode, or the provider's administrators (failed deliveries)
    invite_open: bool = False
    invite_errors: dict[str, str] = {}
    inviting: bool = False

    def _refresh(self, identity) -> None:
        lists = user_service.list_users(identity, self.search)
        self.active_users = [UserRow(**row) for row in lists["active"]]
        self.inactive_users = [UserRow(**row) for row in lists["inactive"]]
        self.loaded = True

    @guarded(Capability.USERS)
    def load(self, identity: Identity):
        self.demo_mode = load_settings().demo_mode
        self.outbox_link = self.demo_mode or mail_service.is_provider_admin(identity)
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
    demo_mode: bool = False
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
        self.demo_mode = load_settings().demo_mode
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
        return self._apply(identity, lambda: user_service.associate_role(identity, self.user_id, role),
                           "{name} is now " + role + ".")

    @guarded(Capability.USERS)
    def enable_portal_access(self, identity: Identity):
        """Enable Portal Access: email the invitation link."""
        return self._apply(identity, lambda: user_service.enable_portal_access(identity, self.user_id),
                           "Invitation sent to {result}.")

    @guarded(Capability.USERS)
    def deactivate(self, identity: Identity):
        """Turn off portal access; the user's sessions end at once."""
        return self._apply(identity, lambda: user_service.deactivate_user(identity, self.user_id),
                           "{name} can no longer sign in.")


class OutboxState(PortalState):
    """Demo mode: the organization's outbound emails, so a demo can follow an invitation link."""

    mails: list[OutboxRow] = []
    # The provider's administrators only (checked by services.mail on every call): messages of
    # every organization that could not be delivered after all retries.
    failed: list[FailedMailRow] = []
    sees_failed: bool = False
    demo_mode: bool = False
    loaded: bool = False

    @guarded(Capability.USERS)
    def load(self, identity: Identity):
        self.demo_mode = load_settings().demo_mode
        self.mails = [OutboxRow(**row) for row in user_service.outbox(identity)]
        self._load_failed(identity)
        self.loaded = True

    def _load_failed(self, identity) -> None:
        self.sees_failed = mail_service.is_provider_admin(identity)
        self.failed = [FailedMailRow(**row) for row in mail_service.failed_deliveries(identity)] \
            if self.sees_failed else []

    @guarded(Capability.USERS)
    def retry_delivery(self, identity: Identity, mail_id: int):
        queued = mail_service.retry_delivery(identity, mail_id)
        self._load_failed(identity)
        if not queued:
            return rx.toast.error("This email is no longer waiting for a retry.")
        return rx.toast.success("The email will be sent again.")
