"""Manage Users, User Edit and the Outbox: UI state and the handlers the browser may call.

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
from opkalla_portal.services.access import WEB_ROLES, Capability, PermissionDenied
from opkalla_portal.services.validation import ValidationFailed, clean
from opkalla_portal.state.base import PortalState, refused

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
    held_mail_viewer: bool = False  # the deployment shows held emails (the demo)
    outbox_link: bool = False  # held emails to see, or the provider's administrators (failed deliveries)
    invite_open: bool = False
    invite_errors: dict[str, str] = {}
    inviting: bool = False

    def _refresh(self, identity) -> None:
        lists = user_service.list_users(identity, self.search)
        self.active_users = [UserRow(**row) for row in lists["active"]]
        self.inactive_users = [UserRow(**row) for row in lists["inactive"]]
        self.loaded = True

    @rx.event
    def load(self):
        try:
            identity = self._require(Capability.USERS)
        except PermissionDenied:
            return None  # refused: PortalState.guard, which runs first, has already redirected
        self.held_mail_viewer = deployment.current().held_mail_viewer
        self.outbox_link = self.held_mail_viewer or mail_service.is_provider_admin(identity)
        self._refresh(identity)

    @rx.event
    def set_search(self, value: str):
        try:
            identity = self._require(Capability.USERS)
        except PermissionDenied as error:
            return refused(error)
        self.search = clean(value)[:100]
        self._refresh(identity)

    @rx.event
    def set_invite_open(self, is_open: bool):
        try:
            self._require(Capability.USERS)
        except PermissionDenied as error:
            return refused(error)
        self.invite_open = is_open is True
        self.invite_errors = {}

    @rx.event
    def submit_invite(self, form_data: dict):
        """Invite User → Submit: creates the inactive user; messages appear beside bad fields."""
        try:
            identity = self._require(Capability.USERS)
        except PermissionDenied as error:
            return refused(error)
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
    held_mail_viewer: bool = False
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

    @rx.event
    def load(self):
        try:
            identity = self._require(Capability.USERS)
        except PermissionDenied:
            return None  # refused: PortalState.guard, which runs first, has already redirected
        self.held_mail_viewer = deployment.current().held_mail_viewer
        self._show(identity, self.router.url.query_parameters.get("id", ""))

    @rx.event
    def set_selected_role(self, role: str):
        try:
            self._require(Capability.USERS)
        except PermissionDenied as error:
            return refused(error)
        if role in WEB_ROLES:
            self.selected_role = role

    def _apply(self, identity, action, success: str):
        """Run one change for the shown user (re-loaded under the identity's organization)."""
        if not self.user_id:
            return rx.toast.error("Select a user on Manage Users first.")
        try:
            result = action()
        except (user_service.UserNotFound, user_service.NotAllowed) as error:
            self._show(identity, self.user_id)
            return rx.toast.error(str(error))
        self._show(identity, self.user_id)
        return rx.toast.success(success.format(name=self.name, result=result))

    @rx.event
    def associate(self):
        """Associate: assign the chosen web role."""
        try:
            identity = self._require(Capability.USERS)
        except PermissionDenied as error:
            return refused(error)
        role = self.selected_role
        if role not in WEB_ROLES:
            return rx.toast.error("Choose one of the web roles first.")
        return self._apply(identity, lambda: user_service.associate_role(identity, self.user_id, role),
                           "{name} is now " + role + ".")

    @rx.event
    def enable_portal_access(self):
        """Enable Portal Access: email the invitation link."""
        try:
            identity = self._require(Capability.USERS)
        except PermissionDenied as error:
            return refused(error)
        return self._apply(identity, lambda: user_service.enable_portal_access(identity, self.user_id),
                           "Invitation sent to {result}.")

    @rx.event
    def deactivate(self):
        """Turn off portal access; the user's sessions end at once."""
        try:
            identity = self._require(Capability.USERS)
        except PermissionDenied as error:
            return refused(error)
        return self._apply(identity, lambda: user_service.deactivate_user(identity, self.user_id),
                           "{name} can no longer sign in.")


class OutboxState(PortalState):
    """The organization's outbound emails where the deployment shows them (the demo follows an
    invitation link there), and failed deliveries for the provider's administrators."""

    mails: list[OutboxRow] = []
    # The provider's administrators only (checked by services.mail on every call): messages of
    # every organization that could not be delivered after all retries.
    failed: list[FailedMailRow] = []
    sees_failed: bool = False
    held_mail_viewer: bool = False
    loaded: bool = False

    @rx.event
    def load(self):
        try:
            identity = self._require(Capability.USERS)
        except PermissionDenied:
            return None  # refused: PortalState.guard, which runs first, has already redirected
        self.held_mail_viewer = deployment.current().held_mail_viewer
        self.mails = [OutboxRow(**row) for row in user_service.outbox(identity)]
        self._load_failed(identity)
        self.loaded = True

    def _load_failed(self, identity) -> None:
        try:
            self.failed = [FailedMailRow(**row) for row in mail_service.failed_deliveries(identity)]
            self.sees_failed = True
        except PermissionDenied:
            self.failed, self.sees_failed = [], False

    @rx.event
    def retry_delivery(self, mail_id: int):
        try:
            identity = self._require(Capability.USERS)
            queued = mail_service.retry_delivery(identity, mail_id)
        except PermissionDenied as error:
            return refused(error)
        self._load_failed(identity)
        if not queued:
            return rx.toast.error("This email is no longer waiting for a retry.")
        return rx.toast.success("The email will be sent again.")
