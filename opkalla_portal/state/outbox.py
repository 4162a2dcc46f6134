"""The Outbox: the organization's outbound emails (demo mode), and for the provider's
administrators the messages that could not be delivered."""

from __future__ import annotations

from typing import TypedDict

import reflex as rx

from opkalla_portal import deployment
from opkalla_portal.services import mail as mail_service
from opkalla_portal.services import users as user_service
from opkalla_portal.services.access import Capability, Identity
from opkalla_portal.state.base import PortalState, guarded


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


class OutboxState(PortalState):
    """The organization's outbound emails where the deployment shows them (the demo follows an
    invitation link there), and failed deliveries for the provider's administrators."""

    mails: list[OutboxRow] = []
    # The provider's administrators only (checked by services.mail on every call): messages of
    # every organization that could not be delivered after all retries.
    failed: list[FailedMailRow] = []
    sees_failed: bool = False
    held_mail_viewer: bool = False  # the deployment shows held emails (the demo)
    loaded: bool = False

    @guarded(Capability.USERS)
    def load(self, identity: Identity):
        self.held_mail_viewer = deployment.current().held_mail_viewer
        self.mails = [OutboxRow(**row) for row in user_service.outbox(identity)]
        self._load_failed(identity)
        self.loaded = True

    def _load_failed(self, identity) -> None:
        self.sees_failed = mail_service.is_provider_admin(identity)
        self.failed = (
            [FailedMailRow(**row) for row in mail_service.failed_deliveries(identity)] if self.sees_failed else []
        )

    @guarded(Capability.USERS)
    def retry_delivery(self, identity: Identity, mail_id: int):
        queued = mail_service.retry_delivery(identity, mail_id)
        self._load_failed(identity)
        if not queued:
            return rx.toast.error("This email is no longer waiting for a retry.")
        return rx.toast.success("The email will be sent again.")
