"""Customer-side approvals: quantity increases above a monthly-cost threshold wait for a decision.

An Administrator sets the threshold (or turns approvals off). Every path that can raise the
monthly cost (Subscription Edit, a Future Change edit, a purchase now or scheduled, applying an
approval) asks the one hold rule, `gate_increase`: a Subscription Manager's increase that, added
to their other increases of the last APPROVAL_WINDOW and their requests awaiting approval,
exceeds the threshold becomes an ApprovalRequest instead of reaching Microsoft. An
Administrator or Finance Manager approves it (re-priced against Microsoft now, and applied
through the path it came from) or denies it with a reason; the requester may withdraw it while
pending. Approvers' own changes are not held.

State machine (every move a conditional UPDATE on the current status, so a double click or
two workers decide once):  pending -> approving -> applied | failed;  pending -> denied | withdrawn.
Everything is organization-scoped and written to Change Logs (each entry linked by
approval_request_id). Applying an approved request is the quantity change's job
(services/quantity_change.approve), which builds on this module: approvals never import it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from sqlalchemy import delete, func, update
from sqlmodel import Session, select

from opkalla_portal import clock
from opkalla_portal.db import session_scope
from opkalla_portal.models import (
    ApprovalPolicy,
    ApprovalRequest,
    ApprovalStatus,
    ChangeLogEntry,
    ChangeMode,
    ChangeResult,
    CostIncrease,
    Organization,
    PortalUser,
    mode_label,
    utcnow,
)
from opkalla_portal.services import notifications
from opkalla_portal.services.access import Capability, Identity, require
from opkalla_portal.services.audit import record_audit
from opkalla_portal.services.change_logs import log_change
from opkalla_portal.services.mail import queue_mail
from opkalla_portal.services.organizations import owned_row
from opkalla_portal.services.pricing import format_money, monthly_cost
from opkalla_portal.services.subscriptions import DONE, ChangeOutcome, Outcome, ServiceError
from opkalla_portal.services.validation import ValidationFailed, clean
from opkalla_portal.settings import load_settings

MAX_THRESHOLD = Decimal("1000000.00")
REASON_MAX = 500
TRANSITIONS: dict[str, frozenset[str]] = {
    ApprovalStatus.PENDING: frozenset({ApprovalStatus.APPROVING, ApprovalStatus.DENIED, ApprovalStatus.WITHDRAWN}),
    ApprovalStatus.APPROVING: frozenset({ApprovalStatus.APPLIED, ApprovalStatus.FAILED}),
}
STATUS_LABELS = {
    ApprovalStatus.PENDING: "Awaiting approval",
    ApprovalStatus.APPROVING: "Being applied",
    ApprovalStatus.APPLIED: "Approved and applied",
    ApprovalStatus.FAILED: "Approved, but failed",
    ApprovalStatus.DENIED: "Denied",
    ApprovalStatus.WITHDRAWN: "Withdrawn",
}
OPEN = (ApprovalStatus.PENDING, ApprovalStatus.APPROVING)


class ApprovalError(ServiceError):
    """A decision the service refuses; the message is safe to show."""

    code_default = "approval.refused"


# ---------------------------------------------------------------------- policy
def parse_threshold(text: object) -> Decimal:
    """A monthly amount in dollars and cents ("100", "$1,250.50"); ValueError with the message otherwise."""
    raw = clean(text).replace("$", "").replace(",", "").strip()
    if not raw:
        raise ValueError("Enter the monthly cost threshold, for example 100.00.")
    try:
        amount = Decimal(raw)
    except InvalidOperation:
        raise ValueError("Enter the threshold as an amount in dollars, for example 100.00.") from None
    if not amount.is_finite():
        raise ValueError("Enter the threshold as an amount in dollars, for example 100.00.")
    if amount < 0:
        raise ValueError("The threshold cannot be negative.")
    if amount > MAX_THRESHOLD:
        raise ValueError(f"The threshold must be at most {format_money(MAX_THRESHOLD)}.")
    if amount != amount.quantize(Decimal("0.01")):
        raise ValueError("Use at most two decimal places (cents).")
    return amount.quantize(Decimal("0.01"))


def _threshold(db: Session, organization_id: int) -> Decimal | None:
    policy = db.exec(select(ApprovalPolicy).where(ApprovalPolicy.organization_id == organization_id)).first()
    return policy.monthly_threshold if policy else None


def get_threshold(identity: Identity) -> Decimal | None:
    """The organization's threshold (None: approvals are off); approvers and Administrators may read it."""
    require(identity, Capability.APPROVALS)
    with session_scope() as db:
        return _threshold(db, identity.organization_id)


def set_threshold(identity: Identity, enabled: object, amount_text: object) -> Decimal | None:
    """Turn approvals on with a threshold, or off. Bad input raises ValidationFailed and changes nothing."""
    require(identity, Capability.APPROVAL_POLICY)
    amount: Decimal | None = None
    if enabled is True:
        try:
            amount = parse_threshold(amount_text)
        except ValueError as error:
            raise ValidationFailed({"threshold": str(error)}) from None
    with session_scope() as db:
        policy = db.exec(
            select(ApprovalPolicy).where(ApprovalPolicy.organization_id == identity.organization_id)
        ).first()
        policy = policy or ApprovalPolicy(organization_id=identity.organization_id)
        before = policy.monthly_threshold
        if before != amount or policy.id is None:
            policy.monthly_threshold, policy.updated_by_id, policy.updated_at = amount, identity.user_id, utcnow()
            db.add(policy)
            record_audit(
                db,
                identity,
                "approvals.threshold_changed",
                f"organization:{identity.organization_id}",
                {"monthly_threshold": str(before) if before is not None else "off"},
                {"monthly_threshold": str(amount) if amount is not None else "off"},
            )
    return amount


# ---------------------------------------------------------------- transitions
def transition(db: Session, request_id: int, organization_id: int, current: str, new: str, **values) -> bool:
    """Move a request from `current` to `new` if it is still `current`; False when someone was first.

    A move the state machine does not allow raises ApprovalError and touches nothing.
    """
    if new not in TRANSITIONS.get(current, frozenset()):
        raise ApprovalError(f"A request cannot go from {current} to {new}.", code="approval.transition")
    moved = db.exec(
        update(ApprovalRequest)
        .where(
            ApprovalRequest.id == request_id,
            ApprovalRequest.organization_id == organization_id,
            ApprovalRequest.status == current,
        )
        .values(status=new, **values)
    ).rowcount
    return moved == 1


def _own_request(db: Session, identity: Identity, request_id: object) -> ApprovalRequest:
    found = owned_row(db, ApprovalRequest, request_id, identity)
    if found is None:
        raise ApprovalError("This request was not found.", code="approval.not_found")
    return found


def _already_decided(db: Session, request_id: int) -> ApprovalError:
    status = db.exec(select(ApprovalRequest.status).where(ApprovalRequest.id == request_id)).one()
    return ApprovalError(
        f"This request is no longer awaiting approval ({STATUS_LABELS.get(status, status)}).", code="approval.decided"
    )


def log(db: Session, identity: Identity, request: ApprovalRequest, result: str, message: str) -> None:
    log_change(
        db,
        identity,
        request.organization_id,
        request.subscription_id,
        request.subscription_name,
        result=result,
        old_quantity=request.old_quantity,
        new_quantity=request.new_quantity,
        effective_mode=request.effective_mode,
        effective_date=request.effective_date,
        message=message,
        request_id=f"approval-{request.id}",
        approval_request_id=request.id,
    )


def _mail(
    db: Session, request: ApprovalRequest, kind: str, subject: str, body: str, user_ids: list[int] | None = None
) -> None:
    for user in notifications.recipients(db, request.organization_id, kind, user_ids=user_ids):
        queue_mail(
            db,
            organization_id=request.organization_id,
            to=user.email,
            subject=subject,
            body=f"Hello {user.first_name},\n\n{body}\n\nYou can turn these emails off in Profile.\n",
            kind=kind,
        )


def describe_change(request: ApprovalRequest) -> str:
    """ "Visio Plan 2 from 4 to 10 licenses immediately, adding $108.00 per month"."""
    when = mode_label(request.effective_mode).lower() if request.effective_mode != ChangeMode.CUSTOM else ""
    if request.effective_mode == ChangeMode.CUSTOM and request.effective_date:
        when = f"on {request.effective_date:%Y-%m-%d}"
    return (
        f"{request.subscription_name} from {request.old_quantity} to {request.new_quantity} licenses {when}, "
        f"adding {format_money(request.added_monthly_cost)} per month"
    )


# ------------------------------------------------------------------------ hold
# The hold rule adds up what one user's increases add per month over this window, so a big
# increase cannot be split into small ones (12 -> 15 -> 18 -> ...), nor slipped past the
# rule by editing a Future Change afterwards.
APPROVAL_WINDOW = timedelta(days=30)


@dataclass(frozen=True)
class Increase:
    """A change that may raise the monthly cost, described alike by every path that makes one:
    Subscription Edit, a Future Change edit, a purchase (now or scheduled), and an approval."""

    action: str  # quantity_change | purchase
    subscription_id: str  # "" for a purchase
    name: str
    old_quantity: int  # what the organization has now (0 for a purchase)
    new_quantity: int
    unit_price: Decimal  # per unit per month
    mode: str  # a ChangeMode
    effective_date: date | None
    source: str  # the change's request id: one ledger row per change, replaced when it is edited
    order: dict | None = None  # a purchase: what to order when approved
    replaces_change_id: int | None = None  # a Future Change edit: the change it replaces
    already_planned: Decimal = Decimal("0.00")  # a Future Change edit: what the change adds before it

    @property
    def added(self) -> Decimal:
        return monthly_cost(self.unit_price, max(self.new_quantity - self.old_quantity, 0))


def _window_total(db: Session, identity: Identity, source: str, since: datetime) -> tuple[Decimal, Decimal]:
    """(recent, waiting): what the user's other unapproved increases of the window and their
    requests still awaiting approval add per month."""
    recent = db.exec(
        select(func.coalesce(func.sum(CostIncrease.added_monthly_cost), 0)).where(
            CostIncrease.organization_id == identity.organization_id,
            CostIncrease.user_id == identity.user_id,
            CostIncrease.counted_at >= since,
            CostIncrease.source != source,
        )
    ).one()
    waiting = db.exec(
        select(func.coalesce(func.sum(ApprovalRequest.added_monthly_cost), 0)).where(
            ApprovalRequest.organization_id == identity.organization_id,
            ApprovalRequest.requested_by_id == identity.user_id,
            ApprovalRequest.status == ApprovalStatus.PENDING,
        )
    ).one()
    return Decimal(recent), Decimal(waiting)


def gate_increase(
    identity: Identity, increase: Increase, *, approved: Decimal | None = None, now: datetime | None = None
) -> ChangeOutcome | None:
    """THE hold rule, called by every path that can raise the monthly cost. None: go ahead.

    - `approved` (an approver applying a request): goes ahead only if, against Microsoft's state
      now, it adds no more than the approved amount; otherwise a "failed" outcome (re-ask).
    - An Administrator's or Finance Manager's own change, or one that adds nothing: goes ahead.
    - Otherwise the user's unapproved increases of the last APPROVAL_WINDOW, their requests
      awaiting approval and this increase are added up; above the organization's threshold it
      becomes an ApprovalRequest ("held"), else it is counted in the window and goes ahead.

    The policy row is locked (PostgreSQL) so two submits of one organization are decided one
    after the other; SQLite serializes writers itself.
    """
    added = increase.added
    if approved is not None:
        if added > approved:
            return ChangeOutcome(
                Outcome.FAILED,
                f"It now adds {format_money(added)} per month, more than the "
                f"{format_money(approved)} that was approved: the subscription or "
                f"its price changed since it was asked for. Ask again.",
            )
        return None
    if identity.can(Capability.APPROVALS):
        return None
    now = now or clock.now()
    with session_scope() as db:
        if added <= increase.already_planned:  # an edit that does not raise the cost
            db.exec(
                update(CostIncrease)
                .where(
                    CostIncrease.organization_id == identity.organization_id,
                    CostIncrease.source == increase.source,
                    CostIncrease.added_monthly_cost > added,
                )
                .values(added_monthly_cost=added)
            )
            return None
        policy = db.exec(
            select(ApprovalPolicy).where(ApprovalPolicy.organization_id == identity.organization_id).with_for_update()
        ).first()
        threshold = policy.monthly_threshold if policy else None
        counted = db.exec(
            select(CostIncrease).where(
                CostIncrease.organization_id == identity.organization_id, CostIncrease.source == increase.source
            )
        ).first()
        if added <= 0 or threshold is None:
            _count(db, identity, increase, counted, added, now)
            return None
        recent, waiting = _window_total(db, identity, increase.source, now - APPROVAL_WINDOW)
        total = recent + waiting + added
        if total <= threshold:
            _count(db, identity, increase, counted, added, now)
            return None
        if increase.subscription_id:
            other = db.exec(
                select(ApprovalRequest).where(
                    ApprovalRequest.organization_id == identity.organization_id,
                    ApprovalRequest.subscription_id == increase.subscription_id,
                    ApprovalRequest.status.in_(OPEN),
                )
            ).first()
            if other is not None:
                message = (
                    f"A request for this subscription ({other.old_quantity} → {other.new_quantity}) is "
                    f"already awaiting approval. Withdraw it in My Approval Requests before asking again."
                )
                return ChangeOutcome(Outcome.INVALID, message, {"form": message})
        request = ApprovalRequest(
            organization_id=identity.organization_id,
            subscription_id=increase.subscription_id,
            subscription_name=increase.name[:200],
            requested_by_id=identity.user_id,
            requested_by_name=identity.display_name[:200],
            old_quantity=increase.old_quantity,
            new_quantity=increase.new_quantity,
            effective_mode=increase.mode,
            effective_date=increase.effective_date if increase.mode == ChangeMode.CUSTOM else None,
            unit_price=increase.unit_price,
            added_monthly_cost=added,
            threshold=threshold,
            action=increase.action,
            order_json=json.dumps(increase.order) if increase.order else "",
            replaces_change_id=increase.replaces_change_id,
        )
        db.add(request)
        db.flush()
        why = f"adds {format_money(added)} per month"
        if total != added:
            why += (
                f"; with your other increases of the last {APPROVAL_WINDOW.days} days and requests "
                f"awaiting approval that is {format_money(total)}"
            )
        why += f", above your organization's approval threshold of {format_money(threshold)}"
        log(db, identity, request, ChangeResult.AWAITING_APPROVAL, f"Approval request #{request.id}: {why}.")
        verb = "buy" if increase.action == "purchase" else "change"
        _mail(
            db,
            request,
            notifications.APPROVAL_REQUESTS,
            f"Approval needed: {increase.name} {increase.old_quantity} → {increase.new_quantity} licenses",
            f"{identity.display_name} asked to {verb} {describe_change(request)}.\n"
            f"It needs approval because it {why}.\n\n"
            f"Approve or deny it: {load_settings().public_url}/approvals",
        )
    return ChangeOutcome(
        Outcome.HELD,
        f"Your change was sent for approval: it {why}. An Administrator or Finance "
        f"Manager will approve or deny it; nothing changes at Microsoft until then.",
    )


def _count(
    db: Session, identity: Identity, increase: Increase, counted: CostIncrease | None, added: Decimal, now: datetime
) -> None:
    """Record (or, for an edited change, replace) the increase in the user's window."""
    if counted is None:
        if added > 0:
            db.add(
                CostIncrease(
                    organization_id=identity.organization_id,
                    user_id=identity.user_id,
                    source=increase.source[:80],
                    added_monthly_cost=added,
                    counted_at=now,
                )
            )
    else:
        counted.added_monthly_cost, counted.counted_at = added, now
        db.add(counted)


def release_increase(organization_id: int, source: str) -> None:
    """A counted increase that Microsoft refused: it no longer counts in the window."""
    with session_scope() as db:
        db.exec(
            delete(CostIncrease).where(CostIncrease.organization_id == organization_id, CostIncrease.source == source)
        )


# ------------------------------------------------------------------- decisions
def _tell_requester(db: Session, request: ApprovalRequest, subject: str, body: str) -> None:
    _mail(db, request, notifications.APPROVAL_OUTCOMES, subject, body, user_ids=[request.requested_by_id])


def claim(identity: Identity, request_id: object, now: datetime) -> ApprovalRequest:
    """Approve's first step: pending -> approving, once, by an approver who is not the requester.
    Applying it is the quantity change's job (services/quantity_change.approve)."""
    require(identity, Capability.APPROVALS)
    with session_scope() as db:
        request = _own_request(db, identity, request_id)
        if request.requested_by_id == identity.user_id:
            raise ApprovalError("You cannot approve your own request.", code="approval.own_request")
        if not transition(
            db,
            request.id,
            identity.organization_id,
            ApprovalStatus.PENDING,
            ApprovalStatus.APPROVING,
            decided_by_id=identity.user_id,
            decided_by_name=identity.display_name[:200],
            decided_at=now,
        ):
            raise _already_decided(db, request.id)
        return request


def note(request: ApprovalRequest, approver_name: str) -> str:
    """Prefix of the Change Logs message of an approved request (the link is approval_request_id)."""
    return f"Approval request #{request.id} from {request.requested_by_name}, approved by {approver_name}. "


def finish(identity: Identity, request: ApprovalRequest, outcome: ChangeOutcome, *, logged: bool) -> ApprovalRequest:
    """Approve's last step: approving -> applied | failed, logged (unless the path logged it) and
    the requester told."""
    applied = outcome.status in DONE
    with session_scope() as db:
        transition(
            db,
            request.id,
            request.organization_id,
            ApprovalStatus.APPROVING,
            ApprovalStatus.APPLIED if applied else ApprovalStatus.FAILED,
            outcome=outcome.message[:1000],
        )
        if not logged:
            log(db, identity, request, ChangeResult.FAILED, note(request, identity.display_name) + outcome.message)
        verdict = "approved and applied" if applied else "approved, but it could not be applied"
        _tell_requester(
            db,
            request,
            f"Your request was {verdict}: {request.subscription_name}",
            f"{identity.display_name} approved your request to change {describe_change(request)}.\n{outcome.message}",
        )
        return db.get(ApprovalRequest, request.id)


# A worker that stops between claiming an approval and recording its outcome leaves the request
# "approving". After this long the scheduler loop finishes it (quantity_change.resume_interrupted).
APPLY_TIMEOUT = timedelta(minutes=10)


def approver(db: Session, request: ApprovalRequest) -> Identity | None:
    """The approver as an Identity, to finish their decision on their behalf."""
    user = db.get(PortalUser, request.decided_by_id) if request.decided_by_id else None
    organization = db.get(Organization, request.organization_id)
    if user is None or organization is None:
        return None
    return Identity(
        user_id=user.id,
        organization_id=organization.id,
        role=user.web_role,
        display_name=request.decided_by_name or user.display_name,
        email=user.email,
        tenant_id=organization.tenant_id,
        organization_name=organization.name,
    )


def recorded_outcome(db: Session, request: ApprovalRequest) -> ChangeLogEntry | None:
    """The Change Logs entry of applying this request, if one was written."""
    return db.exec(
        select(ChangeLogEntry).where(
            ChangeLogEntry.organization_id == request.organization_id,
            ChangeLogEntry.approval_request_id == request.id,
            ChangeLogEntry.result.not_in((ChangeResult.AWAITING_APPROVAL, ChangeResult.DENIED, ChangeResult.WITHDRAWN)),
        )
    ).first()


def clean_reason(text: object) -> str:
    """The denial reason, required and at most REASON_MAX characters; ValueError with the message otherwise."""
    reason = clean(text)
    if not reason:
        raise ValueError("Enter a reason, so the requester knows why.")
    if len(reason) > REASON_MAX:
        raise ValueError(f"The reason must be at most {REASON_MAX} characters.")
    return reason


def deny(identity: Identity, request_id: object, reason_text: object) -> ApprovalRequest:
    """Deny with a required reason; nothing reaches Microsoft."""
    require(identity, Capability.APPROVALS)
    try:
        reason = clean_reason(reason_text)
    except ValueError as error:
        raise ValidationFailed({"reason": str(error)}) from None
    with session_scope() as db:
        request = _own_request(db, identity, request_id)
        if request.requested_by_id == identity.user_id:
            raise ApprovalError("You cannot decide your own request.", code="approval.own_request")
        if not transition(
            db,
            request.id,
            identity.organization_id,
            ApprovalStatus.PENDING,
            ApprovalStatus.DENIED,
            decided_by_id=identity.user_id,
            decided_by_name=identity.display_name[:200],
            decided_at=utcnow(),
            reason=reason,
        ):
            raise _already_decided(db, request.id)
        log(
            db,
            identity,
            request,
            ChangeResult.DENIED,
            f"Approval request #{request.id} from {request.requested_by_name} denied: {reason}",
        )
        _tell_requester(
            db,
            request,
            f"Your request was denied: {request.subscription_name}",
            f"{identity.display_name} denied your request to change {describe_change(request)}.\nReason: {reason}",
        )
        return db.get(ApprovalRequest, request.id)


def withdraw(identity: Identity, request_id: object) -> ApprovalRequest:
    """The requester takes back a request that is still pending."""
    require(identity, Capability.SERVICES)
    with session_scope() as db:
        request = _own_request(db, identity, request_id)
        if request.requested_by_id != identity.user_id:
            raise ApprovalError("This request was not found.", code="approval.not_found")
        if not transition(
            db,
            request.id,
            identity.organization_id,
            ApprovalStatus.PENDING,
            ApprovalStatus.WITHDRAWN,
            decided_at=utcnow(),
        ):
            raise _already_decided(db, request.id)
        log(
            db, identity, request, ChangeResult.WITHDRAWN, f"Approval request #{request.id} withdrawn by the requester."
        )
        return db.get(ApprovalRequest, request.id)


# --------------------------------------------------------------------- listings
def open_requests(identity: Identity) -> list[ApprovalRequest]:
    """Requests waiting for a decision (or being applied), oldest first."""
    require(identity, Capability.APPROVALS)
    with session_scope() as db:
        return list(
            db.exec(
                select(ApprovalRequest)
                .where(ApprovalRequest.organization_id == identity.organization_id, ApprovalRequest.status.in_(OPEN))
                .order_by(ApprovalRequest.created_at, ApprovalRequest.id)
            ).all()
        )


def decided_requests(identity: Identity, limit: int = 20) -> list[ApprovalRequest]:
    """The latest decisions, newest first."""
    require(identity, Capability.APPROVALS)
    with session_scope() as db:
        return list(
            db.exec(
                select(ApprovalRequest)
                .where(ApprovalRequest.organization_id == identity.organization_id, ApprovalRequest.status.not_in(OPEN))
                .order_by(ApprovalRequest.decided_at.desc(), ApprovalRequest.id.desc())
                .limit(limit)
            ).all()
        )


def my_requests(identity: Identity, limit: int = 50) -> list[ApprovalRequest]:
    """The identity's own requests, newest first."""
    require(identity, Capability.SERVICES)
    with session_scope() as db:
        return list(
            db.exec(
                select(ApprovalRequest)
                .where(
                    ApprovalRequest.organization_id == identity.organization_id,
                    ApprovalRequest.requested_by_id == identity.user_id,
                )
                .order_by(ApprovalRequest.created_at.desc(), ApprovalRequest.id.desc())
                .limit(limit)
            ).all()
        )
