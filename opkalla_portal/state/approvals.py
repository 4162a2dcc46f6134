"""Approvals: the threshold (Administrators), pending requests to approve or deny, recent decisions;
and My Approval Requests (a Subscription Manager's own requests, withdraw while pending)."""

from __future__ import annotations

import reflex as rx

from opkalla_portal.services import approvals as service
from opkalla_portal.services.access import Capability, PermissionDenied
from opkalla_portal.services.pricing import format_money
from opkalla_portal.services.validation import ValidationFailed
from opkalla_portal.state.base import PortalState, refused


def request_row(request) -> dict[str, str]:
    """One request as the tables show it (only the caller's organization's rows ever get here)."""
    when = {"immediately": "Immediately", "on_renewal": "On Renewal"}.get(request.effective_mode, "Custom")
    if request.effective_mode == "custom" and request.effective_date:
        when = f"Custom, {request.effective_date:%Y-%m-%d}"
    return {
        "id": str(request.id), "created": f"{request.created_at:%Y-%m-%d %H:%M}",
        "requester": request.requested_by_name, "subscription": request.subscription_name,
        "subscription_id": request.subscription_id,
        "quantity": f"{request.old_quantity} → {request.new_quantity}", "when": when,
        "added": format_money(request.added_monthly_cost), "threshold": format_money(request.threshold),
        "status": service.STATUS_LABELS.get(request.status, request.status), "status_key": request.status,
        "decided_by": request.decided_by_name,
        "decided": f"{request.decided_at:%Y-%m-%d %H:%M}" if request.decided_at else "",
        "detail": request.reason if request.status == "denied" else request.outcome,
    }


class ApprovalsState(PortalState):
    loading: bool = True
    can_set_policy: bool = False
    policy_summary: str = ""
    approvals_on: bool = False
    threshold: str = ""
    threshold_error: str = ""
    saving_policy: bool = False
    pending: list[dict[str, str]] = []
    decided: list[dict[str, str]] = []
    decision_action: str = ""  # approve | deny, while the dialog is open
    decision_request: dict[str, str] = {}
    reason: str = ""
    reason_error: str = ""
    deciding: bool = False

    def _refresh(self, identity) -> None:
        self.pending = [request_row(r) for r in service.open_requests(identity)]
        self.decided = [request_row(r) for r in service.decided_requests(identity)]

    def _show_policy(self, threshold) -> None:
        self.approvals_on = threshold is not None
        self.threshold = f"{threshold:.2f}" if threshold is not None else ""
        self.policy_summary = (f"Quantity increases adding more than {format_money(threshold)} per month need "
                               f"approval." if threshold is not None else "Approvals are off: changes apply "
                                                                           "without approval.")

    @rx.event
    def load(self):
        try:
            identity = self._require(Capability.APPROVALS)
        except PermissionDenied:
            return None  # on_load: the page guard already redirects (sign-in or not allowed)
        self.can_set_policy = identity.can(Capability.APPROVAL_POLICY)
        self._show_policy(service.get_threshold(identity))
        self.threshold_error, self.decision_action, self.decision_request = "", "", {}
        self._refresh(identity)
        self.loading = False

    # ------------------------------------------------------------------ policy
    def _policy_denied(self):
        try:
            self._require(Capability.APPROVAL_POLICY)
        except PermissionDenied as error:
            return refused(error)
        return None

    @rx.event
    def set_approvals_on(self, value: bool):
        if (refusal := self._policy_denied()) is not None:
            return refusal
        self.approvals_on = value is True
        self.threshold_error = ""

    @rx.event
    def set_threshold(self, value: str):
        if (refusal := self._policy_denied()) is not None:
            return refusal
        self.threshold = str(value or "")[:20]
        self.threshold_error = ""

    @rx.event
    def save_policy(self):
        """Save settings: the threshold (validated beside the field) or off."""
        try:
            identity = self._require(Capability.APPROVAL_POLICY)
        except PermissionDenied as error:
            return refused(error)
        if self.saving_policy:
            return None
        try:
            saved = service.set_threshold(identity, self.approvals_on, self.threshold)
        except ValidationFailed as failed:
            self.threshold_error = failed.errors.get("threshold", "")
            return rx.toast.error("The approval settings were not saved. Correct the threshold.")
        self._show_policy(saved)
        self.threshold_error = ""
        return rx.toast.success("The approval settings were saved.")

    # --------------------------------------------------------------- decisions
    @rx.event
    def open_decision(self, request_id: str, action: str):
        """Approve… / Deny…: the confirmation dialog for one pending request."""
        try:
            self._require(Capability.APPROVALS)
        except PermissionDenied as error:
            return refused(error)
        row = next((r for r in self.pending if r["id"] == str(request_id) and r["status_key"] == "pending"), None)
        if row is None or action not in ("approve", "deny"):
            return None
        self.decision_action, self.decision_request = action, row
        self.reason, self.reason_error = "", ""

    @rx.event
    def close_decision(self, _open: bool = False):
        if not self.deciding:
            self.decision_action, self.decision_request = "", {}

    @rx.event
    def set_reason(self, value: str):
        try:
            self._require(Capability.APPROVALS)
        except PermissionDenied as error:
            return refused(error)
        self.reason = str(value or "")[:service.REASON_MAX + 50]
        self.reason_error = ""

    @rx.event(background=True)
    async def confirm_decision(self):
        """Approve (applies it through Subscription Edit's path) or Deny (reason required); once."""
        async with self:
            try:
                identity = self._require(Capability.APPROVALS)
            except PermissionDenied as error:
                return refused(error)
            if self.deciding or not self.decision_request:
                return None
            self.deciding = True
            action, request_id, reason = self.decision_action, self.decision_request["id"], self.reason
        toast, error_field = None, ""
        try:
            if action == "approve":
                decided = await service.approve(identity, request_id)
                text = f"Approved. {decided.outcome}"
                toast = rx.toast.success(text) if decided.status == "applied" else rx.toast.error(text)
            else:
                service.deny(identity, request_id, reason)
                toast = rx.toast.success("The request was denied and the requester was told why.")
        except ValidationFailed as failed:
            error_field = failed.errors.get("reason", "")
        except service.ApprovalError as failure:
            toast = rx.toast.error(str(failure))
        async with self:
            self.deciding = False
            if error_field:
                self.reason_error = error_field
                return None
            self.decision_action, self.decision_request = "", {}
            self._refresh(identity)
            return toast


class MyApprovalRequestsState(PortalState):
    loading: bool = True
    rows: list[dict[str, str]] = []

    @rx.event
    def load(self):
        try:
            identity = self._require(Capability.SERVICES)
        except PermissionDenied:
            return None  # on_load: the page guard already redirects
        self.rows = [request_row(r) for r in service.my_requests(identity)]
        self.loading = False

    @rx.event
    def withdraw(self, request_id: str):
        """Withdraw (after the confirmation dialog): only the requester's own pending request."""
        try:
            identity = self._require(Capability.SERVICES)
        except PermissionDenied as error:
            return refused(error)
        try:  # a second click finds it withdrawn already: the conditional update refuses it
            service.withdraw(identity, request_id)
            toast = rx.toast.success("The request was withdrawn.")
        except service.ApprovalError as failure:
            toast = rx.toast.error(str(failure))
        self.rows = [request_row(r) for r in service.my_requests(identity)]
        return toast
