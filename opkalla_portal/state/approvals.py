"""Approvals: the threshold (Administrators), pending requests to approve or deny, recent decisions.
(A Subscription Manager's own requests are My Approval Requests: state/approval_requests.py.)"""

from __future__ import annotations

import reflex as rx

from opkalla_portal.models import ApprovalStatus, ChangeMode, mode_label
from opkalla_portal.services import approvals as service
from opkalla_portal.services import quantity_change
from opkalla_portal.services.access import Capability, Identity
from opkalla_portal.services.errors import PortalError
from opkalla_portal.services.pricing import format_money
from opkalla_portal.services.validation import ValidationFailed
from opkalla_portal.state.base import PortalState, guarded
from opkalla_portal.state.deltas import assign_changed


def request_row(request) -> dict[str, str]:
    """One request as the tables show it (only the caller's organization's rows ever get here)."""
    when = mode_label(request.effective_mode)
    if request.effective_mode == ChangeMode.CUSTOM and request.effective_date:
        when = f"Custom, {request.effective_date:%Y-%m-%d}"
    return {
        "id": str(request.id),
        "created": f"{request.created_at:%Y-%m-%d %H:%M}",
        "requester": request.requested_by_name,
        "subscription": request.subscription_name,
        "subscription_id": request.subscription_id,
        "quantity": f"{request.old_quantity} → {request.new_quantity}",
        "when": when,
        "added": format_money(request.added_monthly_cost),
        "threshold": format_money(request.threshold),
        "status": service.STATUS_LABELS.get(request.status, request.status),
        "status_key": request.status,
        "decided_by": request.decided_by_name,
        "decided": f"{request.decided_at:%Y-%m-%d %H:%M}" if request.decided_at else "",
        "detail": request.reason if request.status == ApprovalStatus.DENIED else request.outcome,
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
        assign_changed(self, pending=[request_row(r) for r in service.open_requests(identity)])
        assign_changed(self, decided=[request_row(r) for r in service.decided_requests(identity)])

    def _show_policy(self, threshold) -> None:
        self.approvals_on = threshold is not None
        self.threshold = f"{threshold:.2f}" if threshold is not None else ""
        self.policy_summary = (
            f"Quantity increases adding more than {format_money(threshold)} per month need approval."
            if threshold is not None
            else "Approvals are off: changes apply without approval."
        )

    @guarded(Capability.APPROVALS)
    def load(self, identity: Identity):
        self.can_set_policy = identity.can(Capability.APPROVAL_POLICY)
        self._show_policy(service.get_threshold(identity))
        self.threshold_error, self.decision_action, self.decision_request = "", "", {}
        self._refresh(identity)
        self.loading = False

    # ------------------------------------------------------------------ policy
    @guarded(Capability.APPROVAL_POLICY)
    def set_approvals_on(self, identity: Identity, value: bool):
        self.approvals_on = value is True
        self.threshold_error = ""

    @guarded(Capability.APPROVAL_POLICY)
    def set_threshold(self, identity: Identity, value: str):
        self.threshold = str(value or "")[:20]
        self.threshold_error = ""

    @guarded(Capability.APPROVAL_POLICY)
    def save_policy(self, identity: Identity):
        """Save settings: the threshold (validated beside the field) or off."""
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
    @guarded(Capability.APPROVALS)
    def open_decision(self, identity: Identity, request_id: str, action: str):
        """Approve… / Deny…: the confirmation dialog for one pending request."""
        row = next(
            (r for r in self.pending if r["id"] == str(request_id) and r["status_key"] == ApprovalStatus.PENDING), None
        )
        if row is None or action not in ("approve", "deny"):
            return None
        self.decision_action, self.decision_request = action, row
        self.reason, self.reason_error = "", ""

    @guarded(Capability.APPROVALS)
    def close_decision(self, identity: Identity, _open: bool = False):
        if not self.deciding:
            self.decision_action, self.decision_request = "", {}

    @guarded(Capability.APPROVALS)
    def set_reason(self, identity: Identity, value: str):
        self.reason = str(value or "")[: service.REASON_MAX + 50]
        self.reason_error = ""

    @guarded(Capability.APPROVALS, background=True)
    async def confirm_decision(self, identity: Identity):
        """Approve (applies it through Subscription Edit's path) or Deny (reason required); once."""
        async with self:
            if self.deciding or not self.decision_request:
                return None
            self.deciding = True
            action, request_id, reason = self.decision_action, self.decision_request["id"], self.reason
        toast, error_field = None, ""
        try:
            if action == "approve":
                decided = await quantity_change.approve(identity, request_id)
                text = f"Approved. {decided.outcome}"
                toast = rx.toast.success(text) if decided.status == ApprovalStatus.APPLIED else rx.toast.error(text)
            else:
                service.deny(identity, request_id, reason)
                toast = rx.toast.success("The request was denied and the requester was told why.")
        except ValidationFailed as failed:
            error_field = failed.errors.get("reason", "")
        except PortalError as failure:  # the dialog closes and the lists refresh either way
            toast = rx.toast.error(failure.message)
        async with self:
            self.deciding = False
            if error_field:
                self.reason_error = error_field
                return None
            self.decision_action, self.decision_request = "", {}
            self._refresh(identity)
            return toast
