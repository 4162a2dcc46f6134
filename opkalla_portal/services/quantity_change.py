"""Quantity changes: Subscription Edit and Future Changes, from preview to Microsoft.

One module owns the whole life of a change of seats: the preview the form shows while it is
typed (price effect, the day it takes effect), the New Commerce validation, the submit
(through the approvals hold rule), applying it now or scheduling it, editing and cancelling
a Future Change, and applying a request an approver approved. It builds on
services/subscriptions.py (the subscription as loaded) and services/approvals.py (the hold
rule and the request's state machine); neither imports it back.

Microsoft enforces New Commerce rules itself; they are checked here first so the user learns
why before submitting, and is offered "On Renewal" instead.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import update
from sqlmodel import select

from opkalla_portal import clock
from opkalla_portal.db import session_scope
from opkalla_portal.microsoft.errors import ConflictError, MicrosoftError
from opkalla_portal.models import (
    ApprovalRequest,
    ApprovalStatus,
    ChangeLogEntry,
    ChangeMode,
    ChangeResult,
    ScheduledChange,
    ScheduledPurchase,
    ScheduledStatus,
)
from opkalla_portal.services import approvals, intents, orders, tenant_cache
from opkalla_portal.services.access import Capability, Identity, require
from opkalla_portal.services.catalog import load_catalog, unit_price_for
from opkalla_portal.services.change_logs import applying_approval, log_change
from opkalla_portal.services.errors import PortalError, microsoft_errors
from opkalla_portal.services.microsoft_clients import microsoft
from opkalla_portal.services.organizations import owned_row
from opkalla_portal.services.pricing import PriceEffect, monthly_cost, price_effect
from opkalla_portal.services.read_back import read_back
from opkalla_portal.services.subscriptions import (
    DONE,
    ChangeOutcome,
    EditableSubscription,
    Outcome,
    ServiceError,
    load_subscription,
    load_subscription_in_scope,
    parse_date,
    parse_quantity,
)

CONFLICT_MESSAGE = (
    "This subscription was changed by someone else since you opened it. Review the current values and submit again."
)


class FieldMessage(str):
    """A field's error message with the code the page decides by (e.g. offer "On Renewal")."""

    code: str

    def __new__(cls, message: str, code: str) -> FieldMessage:
        made = super().__new__(cls, message)
        made.code = code
        return made

    def __reduce__(self):
        return FieldMessage, (str(self), self.code)


# What a page may offer beside a refused field.
REDUCE_ON_RENEWAL = "change.reduce_on_renewal"  # seats can only go down at renewal now
LICENSES_ASSIGNED = "change.licenses_assigned"  # unassign licenses first (Manage Licenses)


def codes_of(errors: dict[str, str]) -> dict[str, str]:
    """field -> code of the errors that carry one."""
    return {name: message.code for name, message in errors.items() if isinstance(message, FieldMessage)}


# ------------------------------------------------------------------ preview
@dataclass(frozen=True)
class Preview:
    """What the form shows while the quantity is typed: when it takes effect and what it costs."""

    mode: ChangeMode
    effective: date
    effect: PriceEffect


def effective_day(sub: EditableSubscription, mode: ChangeMode, date_text: object, today: date) -> date:
    """The day a change in `mode` takes effect (a Custom date not chosen yet: today)."""
    if mode == ChangeMode.ON_RENEWAL:
        return sub.renewal_day
    if mode == ChangeMode.CUSTOM:
        return parse_date(date_text) or today
    return today


def preview(
    sub: EditableSubscription, quantity_text: object, mode: object, date_text: object, *, today: date
) -> Preview | None:
    """The price effect of what the form says now; None while the quantity is not a number."""
    quantity = parse_quantity(quantity_text)
    if quantity is None or sub.is_usage_based:
        return None
    chosen = ChangeMode(mode) if mode in ChangeMode._value2member_map_ else ChangeMode.IMMEDIATELY
    effective = effective_day(sub, chosen, date_text, today)
    effect = price_effect(
        sub.unit_price,
        sub.quantity,
        quantity,
        sub.term_duration,
        today=today,
        effective=effective,
        term_start=sub.term_start,
        term_end=sub.term_end,
    )
    return Preview(chosen, effective, effect)


# ------------------------------------------------------------------ validation
@dataclass(frozen=True)
class ChangeRequest:
    quantity: int
    mode: ChangeMode
    effective_date: date  # when it takes effect (today, the renewal day, or the custom date)


def validate_change(
    sub: EditableSubscription, quantity_text: object, mode: object, date_text: object, *, now: datetime
) -> tuple[dict[str, str], ChangeRequest | None]:
    """Field errors (by "quantity", "mode", "effective_date", "form") or the parsed request."""
    today = now.date()
    errors: dict[str, str] = {}
    if sub.status != "active":
        return {"form": f"This subscription is {sub.status}; its quantity cannot change."}, None
    if sub.is_usage_based:
        return {"form": "An Azure plan is billed by usage and has no quantity to change."}, None
    mode = str(mode or "")
    if mode not in ChangeMode._value2member_map_:
        errors["mode"] = "Choose when the change takes effect."
    quantity = parse_quantity(quantity_text)
    if quantity is None:
        errors["quantity"] = "Enter the quantity as a whole number, for example 25."
    elif quantity < max(1, sub.minimum_quantity):
        errors["quantity"] = f"The quantity must be at least {max(1, sub.minimum_quantity)}."
    elif sub.assigned is not None and quantity < sub.assigned:
        errors["quantity"] = FieldMessage(
            f"{sub.assigned} licenses are assigned to users. Unassign licenses in "
            f"Manage Licenses before reducing below {sub.assigned}.",
            LICENSES_ASSIGNED,
        )
    elif quantity > sub.maximum_quantity:
        errors["quantity"] = f"The maximum quantity for this offer is {sub.maximum_quantity}."
    elif quantity == sub.quantity and not (
        mode == ChangeMode.ON_RENEWAL and sub.renewal_quantity not in (None, quantity)
    ):
        errors["quantity"] = f"The quantity is already {sub.quantity}. Enter a different quantity."
    renewal_day = sub.renewal_day
    effective = today
    decrease = quantity is not None and quantity < sub.quantity
    if mode == ChangeMode.IMMEDIATELY and decrease and "quantity" not in errors and not sub.in_window(now):
        errors["mode"] = FieldMessage(
            f"Seats can only be reduced within 7 days of purchase or renewal; that window "
            f"ended on {sub.window_ends_at:%Y-%m-%d}. Choose On Renewal to reduce seats on "
            f"{renewal_day:%Y-%m-%d}.",
            REDUCE_ON_RENEWAL,
        )
    if mode == ChangeMode.ON_RENEWAL:
        effective = renewal_day
        if not sub.auto_renew:
            errors["mode"] = "Auto-renew is off for this subscription, so there is no renewal to change."
    if mode == ChangeMode.CUSTOM:
        chosen = parse_date(date_text)
        if chosen is None:
            errors["effective_date"] = "Choose an Effective Date."
        elif chosen < today:
            errors["effective_date"] = "The Effective Date cannot be in the past."
        elif chosen > sub.term_end:
            errors["effective_date"] = (
                f"The Effective Date must be on or before the end of the current term, "
                f"{sub.term_end:%Y-%m-%d}. Choose On Renewal for a change at renewal."
            )
        elif decrease and datetime.combine(chosen, datetime.min.time(), UTC) > sub.window_ends_at:
            errors["effective_date"] = FieldMessage(
                f"Seats can only be reduced within 7 days of purchase or renewal (until "
                f"{sub.window_ends_at:%Y-%m-%d}). Choose On Renewal to reduce seats on {renewal_day:%Y-%m-%d}.",
                REDUCE_ON_RENEWAL,
            )
        else:
            effective = chosen
    if errors:
        return errors, None
    return {}, ChangeRequest(
        quantity=quantity,
        mode=ChangeMode(mode),  # type: ignore[arg-type]
        effective_date=effective,
    )


# ----------------------------------------------------------------- submit and apply
async def patch_quantity(customer_id: str, subscription: dict, quantity: int, request_id: str) -> dict:
    """Set the seat count (absolute, so a repeat is harmless) with the change's own `request_id`
    (MS-RequestId), so a retry after a crash is recognisably the same request."""
    try:
        return await microsoft().partner_center.change_quantity(
            customer_id, subscription, quantity, request_id=request_id
        )
    finally:  # even unanswered: it may have happened
        tenant_cache.invalidate(customer_id, tenant_cache.SUBSCRIPTIONS)


async def submit_change(
    identity: Identity,
    subscription_id: object,
    quantity_text: object,
    mode: object,
    date_text: object,
    expected_etag: object,
    *,
    now: datetime | None = None,
) -> ChangeOutcome:
    """Apply, or schedule, a quantity change the user submitted from Subscription Edit."""
    require(identity, Capability.SERVICES)
    now = now or clock.now()
    sub = await load_subscription(identity, subscription_id)
    if sub.etag != str(expected_etag or ""):
        return ChangeOutcome(Outcome.CONFLICT, CONFLICT_MESSAGE, subscription=sub)
    errors, change = validate_change(sub, quantity_text, mode, date_text, now=now)
    if change is None:
        return ChangeOutcome(Outcome.INVALID, errors.get("form", "Check the highlighted fields."), errors, sub)
    request_id = str(uuid.uuid4())
    held = approvals.gate_increase(identity, increase_of(sub, change, request_id), now=now)
    if held is not None:
        held.subscription = sub
        return held
    outcome = await apply_change(identity, sub, change, request_id=request_id)
    if outcome.status not in DONE:
        approvals.release_increase(identity.organization_id, request_id)
    return outcome


def increase_of(
    sub: EditableSubscription, change: ChangeRequest, source: str, *, replaces_change_id: int | None = None
) -> approvals.Increase:
    """The change as the hold rule sees it: seats added to what Microsoft has now, at its price."""
    return approvals.Increase(
        action="quantity_change",
        subscription_id=sub.id,
        name=sub.name,
        old_quantity=sub.quantity,
        new_quantity=change.quantity,
        unit_price=sub.unit_price,
        mode=change.mode,
        effective_date=change.effective_date,
        source=source,
        replaces_change_id=replaces_change_id,
    )


async def apply_change(
    identity: Identity, sub: EditableSubscription, change: ChangeRequest, *, note: str = "", request_id: str = ""
) -> ChangeOutcome:
    """Make a validated change at Microsoft (or schedule it), logged as acted by `identity`.

    Callers check permission, and the hold rule, first: the Subscription Edit submit, or an
    approver's Approve.
    """
    request_id = request_id or str(uuid.uuid4())
    common = dict(
        old_quantity=sub.quantity,
        new_quantity=change.quantity,
        effective_mode=change.mode,
        effective_date=change.effective_date,
        request_id=request_id,
    )
    if change.mode == ChangeMode.IMMEDIATELY:
        # Committed before the PATCH: a process that dies after Microsoft acted leaves it pending,
        # and services/intents.reconcile writes the Change Logs entry from Microsoft's state.
        intents.begin(
            identity,
            intents.QUANTITY_CHANGE,
            request_id,
            {
                "subscription_id": sub.id,
                "name": sub.name,
                "old_quantity": sub.quantity,
                "new_quantity": change.quantity,
                "effective_date": change.effective_date.isoformat(),
                "note": note,
            },
        )
        try:
            await patch_quantity(identity.tenant_id, sub.raw, change.quantity, request_id)
        except MicrosoftError as error:
            if not await _carried_out(identity.tenant_id, sub.raw, quantity=change.quantity):
                intents.fail(request_id, error.message)
                return await _not_done(identity, sub, error, "change the quantity", log=common, note=note)
        await intents.pause_for_kill_test(intents.QUANTITY_CHANGE)
        with session_scope() as db:
            if intents.finish(db, request_id):  # else a reconciler recorded it already
                log_change(
                    db,
                    identity,
                    identity.organization_id,
                    sub.id,
                    sub.name,
                    result=ChangeResult.SUCCEEDED,
                    message=note.strip(),
                    **common,
                )
        return ChangeOutcome(Outcome.SUCCEEDED, f"{sub.name} now has {change.quantity} licenses.")

    if change.mode == ChangeMode.ON_RENEWAL:
        try:
            await microsoft().partner_center.set_renewal_instructions(
                identity.tenant_id, sub.raw, quantity=change.quantity
            )
        except MicrosoftError as error:
            if not await _carried_out(identity.tenant_id, sub.raw, renewal_quantity=change.quantity):
                return await _not_done(identity, sub, error, "accept the renewal change")
        finally:
            tenant_cache.invalidate(identity.tenant_id, tenant_cache.SUBSCRIPTIONS)
    with session_scope() as db:
        renewal = change.mode == ChangeMode.ON_RENEWAL
        replaced = _supersede_pending(db, identity, sub.id, change.mode) if renewal else 0
        scheduled = ScheduledChange(
            organization_id=identity.organization_id,
            subscription_id=sub.id,
            subscription_name=sub.name[:200],
            created_by_id=identity.user_id,
            old_quantity=sub.quantity,
            new_quantity=change.quantity,
            effective_mode=change.mode,
            due_date=change.effective_date,
            request_id=request_id,
        )
        db.add(scheduled)
        db.flush()
        log_change(
            db,
            identity,
            identity.organization_id,
            sub.id,
            sub.name,
            result=ChangeResult.SCHEDULED,
            scheduled_change_id=scheduled.id,
            message=(note + ("Replaces the earlier renewal change." if replaced else "")).strip(),
            **common,
        )
    when = "at renewal on" if change.mode == ChangeMode.ON_RENEWAL else "on"
    return ChangeOutcome(
        Outcome.SCHEDULED,
        f"{sub.name} will change to {change.quantity} licenses {when} "
        f"{change.effective_date:%Y-%m-%d}. See Future Changes.",
    )


async def _carried_out(customer_id: str, sent: dict, **expected: int) -> bool:
    """After a failed PATCH: did Microsoft carry it out all the same? An attempt whose answer
    was lost (a timeout) may have been done, and its retry then fails on the changed etag.
    Reads the subscription back: changed since `sent` and now holding `expected`
    (quantity and/or renewal_quantity). False when Microsoft cannot tell us either."""
    now = await read_back(lambda: microsoft().partner_center.get_subscription(customer_id, sent["id"]))
    if now is None:
        return False
    held = {
        "quantity": now.get("quantity"),
        "renewal_quantity": (now.get("scheduledNextTermInstructions") or {}).get("quantity"),
    }
    etag_changed = (now.get("attributes") or {}).get("etag") != (sent.get("attributes") or {}).get("etag")
    return etag_changed and all(held[name] == value for name, value in expected.items())


async def _not_done(
    identity: Identity,
    sub: EditableSubscription,
    error: MicrosoftError,
    what: str,
    *,
    log: dict | None = None,
    note: str = "",
) -> ChangeOutcome:
    """Microsoft refused the change, or met a newer version (conflict); `log`: record the refusal.

    `note` prefixes the Change Logs message (an approved request says who approved it)."""
    if isinstance(error, ConflictError):
        return ChangeOutcome(
            Outcome.CONFLICT, CONFLICT_MESSAGE, subscription=await load_subscription_in_scope(identity, sub.id)
        )
    message = (error.detail if error.code else error.message) or error.message
    if log is not None:
        with session_scope() as db:
            log_change(
                db,
                identity,
                identity.organization_id,
                sub.id,
                sub.name,
                result=ChangeResult.FAILED,
                message=f"{note}{message}",
                **log,
            )
    return ChangeOutcome(Outcome.FAILED, f"Microsoft did not {what}: {message}", subscription=sub)


def _supersede_pending(db, identity: Identity, subscription_id: str, mode: str) -> int:
    """A new renewal instruction replaces Microsoft's previous one: cancel ours too."""
    old = db.exec(
        select(ScheduledChange).where(
            ScheduledChange.organization_id == identity.organization_id,
            ScheduledChange.subscription_id == subscription_id,
            ScheduledChange.effective_mode == mode,
            ScheduledChange.status == ScheduledStatus.PENDING,
        )
    ).all()
    for change in old:
        change.status = ScheduledStatus.CANCELLED
        change.last_error = "Replaced by a newer renewal change."
        db.add(change)
        _log_cancelled(db, identity, change, message="Replaced by a newer renewal change.")
    return len(old)


# ------------------------------------------------------------ future changes
OPEN_STATUSES = (ScheduledStatus.PENDING, ScheduledStatus.APPLYING, ScheduledStatus.FAILED)


def future_changes(identity: Identity) -> list[ScheduledChange]:
    """Scheduled changes still to happen, and those that finally failed, by due date."""
    require(identity, Capability.SERVICES)
    with session_scope() as db:
        return list(
            db.exec(
                select(ScheduledChange)
                .where(
                    ScheduledChange.organization_id == identity.organization_id,
                    ScheduledChange.status.in_(OPEN_STATUSES),
                )
                .order_by(ScheduledChange.due_date, ScheduledChange.id)
            ).all()
        )


def _own_change(db, identity: Identity, change_id: object) -> ScheduledChange:
    change = owned_row(db, ScheduledChange, change_id, identity)
    if change is None:
        raise ServiceError("This change was not found.", code="change.not_found")
    return change


async def cancel_future_change(identity: Identity, change_id: object) -> ScheduledChange:
    """Cancel a pending (or finally failed) change; a renewal change is withdrawn at Microsoft too."""
    require(identity, Capability.SERVICES)
    with session_scope() as db:
        change = _own_change(db, identity, change_id)
        was_pending = change.status == ScheduledStatus.PENDING
        # Claim it first, so the scheduler cannot start applying it meanwhile.
        claimed = db.exec(
            update(ScheduledChange)
            .where(
                ScheduledChange.id == change.id,
                ScheduledChange.status.in_((ScheduledStatus.PENDING, ScheduledStatus.FAILED)),
            )
            .values(status=ScheduledStatus.CANCELLED)
        ).rowcount
    if claimed != 1:
        raise ServiceError("This change is being applied now and can no longer be cancelled.", code="change.applying")
    if change.effective_mode == ChangeMode.ON_RENEWAL and was_pending:
        try:
            pc = microsoft().partner_center
            sub = await pc.get_subscription(identity.tenant_id, change.subscription_id)
            if (sub.get("scheduledNextTermInstructions") or {}).get("quantity") == change.new_quantity:
                try:
                    await pc.clear_renewal_instructions(identity.tenant_id, sub)
                finally:
                    tenant_cache.invalidate(identity.tenant_id, tenant_cache.SUBSCRIPTIONS)
        except MicrosoftError as error:
            if await _renewal_still_held(identity.tenant_id, change):  # the answer may only have been lost
                with session_scope() as db:  # keep it: Microsoft still has the instruction
                    db.exec(
                        update(ScheduledChange)
                        .where(ScheduledChange.id == change.id)
                        .values(status=ScheduledStatus.PENDING)
                    )
                raise ServiceError(
                    f"Microsoft did not withdraw the renewal change: {error.message}", code="change.microsoft_refused"
                ) from error
    with session_scope() as db:
        _log_cancelled(db, identity, change)
    if change.request_id:
        approvals.release_increase(identity.organization_id, change.request_id)  # a cancelled change adds nothing
    return change


async def _renewal_still_held(customer_id: str, change: ScheduledChange) -> bool:
    """Does Microsoft still hold this change's renewal quantity? (True when it cannot tell.)"""
    sub = await read_back(lambda: microsoft().partner_center.get_subscription(customer_id, change.subscription_id))
    if sub is None:
        return True
    return (sub.get("scheduledNextTermInstructions") or {}).get("quantity") == change.new_quantity


async def edit_future_change(
    identity: Identity, change_id: object, quantity_text: object, date_text: object, *, now: datetime | None = None
) -> tuple[dict[str, str], ScheduledChange | None]:
    """Change the quantity (and, for Custom, the date) of a pending change; field errors if invalid."""
    require(identity, Capability.SERVICES)
    return await apply_future_change_edit(identity, change_id, quantity_text, date_text, now=now or clock.now())


async def apply_future_change_edit(
    identity: Identity,
    change_id: object,
    quantity_text: object,
    date_text: object,
    *,
    now: datetime,
    approved=None,
    note: str = "",
) -> tuple[dict[str, str], ScheduledChange | None]:
    """Edit a pending Future Change through the hold rule; `approved`: an approver applies a held
    edit (the rule then re-checks its price against Microsoft now). Callers check permission.

    A held edit leaves the change as it was and answers {"held": message}."""
    with session_scope() as db:
        change = _own_change(db, identity, change_id)
    if change.status != ScheduledStatus.PENDING:
        raise ServiceError("Only pending changes can be edited.", code="change.not_pending")
    if not change.subscription_id:  # a scheduled purchase: no subscription exists yet
        return await _edit_scheduled_purchase(
            identity, change, quantity_text, date_text, now=now, approved=approved, note=note
        )
    sub = await load_subscription_in_scope(identity, change.subscription_id)
    # Validate against the live subscription, as if submitted anew (a pending renewal
    # quantity may be re-set to the current quantity).
    probe = replace(sub, renewal_quantity=-1) if change.effective_mode == ChangeMode.ON_RENEWAL else sub
    errors, request = validate_change(probe, quantity_text, change.effective_mode, date_text, now=now)
    if request is None:
        return errors, None
    # The edit counts as the whole increase over what Microsoft has now, replacing the change's
    # earlier count: 12 -> 13 edited to 300 is +288 seats, not +1 then an unchecked edit.
    increase = replace(
        increase_of(sub, request, change.request_id or f"change-{change.id}", replaces_change_id=change.id),
        already_planned=monthly_cost(sub.unit_price, max(change.new_quantity - sub.quantity, 0)),
    )
    held = approvals.gate_increase(identity, increase, approved=approved, now=now)
    if held is not None:
        return ({"held": held.message} if held.status == Outcome.HELD else {"form": held.message}), None
    if change.effective_mode == ChangeMode.ON_RENEWAL:
        try:
            await microsoft().partner_center.set_renewal_instructions(
                identity.tenant_id, sub.raw, quantity=request.quantity
            )
        except MicrosoftError as error:
            return {"form": f"Microsoft did not accept the renewal change: {error.message}"}, None
        finally:
            tenant_cache.invalidate(identity.tenant_id, tenant_cache.SUBSCRIPTIONS)
    with session_scope() as db:
        updated = db.exec(
            update(ScheduledChange)
            .where(ScheduledChange.id == change.id, ScheduledChange.status == ScheduledStatus.PENDING)
            .values(new_quantity=request.quantity, due_date=request.effective_date, old_quantity=sub.quantity)
        ).rowcount
        if updated != 1:
            raise ServiceError("This change is being applied now and can no longer be edited.", code="change.applying")
        log_change(
            db,
            identity,
            identity.organization_id,
            change.subscription_id,
            change.subscription_name,
            result=ChangeResult.SCHEDULED,
            old_quantity=sub.quantity,
            new_quantity=request.quantity,
            effective_mode=change.effective_mode,
            effective_date=request.effective_date,
            scheduled_change_id=change.id,
            request_id=change.request_id,
            message=f"{note}Edited: was {change.new_quantity} on {change.due_date:%Y-%m-%d}.",
        )
        return {}, db.get(ScheduledChange, change.id)


async def _edit_scheduled_purchase(
    identity: Identity,
    change: ScheduledChange,
    quantity_text: object,
    date_text: object,
    *,
    now: datetime,
    approved=None,
    note: str = "",
) -> tuple[dict[str, str], ScheduledChange | None]:
    with session_scope() as db:
        purchase = db.exec(select(ScheduledPurchase).where(ScheduledPurchase.scheduled_change_id == change.id)).one()
    with microsoft_errors():
        catalog = await load_catalog()
    product = catalog.get(purchase.offer_id)
    maximum = product.maximum_quantity if product else 10000
    errors: dict[str, str] = {}
    quantity = parse_quantity(quantity_text)
    if quantity is None:
        errors["quantity"] = "Enter the quantity as a whole number, for example 10."
    elif not 1 <= quantity <= maximum:
        errors["quantity"] = f"The quantity must be between 1 and {maximum}."
    today = now.date()
    start = parse_date(date_text)
    if start is None:
        errors["effective_date"] = "Choose an Effective Start Date."
    elif start < today:
        errors["effective_date"] = "The Effective Start Date cannot be in the past."
    elif start > today + orders.MAX_START_AHEAD:
        errors["effective_date"] = f"The Effective Start Date must be by {today + orders.MAX_START_AHEAD:%Y-%m-%d}."
    if errors:
        return errors, None
    price = unit_price_for(catalog, purchase.offer_id, purchase.term_duration, purchase.billing_cycle)
    increase = approvals.Increase(
        action="purchase",
        subscription_id="",
        name=change.subscription_name,
        old_quantity=0,
        new_quantity=quantity,
        unit_price=price if price is not None else Decimal("0.00"),
        mode=ChangeMode.CUSTOM,
        effective_date=start,
        source=change.request_id or f"change-{change.id}",
        order={"scheduled_change_id": change.id, "quantity": quantity, "start": start.isoformat()},
        replaces_change_id=change.id,
        already_planned=monthly_cost(price or Decimal("0.00"), change.new_quantity),
    )
    held = approvals.gate_increase(identity, increase, approved=approved, now=now)
    if held is not None:
        return ({"held": held.message} if held.status == Outcome.HELD else {"form": held.message}), None
    with session_scope() as db:
        updated = db.exec(
            update(ScheduledChange)
            .where(ScheduledChange.id == change.id, ScheduledChange.status == ScheduledStatus.PENDING)
            .values(new_quantity=quantity, due_date=start)
        ).rowcount
        if updated != 1:
            raise ServiceError("This order is being placed now and can no longer be edited.", code="change.applying")
        log_change(
            db,
            identity,
            identity.organization_id,
            "",
            change.subscription_name,
            action="purchase",
            result=ChangeResult.SCHEDULED,
            old_quantity=0,
            new_quantity=quantity,
            effective_mode=ChangeMode.CUSTOM,
            effective_date=start,
            scheduled_change_id=change.id,
            request_id=change.request_id,
            message=f"{note}Edited: was {change.new_quantity} on {change.due_date:%Y-%m-%d}.",
        )
        return {}, db.get(ScheduledChange, change.id)


# ------------------------------------------------------------ approved requests
async def approve(identity: Identity, request_id: object, *, now: datetime | None = None) -> ApprovalRequest:
    """Approve: claim the request, re-validate it against Microsoft now and apply it once."""
    now = now or clock.now()
    request = approvals.claim(identity, request_id, now)
    return await _apply_approved(identity, request, now)


async def _apply_approved(
    identity: Identity, request: ApprovalRequest, now: datetime, *, resumed: bool = False
) -> ApprovalRequest:
    """Re-validate the approved change against Microsoft now (the hold rule re-checks its price),
    apply it through its own path and record the outcome. Every Change Logs entry written
    meanwhile is linked to the request."""
    note = approvals.note(request, identity.display_name)
    outcome, logged = None, False
    with applying_approval(request.id):
        try:
            if request.action == "purchase" and request.replaces_change_id is None:
                outcome, logged = await _apply_approved_purchase(identity, request, note, now), True
            elif request.replaces_change_id is not None:
                outcome, logged = await _apply_approved_edit(identity, request, note, now)
            else:
                outcome, logged = await _apply_approved_change(identity, request, note, now, resumed=resumed)
        except (PortalError, MicrosoftError) as error:
            outcome = ChangeOutcome(Outcome.FAILED, f"It could not be applied: {getattr(error, 'message', str(error))}")
        return approvals.finish(identity, request, outcome, logged=logged)


async def _apply_approved_change(
    identity: Identity, request: ApprovalRequest, note: str, now: datetime, *, resumed: bool
) -> tuple[ChangeOutcome, bool]:
    sub = await load_subscription_in_scope(identity, request.subscription_id)
    date_text = request.effective_date.isoformat() if request.effective_date else ""
    errors, change = validate_change(sub, str(request.new_quantity), request.effective_mode, date_text, now=now)
    if (
        resumed
        and change is None
        and request.effective_mode == ChangeMode.IMMEDIATELY
        and sub.quantity == request.new_quantity
    ):
        # The interrupted attempt reached Microsoft before the portal could record it.
        with session_scope() as db:
            approvals.log(
                db,
                identity,
                request,
                ChangeResult.SUCCEEDED,
                note + "Completed at Microsoft before the portal was interrupted.",
            )
        return ChangeOutcome(Outcome.SUCCEEDED, f"{sub.name} now has {sub.quantity} licenses."), True
    if change is None:
        reason = " ".join(message for message in errors.values() if message)
        return ChangeOutcome(Outcome.FAILED, f"It is no longer valid: {reason}"), False
    stale = approvals.gate_increase(
        identity, increase_of(sub, change, f"approval-{request.id}"), approved=request.added_monthly_cost, now=now
    )
    if stale is not None:
        return stale, False
    outcome = await apply_change(identity, sub, change, note=note)
    return outcome, outcome.status != Outcome.FAILED or change.mode == ChangeMode.IMMEDIATELY


async def _apply_approved_purchase(
    identity: Identity, request: ApprovalRequest, note: str, now: datetime
) -> ChangeOutcome:
    placed = await orders.place_approved_order(
        identity,
        json.loads(request.order_json or "{}"),
        approved=request.added_monthly_cost,
        note=note,
        today=now.date(),
    )
    if placed.status in (Outcome.FAILED, Outcome.INVALID):
        with session_scope() as db:  # orders logs what Microsoft refused; log the refusals before it
            if not db.exec(
                select(ChangeLogEntry.id).where(
                    ChangeLogEntry.organization_id == request.organization_id,
                    ChangeLogEntry.approval_request_id == request.id,
                    ChangeLogEntry.result == ChangeResult.FAILED,
                )
            ).first():
                approvals.log(db, identity, request, ChangeResult.FAILED, note + placed.message)
        return ChangeOutcome(Outcome.FAILED, placed.message)
    return ChangeOutcome(placed.status, placed.message)


async def _apply_approved_edit(
    identity: Identity, request: ApprovalRequest, note: str, now: datetime
) -> tuple[ChangeOutcome, bool]:
    """A held Future Change edit: edit that change, as the requester asked, if it is still pending."""
    date_text = (
        request.effective_date.isoformat()
        if request.effective_date
        else json.loads(request.order_json or "{}").get("start", "")
    )
    with session_scope() as db:
        change = db.get(ScheduledChange, request.replaces_change_id)
        if change is not None and not date_text:
            date_text = change.due_date.isoformat()
    errors, edited = await apply_future_change_edit(
        identity,
        request.replaces_change_id,
        str(request.new_quantity),
        date_text,
        now=now,
        approved=request.added_monthly_cost,
        note=note,
    )
    if edited is None:
        reason = " ".join(message for message in errors.values() if message)
        return ChangeOutcome(Outcome.FAILED, f"It is no longer valid: {reason}"), False
    return ChangeOutcome(
        Outcome.SCHEDULED,
        f"{edited.subscription_name} will change to {edited.new_quantity} "
        f"licenses on {edited.due_date:%Y-%m-%d}. See Future Changes.",
    ), True


async def resume_interrupted(now: datetime | None = None) -> int:
    """Finish approvals left "approving" by a stopped worker; returns how many were finished.

    If the request's Change Logs entry exists (linked by approval_request_id), its result is the
    outcome. Otherwise the change is applied again: quantities are absolute, so an immediate
    change Microsoft already made is seen and only recorded, never bought twice. Each request is
    re-claimed with a conditional UPDATE of its decided_at, so two workers never finish the same one.
    """
    now = now or clock.now()
    with session_scope() as db:
        stale = db.exec(
            select(ApprovalRequest).where(
                ApprovalRequest.status == ApprovalStatus.APPROVING,
                ApprovalRequest.decided_at < now - approvals.APPLY_TIMEOUT,
            )
        ).all()
    finished = 0
    for request in stale:
        with session_scope() as db:
            claimed = (
                db.exec(
                    update(ApprovalRequest)
                    .where(
                        ApprovalRequest.id == request.id,
                        ApprovalRequest.status == ApprovalStatus.APPROVING,
                        ApprovalRequest.decided_at == request.decided_at,
                    )
                    .values(decided_at=now)
                ).rowcount
                == 1
            )
            approver = approvals.approver(db, request) if claimed else None
            recorded = approvals.recorded_outcome(db, request)
            if claimed and (approver is None or recorded is not None):
                applied = recorded is not None and recorded.result in (ChangeResult.SUCCEEDED, ChangeResult.SCHEDULED)
                approvals.transition(
                    db,
                    request.id,
                    request.organization_id,
                    ApprovalStatus.APPROVING,
                    ApprovalStatus.APPLIED if applied else ApprovalStatus.FAILED,
                    outcome=(recorded.message if recorded else "The approver's account no longer exists.")[:1000],
                )
                finished += 1
                continue
        if claimed:
            await _apply_approved(approver, request, now, resumed=True)
            finished += 1
    return finished


def _log_cancelled(db, identity: Identity, change: ScheduledChange, **fields) -> None:
    """The Change Logs entry of a Future Change that will not happen (cancelled or replaced)."""
    log_change(
        db,
        identity,
        identity.organization_id,
        change.subscription_id,
        change.subscription_name,
        result=ChangeResult.CANCELLED,
        old_quantity=change.old_quantity,
        new_quantity=change.new_quantity,
        effective_mode=change.effective_mode,
        effective_date=change.due_date,
        scheduled_change_id=change.id,
        request_id=change.request_id,
        **fields,
    )
