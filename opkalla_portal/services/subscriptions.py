"""My Services: the customer's subscriptions by Billing Contract and quantity changes.

Every function takes the acting identity, requires Capability.SERVICES and works only on
subscriptions mapped to the identity's own organization's billing contracts. Microsoft
enforces New Commerce rules itself; they are checked here first so the user learns why
before submitting, and is offered "On Renewal" instead.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from sqlalchemy import update
from sqlmodel import select

from opkalla_portal import clock
from opkalla_portal.db import session_scope
from opkalla_portal.microsoft.errors import AuthError, ConflictError, MicrosoftError, NotFoundError
from opkalla_portal.models import BillingContract, ChangeLogEntry, ContractSubscription, ScheduledChange
from opkalla_portal.services.access import Capability, Identity, require
from opkalla_portal.services import intents
from opkalla_portal.services.catalog import load_catalog, offer_key, unit_price_for
from opkalla_portal.services.errors import PortalError, microsoft_errors
from opkalla_portal.services.microsoft_clients import microsoft
from opkalla_portal.services.organizations import owned_row
from opkalla_portal.services.pricing import BILLING_LABELS, TERM_LABELS, monthly_cost
from opkalla_portal.services import tenant_cache
from opkalla_portal.services.read_back import read_back
from opkalla_portal.services.validation import is_ascii_digits

NEW_COMMERCE_WINDOW = timedelta(hours=168)
MODES = ("immediately", "on_renewal", "custom")
MODE_LABELS = {"immediately": "Immediately", "on_renewal": "On Renewal", "custom": "Custom"}
CONFLICT_MESSAGE = ("This subscription was changed by someone else since you opened it. "
                    "Review the current values and submit again.")


class ServiceError(PortalError):
    """A request the service refuses; the message is safe to show."""

    code_default = "subscription.refused"


def _parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    return datetime.fromisoformat(str(text).replace("Z", "+00:00"))


# ------------------------------------------------------------------ contracts
@dataclass(frozen=True)
class ContractOption:
    id: int
    label: str


def billing_contracts(identity: Identity) -> list[ContractOption]:
    """The organization's billing contracts, for the "Billing Contract" drop-down."""
    require(identity, Capability.SERVICES)
    with session_scope() as db:
        rows = db.exec(select(BillingContract).where(BillingContract.organization_id == identity.organization_id)
                       .order_by(BillingContract.number)).all()
        return [ContractOption(row.id, f"{row.name} ({row.number})") for row in rows]


def contract_in_scope(db, identity: Identity, contract_id: object) -> BillingContract:
    """The billing contract with this id, if it belongs to the identity's organization."""
    contract = owned_row(db, BillingContract, contract_id, identity)
    if contract is None:
        raise ServiceError("Choose a Billing Contract.")
    return contract


def owned_subscription_ids(db, identity: Identity) -> dict[str, int]:
    """subscription id -> billing contract id, for the organization's contracts only."""
    rows = db.exec(select(ContractSubscription.subscription_id, ContractSubscription.billing_contract_id)
                   .join(BillingContract, BillingContract.id == ContractSubscription.billing_contract_id)
                   .where(BillingContract.organization_id == identity.organization_id)).all()
    return {sid: cid for sid, cid in rows}


# -------------------------------------------------------------- subscriptions
@dataclass
class SubscriptionLine:
    """One row of My Services; add-ons hang under their base subscription."""

    id: str
    name: str
    quantity: int
    term: str
    billing: str
    renewal_date: date | None
    status: str
    unit_price: Decimal | None
    is_usage_based: bool
    parent_id: str | None
    addons: list["SubscriptionLine"] = field(default_factory=list)


def _line(sub: dict, catalog: dict) -> SubscriptionLine:
    end = _parse_time(sub.get("commitmentEndDate"))
    usage = sub.get("unitType") == "Usage-based"
    return SubscriptionLine(
        id=sub["id"], name=sub.get("friendlyName") or sub.get("offerName") or "Subscription",
        quantity=int(sub.get("quantity") or 0), term=TERM_LABELS.get(sub.get("termDuration", ""), ""),
        billing=BILLING_LABELS.get(sub.get("billingCycle", ""), ""),
        # Renews the day after the commitment ends (the day an "On Renewal" change takes effect).
        renewal_date=end.date() + timedelta(days=1) if end and sub.get("autoRenewEnabled") else None,
        status=str(sub.get("status", "")).capitalize(),
        unit_price=None if usage else unit_price_for(catalog, sub.get("offerId", ""), sub.get("termDuration", ""),
                                                     sub.get("billingCycle", "")),
        is_usage_based=usage, parent_id=sub.get("parentSubscriptionId"),
    )


async def tenant_subscriptions(tenant_id: str, *, fresh: bool = False) -> list[dict]:
    """Partner Center's subscriptions of a customer, for display: through the per-tenant cache
    (dropped whenever the portal changes a subscription or orders). Changes read fresh.

    `fresh`: from Microsoft now (My Services' own list: what it shows, or that Microsoft is
    unavailable), kept for the dashboard, insight and Usage Data that follow."""
    clients = microsoft()
    return await tenant_cache.cached(clients, tenant_id, tenant_cache.SUBSCRIPTIONS,
                                     lambda: clients.partner_center.list_subscriptions(tenant_id), fresh=fresh)


async def contract_subscriptions(identity: Identity, contract_id: object) -> list[SubscriptionLine]:
    """The contract's base subscriptions (with their add-ons nested), by name."""
    require(identity, Capability.SERVICES)
    with session_scope() as db:
        contract = contract_in_scope(db, identity, contract_id)
        owned = owned_subscription_ids(db, identity)
    in_contract = {sid for sid, cid in owned.items() if cid == contract.id}
    with microsoft_errors():
        subscriptions = await tenant_subscriptions(identity.tenant_id, fresh=True)
        catalog = await load_catalog()
    lines = {s["id"]: _line(s, catalog) for s in subscriptions
             if s["id"] in in_contract or (s.get("parentSubscriptionId") in in_contract and s["id"] not in owned)}
    bases = []
    for line in lines.values():
        parent = lines.get(line.parent_id or "")
        if parent is not None:
            parent.addons.append(line)
        else:
            bases.append(line)
    for line in bases:
        line.addons.sort(key=lambda a: a.name.lower())
    return sorted(bases, key=lambda b: b.name.lower())


@dataclass(frozen=True)
class EditableSubscription:
    """What Subscription Edit shows and checks against; `raw` is Partner Center's document."""

    id: str
    name: str
    contract_name: str
    quantity: int
    status: str
    is_usage_based: bool
    term_duration: str
    billing_cycle: str
    term_start: date
    term_end: date
    window_ends_at: datetime
    etag: str
    unit_price: Decimal
    minimum_quantity: int
    maximum_quantity: int
    auto_renew: bool
    renewal_quantity: int | None  # Microsoft's scheduled next-term quantity, if any
    assigned: int | None  # licenses in use (None when Graph could not tell us)
    assigned_note: str  # why the assigned check was skipped
    raw: dict = field(repr=False, compare=False, default_factory=dict)

    def in_window(self, at: datetime) -> bool:
        return at <= self.window_ends_at

    @property
    def minimum_allowed(self) -> int:
        return max(1, self.assigned or 0)


async def _assigned_licenses(tenant_id: str, subscription: dict) -> tuple[int | None, str]:
    """Seats of this subscription in use, from Graph; (None, reason) when Graph can't say."""
    try:
        skus = await microsoft().graph(tenant_id).subscribed_skus()
    except AuthError:
        return None, ("The check against licenses assigned to users was skipped: your organization has not "
                      "granted the portal access to Microsoft 365 yet (Manage Licenses).")
    except MicrosoftError:
        return None, "The check against licenses assigned to users was skipped: Microsoft 365 did not answer."
    sku = next((s for s in skus if subscription["id"] in (s.get("subscriptionIds") or [])), None)
    if sku is None:
        return None, ""
    enabled = int((sku.get("prepaidUnits") or {}).get("enabled", 0))
    consumed = int(sku.get("consumedUnits", 0))
    # Seats of the same SKU bought on other subscriptions also cover assigned users.
    other_seats = max(enabled - int(subscription.get("quantity") or 0), 0)
    return max(consumed - other_seats, 0), ""


async def load_subscription(identity: Identity, subscription_id: object) -> EditableSubscription:
    """A subscription of the identity's organization, fresh from Microsoft, with its price and limits."""
    require(identity, Capability.SERVICES)
    return await load_subscription_in_scope(identity, subscription_id)


async def load_subscription_in_scope(identity: Identity, subscription_id: object) -> EditableSubscription:
    """As load_subscription, for callers that checked their own capability (an approver)."""
    subscription_id = str(subscription_id or "")[:64]
    with session_scope() as db:
        owned = owned_subscription_ids(db, identity)
        contracts = {c.id: c.name for c in db.exec(select(BillingContract).where(
            BillingContract.organization_id == identity.organization_id)).all()}
    pc = microsoft().partner_center
    if not subscription_id:
        raise ServiceError("This subscription was not found.")
    try:
        sub = await pc.get_subscription(identity.tenant_id, subscription_id)
    except NotFoundError:
        raise ServiceError("This subscription was not found.") from None
    contract_id = owned.get(sub["id"]) or owned.get(sub.get("parentSubscriptionId") or "")
    if contract_id is None:
        raise ServiceError("This subscription was not found.")
    catalog = await load_catalog()
    product = catalog.get(offer_key(sub.get("offerId", "")))
    price = unit_price_for(catalog, sub.get("offerId", ""), sub.get("termDuration", ""), sub.get("billingCycle", ""))
    start = _parse_time(sub.get("effectiveStartDate")) or clock.now()
    end = _parse_time(sub.get("commitmentEndDate")) or start
    usage = sub.get("unitType") == "Usage-based"
    assigned, note = (None, "") if usage else await _assigned_licenses(identity.tenant_id, sub)
    instructions = sub.get("scheduledNextTermInstructions") or {}
    return EditableSubscription(
        id=sub["id"], name=sub.get("friendlyName") or sub.get("offerName") or "Subscription",
        contract_name=contracts.get(contract_id, ""), quantity=int(sub.get("quantity") or 0),
        status=str(sub.get("status", "")), is_usage_based=usage, term_duration=sub.get("termDuration", ""),
        billing_cycle=sub.get("billingCycle", ""), term_start=start.date(), term_end=end.date(),
        window_ends_at=start + NEW_COMMERCE_WINDOW, etag=(sub.get("attributes") or {}).get("etag", ""),
        unit_price=price if price is not None else Decimal("0.00"),
        minimum_quantity=product.minimum_quantity if product else 1,
        maximum_quantity=product.maximum_quantity if product else 10000,
        auto_renew=bool(sub.get("autoRenewEnabled")), renewal_quantity=instructions.get("quantity"),
        assigned=assigned, assigned_note=note, raw=sub,
    )


# ------------------------------------------------------------------ validation
@dataclass(frozen=True)
class ChangeRequest:
    quantity: int
    mode: str
    effective_date: date  # when it takes effect (today, the renewal day, or the custom date)


def parse_quantity(text: object) -> int | None:
    raw = str(text if text is not None else "").strip().replace(",", "")
    if not is_ascii_digits(raw) or len(raw) > 6:
        return None
    return int(raw)


def parse_date(text: object) -> date | None:
    try:
        return date.fromisoformat(str(text or "").strip()[:10])
    except ValueError:
        return None


def validate_change(sub: EditableSubscription, quantity_text: object, mode: object, date_text: object, *,
                    now: datetime) -> tuple[dict[str, str], ChangeRequest | None]:
    """Field errors (by "quantity", "mode", "effective_date", "form") or the parsed request."""
    today = now.date()
    errors: dict[str, str] = {}
    if sub.status != "active":
        return {"form": f"This subscription is {sub.status}; its quantity cannot change."}, None
    if sub.is_usage_based:
        return {"form": "An Azure plan is billed by usage and has no quantity to change."}, None
    mode = str(mode or "")
    if mode not in MODES:
        errors["mode"] = "Choose when the change takes effect."
    quantity = parse_quantity(quantity_text)
    if quantity is None:
        errors["quantity"] = "Enter the quantity as a whole number, for example 25."
    elif quantity < max(1, sub.minimum_quantity):
        errors["quantity"] = f"The quantity must be at least {max(1, sub.minimum_quantity)}."
    elif sub.assigned is not None and quantity < sub.assigned:
        errors["quantity"] = (f"{sub.assigned} licenses are assigned to users. Unassign licenses in "
                              f"Manage Licenses before reducing below {sub.assigned}.")
    elif quantity > sub.maximum_quantity:
        errors["quantity"] = f"The maximum quantity for this offer is {sub.maximum_quantity}."
    elif quantity == sub.quantity and not (mode == "on_renewal" and sub.renewal_quantity not in (None, quantity)):
        errors["quantity"] = f"The quantity is already {sub.quantity}. Enter a different quantity."
    renewal_day = sub.term_end + timedelta(days=1)
    effective = today
    decrease = quantity is not None and quantity < sub.quantity
    if mode == "immediately" and decrease and "quantity" not in errors and not sub.in_window(now):
        errors["mode"] = (f"Seats can only be reduced within 7 days of purchase or renewal; that window ended on "
                          f"{sub.window_ends_at:%Y-%m-%d}. Choose On Renewal to reduce seats on "
                          f"{renewal_day:%Y-%m-%d}.")
    if mode == "on_renewal":
        effective = renewal_day
        if not sub.auto_renew:
            errors["mode"] = "Auto-renew is off for this subscription, so there is no renewal to change."
    if mode == "custom":
        chosen = parse_date(date_text)
        if chosen is None:
            errors["effective_date"] = "Choose an Effective Date."
        elif chosen < today:
            errors["effective_date"] = "The Effective Date cannot be in the past."
        elif chosen > sub.term_end:
            errors["effective_date"] = (f"The Effective Date must be on or before the end of the current term, "
                                        f"{sub.term_end:%Y-%m-%d}. Choose On Renewal for a change at renewal.")
        elif decrease and datetime.combine(chosen, datetime.min.time(), timezone.utc) > sub.window_ends_at:
            errors["effective_date"] = (f"Seats can only be reduced within 7 days of purchase or renewal (until "
                                        f"{sub.window_ends_at:%Y-%m-%d}). Choose On Renewal to reduce seats on "
                                        f"{renewal_day:%Y-%m-%d}.")
        else:
            effective = chosen
    if errors:
        return errors, None
    return {}, ChangeRequest(quantity=quantity, mode=mode, effective_date=effective)  # type: ignore[arg-type]


# --------------------------------------------------------------------- changes
@dataclass
class ChangeOutcome:
    status: str  # succeeded | scheduled | invalid | conflict | failed
    message: str = ""
    errors: dict[str, str] = field(default_factory=dict)
    subscription: EditableSubscription | None = None


async def patch_quantity(customer_id: str, subscription: dict, quantity: int, request_id: str) -> dict:
    """PATCH the seat count (absolute, so a repeat is harmless) with `request_id` as MS-RequestId.

    (The client's change_quantity always makes a new request id; a scheduled change must
    reuse its own so a retry after a crash is recognisably the same request.)
    """
    pc = microsoft().partner_center
    try:
        response = await pc.request("PATCH", f"/customers/{customer_id}/subscriptions/{subscription['id']}",
                                    json={**subscription, "quantity": quantity}, request_id=request_id)
    finally:  # even unanswered: it may have happened
        tenant_cache.invalidate(customer_id, tenant_cache.SUBSCRIPTIONS)
    return response.json()


def log_change(db, identity: Identity | None, organization_id: int, sub_id: str, sub_name: str,
               **fields) -> ChangeLogEntry:
    """Add a Change Logs entry acted by `identity` (None: the scheduler)."""
    entry = ChangeLogEntry(organization_id=organization_id, subscription_id=sub_id, subscription_name=sub_name[:200],
                           actor_user_id=identity.user_id if identity else None,
                           actor_name=identity.display_name if identity else "Scheduler", **fields)
    entry.message = entry.message[:1000]
    db.add(entry)
    return entry


async def submit_change(identity: Identity, subscription_id: object, quantity_text: object, mode: object,
                        date_text: object, expected_etag: object, *, now: datetime | None = None) -> ChangeOutcome:
    """Apply, or schedule, a quantity change the user submitted from Subscription Edit."""
    require(identity, Capability.SERVICES)
    now = now or clock.now()
    sub = await load_subscription(identity, subscription_id)
    if sub.etag != str(expected_etag or ""):
        return ChangeOutcome("conflict", CONFLICT_MESSAGE, subscription=sub)
    errors, change = validate_change(sub, quantity_text, mode, date_text, now=now)
    if change is None:
        return ChangeOutcome("invalid", errors.get("form", "Check the highlighted fields."), errors, sub)
    from opkalla_portal.services import approvals  # approvals builds on this module

    request_id = str(uuid.uuid4())
    held = approvals.gate_increase(identity, increase_of(sub, change, request_id), now=now)
    if held is not None:
        held.subscription = sub
        return held
    outcome = await apply_change(identity, sub, change, request_id=request_id)
    if outcome.status not in ("succeeded", "scheduled"):
        approvals.release_increase(identity.organization_id, request_id)
    return outcome


def increase_of(sub: EditableSubscription, change: ChangeRequest, source: str, *,
                replaces_change_id: int | None = None):
    """The change as the hold rule sees it: seats added to what Microsoft has now, at its price."""
    from opkalla_portal.services.approvals import Increase

    return Increase(action="quantity_change", subscription_id=sub.id, name=sub.name, old_quantity=sub.quantity,
                    new_quantity=change.quantity, unit_price=sub.unit_price, mode=change.mode,
                    effective_date=change.effective_date, source=source, replaces_change_id=replaces_change_id)


async def apply_change(identity: Identity, sub: EditableSubscription, change: ChangeRequest, *,
                       note: str = "", request_id: str = "") -> ChangeOutcome:
    """Make a validated change at Microsoft (or schedule it), logged as acted by `identity`.

    Callers check permission, and the hold rule, first: the Subscription Edit submit, or an
    approver's Approve.
    """
    request_id = request_id or str(uuid.uuid4())
    common = dict(old_quantity=sub.quantity, new_quantity=change.quantity, effective_mode=change.mode,
                  effective_date=change.effective_date, request_id=request_id)
    if change.mode == "immediately":
        # Committed before the PATCH: a process that dies after Microsoft acted leaves it pending,
        # and services/intents.reconcile writes the Change Logs entry from Microsoft's state.
        intents.begin(identity, intents.QUANTITY_CHANGE, request_id, {
            "subscription_id": sub.id, "name": sub.name, "old_quantity": sub.quantity,
            "new_quantity": change.quantity, "effective_date": change.effective_date.isoformat(), "note": note})
        try:
            await patch_quantity(identity.tenant_id, sub.raw, change.quantity, request_id)
        except MicrosoftError as error:
            if not await _carried_out(identity.tenant_id, sub.raw, quantity=change.quantity):
                intents.fail(request_id, error.message)
                return await _not_done(identity, sub, error, "change the quantity", log=common, note=note)
        await intents.pause_for_kill_test(intents.QUANTITY_CHANGE)
        with session_scope() as db:
            if intents.finish(db, request_id):  # else a reconciler recorded it already
                log_change(db, identity, identity.organization_id, sub.id, sub.name, result="succeeded",
                           message=note.strip(), **common)
        return ChangeOutcome("succeeded", f"{sub.name} now has {change.quantity} licenses.")

    if change.mode == "on_renewal":
        try:
            await microsoft().partner_center.set_renewal_instructions(identity.tenant_id, sub.raw,
                                                                      quantity=change.quantity)
        except MicrosoftError as error:
            if not await _carried_out(identity.tenant_id, sub.raw, renewal_quantity=change.quantity):
                return await _not_done(identity, sub, error, "accept the renewal change")
        finally:
            tenant_cache.invalidate(identity.tenant_id, tenant_cache.SUBSCRIPTIONS)
    with session_scope() as db:
        replaced = _supersede_pending(db, identity, sub.id, change.mode) if change.mode == "on_renewal" else 0
        scheduled = ScheduledChange(
            organization_id=identity.organization_id, subscription_id=sub.id, subscription_name=sub.name[:200],
            created_by_id=identity.user_id, old_quantity=sub.quantity, new_quantity=change.quantity,
            effective_mode=change.mode, due_date=change.effective_date, request_id=request_id)
        db.add(scheduled)
        db.flush()
        log_change(db, identity, identity.organization_id, sub.id, sub.name, result="scheduled",
             scheduled_change_id=scheduled.id,
             message=(note + ("Replaces the earlier renewal change." if replaced else "")).strip(), **common)
    when = "at renewal on" if change.mode == "on_renewal" else "on"
    return ChangeOutcome("scheduled", f"{sub.name} will change to {change.quantity} licenses {when} "
                                      f"{change.effective_date:%Y-%m-%d}. See Future Changes.")


async def _carried_out(customer_id: str, sent: dict, **expected: int) -> bool:
    """After a failed PATCH: did Microsoft carry it out all the same? An attempt whose answer
    was lost (a timeout) may have been done, and its retry then fails on the changed etag.
    Reads the subscription back: changed since `sent` and now holding `expected`
    (quantity and/or renewal_quantity). False when Microsoft cannot tell us either."""
    now = await read_back(lambda: microsoft().partner_center.get_subscription(customer_id, sent["id"]))
    if now is None:
        return False
    held = {"quantity": now.get("quantity"),
            "renewal_quantity": (now.get("scheduledNextTermInstructions") or {}).get("quantity")}
    etag_changed = (now.get("attributes") or {}).get("etag") != (sent.get("attributes") or {}).get("etag")
    return etag_changed and all(held[name] == value for name, value in expected.items())


async def _not_done(identity: Identity, sub: EditableSubscription, error: MicrosoftError, what: str, *,
                    log: dict | None = None, note: str = "") -> ChangeOutcome:
    """Microsoft refused the change, or met a newer version (conflict); `log`: record the refusal.

    `note` prefixes the Change Logs message (an approved request says who approved it)."""
    if isinstance(error, ConflictError):
        return ChangeOutcome("conflict", CONFLICT_MESSAGE,
                             subscription=await load_subscription_in_scope(identity, sub.id))
    message = (error.detail if error.code else error.message) or error.message
    if log is not None:
        with session_scope() as db:
            log_change(db, identity, identity.organization_id, sub.id, sub.name, result="failed",
                       message=f"{note}{message}", **log)
    return ChangeOutcome("failed", f"Microsoft did not {what}: {message}", subscription=sub)


def _supersede_pending(db, identity: Identity, subscription_id: str, mode: str) -> int:
    """A new renewal instruction replaces Microsoft's previous one: cancel ours too."""
    old = db.exec(select(ScheduledChange).where(ScheduledChange.organization_id == identity.organization_id,
                                                ScheduledChange.subscription_id == subscription_id,
                                                ScheduledChange.effective_mode == mode,
                                                ScheduledChange.status == "pending")).all()
    for change in old:
        change.status = "cancelled"
        change.last_error = "Replaced by a newer renewal change."
        db.add(change)
        log_change(db, identity, identity.organization_id, change.subscription_id, change.subscription_name,
             result="cancelled", old_quantity=change.old_quantity, new_quantity=change.new_quantity,
             effective_mode=change.effective_mode, effective_date=change.due_date,
             scheduled_change_id=change.id, message="Replaced by a newer renewal change.",
             request_id=change.request_id)
    return len(old)


# ------------------------------------------------------------ future changes
OPEN_STATUSES = ("pending", "applying", "failed")


def future_changes(identity: Identity) -> list[ScheduledChange]:
    """Scheduled changes still to happen, and those that finally failed, by due date."""
    require(identity, Capability.SERVICES)
    with session_scope() as db:
        return list(db.exec(select(ScheduledChange).where(
            ScheduledChange.organization_id == identity.organization_id,
            ScheduledChange.status.in_(OPEN_STATUSES)).order_by(ScheduledChange.due_date, ScheduledChange.id)).all())


def _own_change(db, identity: Identity, change_id: object) -> ScheduledChange:
    change = owned_row(db, ScheduledChange, change_id, identity)
    if change is None:
        raise ServiceError("This change was not found.")
    return change


async def cancel_future_change(identity: Identity, change_id: object) -> ScheduledChange:
    """Cancel a pending (or finally failed) change; a renewal change is withdrawn at Microsoft too."""
    require(identity, Capability.SERVICES)
    with session_scope() as db:
        change = _own_change(db, identity, change_id)
        was_pending = change.status == "pending"
        # Claim it first, so the scheduler cannot start applying it meanwhile.
        claimed = db.exec(update(ScheduledChange).where(
            ScheduledChange.id == change.id, ScheduledChange.status.in_(("pending", "failed")))
            .values(status="cancelled")).rowcount
    if claimed != 1:
        raise ServiceError("This change is being applied now and can no longer be cancelled.")
    if change.effective_mode == "on_renewal" and was_pending:
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
                    db.exec(update(ScheduledChange).where(ScheduledChange.id == change.id).values(status="pending"))
                raise ServiceError(f"Microsoft did not withdraw the renewal change: {error.message}") from error
    with session_scope() as db:
        log_change(db, identity, identity.organization_id, change.subscription_id, change.subscription_name,
             result="cancelled", old_quantity=change.old_quantity, new_quantity=change.new_quantity,
             effective_mode=change.effective_mode, effective_date=change.due_date, scheduled_change_id=change.id,
             request_id=change.request_id)
    from opkalla_portal.services.approvals import release_increase

    if change.request_id:
        release_increase(identity.organization_id, change.request_id)  # a cancelled change adds nothing
    return change


async def _renewal_still_held(customer_id: str, change: ScheduledChange) -> bool:
    """Does Microsoft still hold this change's renewal quantity? (True when it cannot tell.)"""
    sub = await read_back(lambda: microsoft().partner_center.get_subscription(customer_id, change.subscription_id))
    if sub is None:
        return True
    return (sub.get("scheduledNextTermInstructions") or {}).get("quantity") == change.new_quantity


async def edit_future_change(identity: Identity, change_id: object, quantity_text: object, date_text: object, *,
                             now: datetime | None = None) -> tuple[dict[str, str], ScheduledChange | None]:
    """Change the quantity (and, for Custom, the date) of a pending change; field errors if invalid."""
    require(identity, Capability.SERVICES)
    return await apply_future_change_edit(identity, change_id, quantity_text, date_text, now=now or clock.now())


async def apply_future_change_edit(identity: Identity, change_id: object, quantity_text: object,
                                   date_text: object, *, now: datetime, approved=None,
                                   note: str = "") -> tuple[dict[str, str], ScheduledChange | None]:
    """Edit a pending Future Change through the hold rule; `approved`: an approver applies a held
    edit (the rule then re-checks its price against Microsoft now). Callers check permission.

    A held edit leaves the change as it was and answers {"held": message}."""
    from opkalla_portal.services import approvals

    with session_scope() as db:
        change = _own_change(db, identity, change_id)
    if change.status != "pending":
        raise ServiceError("Only pending changes can be edited.")
    if not change.subscription_id:  # a scheduled purchase: no subscription exists yet
        return await _edit_scheduled_purchase(identity, change, quantity_text, date_text, now=now,
                                              approved=approved, note=note)
    sub = await load_subscription_in_scope(identity, change.subscription_id)
    # Validate against the live subscription, as if submitted anew (a pending renewal
    # quantity may be re-set to the current quantity).
    probe = replace(sub, renewal_quantity=-1) if change.effective_mode == "on_renewal" else sub
    errors, request = validate_change(probe, quantity_text, change.effective_mode, date_text, now=now)
    if request is None:
        return errors, None
    # The edit counts as the whole increase over what Microsoft has now, replacing the change's
    # earlier count: 12 -> 13 edited to 300 is +288 seats, not +1 then an unchecked edit.
    increase = replace(increase_of(sub, request, change.request_id or f"change-{change.id}",
                                   replaces_change_id=change.id),
                       already_planned=monthly_cost(sub.unit_price, max(change.new_quantity - sub.quantity, 0)))
    held = approvals.gate_increase(identity, increase, approved=approved, now=now)
    if held is not None:
        return ({"held": held.message} if held.status == "held" else {"form": held.message}), None
    if change.effective_mode == "on_renewal":
        try:
            await microsoft().partner_center.set_renewal_instructions(identity.tenant_id, sub.raw,
                                                                      quantity=request.quantity)
        except MicrosoftError as error:
            return {"form": f"Microsoft did not accept the renewal change: {error.message}"}, None
        finally:
            tenant_cache.invalidate(identity.tenant_id, tenant_cache.SUBSCRIPTIONS)
    with session_scope() as db:
        updated = db.exec(update(ScheduledChange).where(ScheduledChange.id == change.id,
                                                        ScheduledChange.status == "pending")
                          .values(new_quantity=request.quantity, due_date=request.effective_date,
                                  old_quantity=sub.quantity)).rowcount
        if updated != 1:
            raise ServiceError("This change is being applied now and can no longer be edited.")
        log_change(db, identity, identity.organization_id, change.subscription_id, change.subscription_name,
             result="scheduled", old_quantity=sub.quantity, new_quantity=request.quantity,
             effective_mode=change.effective_mode, effective_date=request.effective_date,
             scheduled_change_id=change.id, request_id=change.request_id,
             message=f"{note}Edited: was {change.new_quantity} on {change.due_date:%Y-%m-%d}.")
        return {}, db.get(ScheduledChange, change.id)


async def _edit_scheduled_purchase(identity: Identity, change: ScheduledChange, quantity_text: object,
                                   date_text: object, *, now: datetime, approved=None,
                                   note: str = "") -> tuple[dict[str, str], ScheduledChange | None]:
    from opkalla_portal.models import ScheduledPurchase
    from opkalla_portal.services import approvals
    from opkalla_portal.services.orders import MAX_START_AHEAD

    with session_scope() as db:
        purchase = db.exec(select(ScheduledPurchase).where(ScheduledPurchase.scheduled_change_id == change.id)).one()
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
    elif start > today + MAX_START_AHEAD:
        errors["effective_date"] = f"The Effective Start Date must be by {today + MAX_START_AHEAD:%Y-%m-%d}."
    if errors:
        return errors, None
    price = unit_price_for(catalog, purchase.offer_id, purchase.term_duration, purchase.billing_cycle)
    increase = approvals.Increase(
        action="purchase", subscription_id="", name=change.subscription_name, old_quantity=0,
        new_quantity=quantity, unit_price=price if price is not None else Decimal("0.00"), mode="custom",
        effective_date=start, source=change.request_id or f"change-{change.id}",
        order={"scheduled_change_id": change.id, "quantity": quantity, "start": start.isoformat()},
        replaces_change_id=change.id, already_planned=monthly_cost(price or Decimal("0.00"), change.new_quantity))
    held = approvals.gate_increase(identity, increase, approved=approved, now=now)
    if held is not None:
        return ({"held": held.message} if held.status == "held" else {"form": held.message}), None
    with session_scope() as db:
        updated = db.exec(update(ScheduledChange).where(ScheduledChange.id == change.id,
                                                        ScheduledChange.status == "pending")
                          .values(new_quantity=quantity, due_date=start)).rowcount
        if updated != 1:
            raise ServiceError("This order is being placed now and can no longer be edited.")
        log_change(db, identity, identity.organization_id, "", change.subscription_name, action="purchase",
             result="scheduled", old_quantity=0, new_quantity=quantity, effective_mode="custom",
             effective_date=start, scheduled_change_id=change.id, request_id=change.request_id,
             message=f"{note}Edited: was {change.new_quantity} on {change.due_date:%Y-%m-%d}.")
        return {}, db.get(ScheduledChange, change.id)
