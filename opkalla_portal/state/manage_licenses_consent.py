"""Manage Licenses, its consent part: the pop-up asking a Global Admin for Microsoft's consent,
a request for approval from anyone else, and the Global Admins' decisions on those requests."""

from __future__ import annotations

import json
from typing import TypedDict

import reflex as rx

from opkalla_portal.db import session_scope
from opkalla_portal.services import consent
from opkalla_portal.services.access import Capability, Identity
from opkalla_portal.settings import load_settings
from opkalla_portal.state.base import guarded

CONSENT_NOTICES = {
    "granted": ("success", "Consent granted. You can now manage your organization's licenses."),
    "declined": ("error", "Consent was not granted, so licenses cannot be managed yet."),
    "invalid": ("error", "This consent link is no longer valid, or was started by someone else. Please try again."),
}


class RequestRow(TypedDict):
    id: int
    requester: str
    email: str
    justification: str
    created: str


class LicenseConsent(rx.State, mixin=True):
    """The consent part of Manage Licenses' state (state/manage_licenses.py)."""

    # Consent
    consent_checked: bool = False
    consent_granted: bool = False
    consent_dialog_open: bool = False
    can_grant: bool = False
    my_request_status: str = ""
    my_request_reason: str = ""
    pending_requests: list[RequestRow] = []
    justification: str = ""
    justification_error: str = ""
    consent_notice: str = ""
    consent_notice_kind: str = ""
    redirecting: bool = False
    deny_request_id: int = 0
    deny_requester: str = ""
    deny_reason: str = ""
    deny_error: str = ""

    def _refresh_consent(self, identity) -> None:
        with session_scope() as db:
            status = consent.consent_status(db, identity)
        self.consent_checked = True
        self.consent_granted = status.granted
        self.consent_dialog_open = not status.granted
        self.can_grant = status.can_grant
        self.my_request_status = status.my_request_status
        self.my_request_reason = status.my_request_reason
        self.pending_requests = [
            RequestRow(
                id=r.id,
                requester=r.requester_name,
                email=r.requester_email,
                justification=r.justification,
                created=r.created_at.strftime("%b %d, %Y %H:%M UTC"),
            )
            for r in status.pending_requests
        ]

    @guarded(Capability.LICENSES)
    def set_consent_dialog_open(self, identity: Identity, is_open: bool):
        self.consent_dialog_open = bool(is_open) and not self.consent_granted

    @guarded(Capability.LICENSES)
    def set_justification(self, identity: Identity, value: str):
        self.justification = value[:2000] if isinstance(value, str) else ""
        self.justification_error = ""

    @guarded(Capability.LICENSES)
    def request_approval(self, identity: Identity, form_data: dict | None = None):
        """A non-Global-Admin sends the justification to the Global Admins."""
        text = self.justification
        if isinstance(form_data, dict) and isinstance(form_data.get("justification"), str):
            text = form_data["justification"]
        try:
            with session_scope() as db:
                consent.request_approval(db, identity, text, portal_url=load_settings().public_url)
        except consent.ConsentError as error:  # shown under the justification
            self.justification_error = error.message
            return None
        self.justification = ""
        self._refresh_consent(identity)
        return None

    @guarded(Capability.LICENSES)
    async def grant_consent(self, identity: Identity):
        """A Global Admin goes to Microsoft's admin-consent page (and comes back to the callback);
        anyone else is refused by the service."""
        with session_scope() as db:
            url = consent.begin_admin_consent(db, identity, public_url=load_settings().public_url)
        self.redirecting = True
        # A full navigation (rx.redirect would route same-origin URLs inside the app).
        return rx.call_script(f"window.location.assign({json.dumps(url)})")

    @guarded(Capability.LICENSES)
    def open_deny(self, identity: Identity, request_id: int):
        match = next((r for r in self.pending_requests if r["id"] == request_id), None)
        if match is None:
            return rx.toast.error("That request could not be found.")
        self.deny_request_id, self.deny_requester = match["id"], match["requester"]
        self.deny_reason, self.deny_error = "", ""
        return None

    @guarded(Capability.LICENSES)
    def set_deny_open(self, identity: Identity, is_open: bool):
        if not is_open:
            self.deny_request_id = 0

    @guarded(Capability.LICENSES)
    def set_deny_reason(self, identity: Identity, value: str):
        self.deny_reason = value[:2000] if isinstance(value, str) else ""
        self.deny_error = ""

    @guarded(Capability.LICENSES)
    def deny(self, identity: Identity, form_data: dict | None = None):
        """A Global Admin denies a pending request with a reason (anyone else is refused by the service)."""
        reason = self.deny_reason
        if isinstance(form_data, dict) and isinstance(form_data.get("reason"), str):
            reason = form_data["reason"]
        try:
            with session_scope() as db:
                consent.deny_request(db, identity, self.deny_request_id, reason)
        except consent.ConsentError as error:  # shown under the reason
            self.deny_error = error.message
            return None
        requester = self.deny_requester
        self.deny_request_id = 0
        self._refresh_consent(identity)
        return rx.toast.success(f"Request from {requester} denied. They have been told by email.")
