"""My Services: the customer's subscriptions by Billing Contract, and one subscription as
Subscription Edit works on it (`EditableSubscription`: its price, limits and renewal day).

Every function takes the acting identity, requires Capability.SERVICES and works only on
subscriptions mapped to the identity's own organization's billing contracts. Changing a
quantity is services/quantity_change.py, which builds on this module and on approvals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from sqlmodel import select

from opkalla_portal import clock
from opkalla_portal.db import session_scope
from opkalla_portal.microsoft.errors import AuthError, MicrosoftError, NotFoundError
from opkalla_portal.models import BillingContract, ContractSubscription
from opkalla_portal.services import tenant_cache
from opkalla_portal.services.access import Capability, Identity, require
from opkalla_portal.services.catalog import load_catalog, offer_key, unit_price_for
from opkalla_portal.services.change_logs import log_change  # noqa: F401  (re-exported: orders logs through it)
from opkalla_portal.services.errors import PortalError, microsoft_errors
from opkalla_portal.services.microsoft_clients import microsoft
from opkalla_portal.services.organizations import owned_row
from opkalla_portal.services.pricing import BILLING_LABELS, TERM_LABELS
from opkalla_portal.services.validation import is_ascii_digits

NEW_COMMERCE_WINDOW = timedelta(hours=168)


class ServiceError(PortalError):
    """A request the service refuses; the message is safe to show."""

    code_default = "subscription.refused"


def renewal_day(term_end: date) -> date:
    """A subscription renews the day after its commitment ends (the day an "On Renewal" change
    takes effect): the one place this is worked out."""
    return term_end + timedelta(days=1)


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
        rows = db.exec(
            select(BillingContract)
            .where(BillingContract.organization_id == identity.organization_id)
            .order_by(BillingContract.number)
        ).all()
        return [ContractOption(row.id, f"{row.name} ({row.number})") for row in rows]


def contract_in_scope(db, identity: Identity, contract_id: object) -> BillingContract:
    """The billing contract with this id, if it belongs to the identity's organization."""
    contract = owned_row(db, BillingContract, contract_id, identity)
    if contract is None:
        raise ServiceError("Choose a Billing Contract.", code="subscription.no_contract")
    return contract


def owned_subscription_ids(db, identity: Identity) -> dict[str, int]:
    """subscription id -> billing contract id, for the organization's contracts only."""
    rows = db.exec(
        select(ContractSubscription.subscription_id, ContractSubscription.billing_contract_id)
        .join(BillingContract, BillingContract.id == ContractSubscription.billing_contract_id)
        .where(BillingContract.organization_id == identity.organization_id)
    ).all()
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
    addons: list[SubscriptionLine] = field(default_factory=list)


def _line(sub: dict, catalog: dict) -> SubscriptionLine:
    end = _parse_time(sub.get("commitmentEndDate"))
    usage = sub.get("unitType") == "Usage-based"
    return SubscriptionLine(
        id=sub["id"],
        name=sub.get("friendlyName") or sub.get("offerName") or "Subscription",
        quantity=int(sub.get("quantity") or 0),
        term=TERM_LABELS.get(sub.get("termDuration", ""), ""),
        billing=BILLING_LABELS.get(sub.get("billingCycle", ""), ""),
        renewal_date=renewal_day(end.date()) if end and sub.get("autoRenewEnabled") else None,
        status=str(sub.get("status", "")).capitalize(),
        unit_price=None
        if usage
        else unit_price_for(catalog, sub.get("offerId", ""), sub.get("termDuration", ""), sub.get("billingCycle", "")),
        is_usage_based=usage,
        parent_id=sub.get("parentSubscriptionId"),
    )


async def tenant_subscriptions(tenant_id: str, *, fresh: bool = False) -> list[dict]:
    """Partner Center's subscriptions of a customer, for display: through the per-tenant cache
    (dropped whenever the portal changes a subscription or orders). Changes read fresh.

    `fresh`: from Microsoft now (My Services' own list: what it shows, or that Microsoft is
    unavailable), kept for the dashboard, insight and Usage Data that follow."""
    clients = microsoft()
    return await tenant_cache.cached(
        clients,
        tenant_id,
        tenant_cache.SUBSCRIPTIONS,
        lambda: clients.partner_center.list_subscriptions(tenant_id),
        fresh=fresh,
    )


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
    lines = {
        s["id"]: _line(s, catalog)
        for s in subscriptions
        if s["id"] in in_contract or (s.get("parentSubscriptionId") in in_contract and s["id"] not in owned)
    }
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

    @property
    def renewal_day(self) -> date:
        return renewal_day(self.term_end)


async def _assigned_licenses(tenant_id: str, subscription: dict) -> tuple[int | None, str]:
    """Seats of this subscription in use, from Graph; (None, reason) when Graph can't say."""
    try:
        skus = await microsoft().graph(tenant_id).subscribed_skus()
    except AuthError:
        return None, (
            "The check against licenses assigned to users was skipped: your organization has not "
            "granted the portal access to Microsoft 365 yet (Manage Licenses)."
        )
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


def _not_found() -> ServiceError:
    return ServiceError("This subscription was not found.", code="subscription.not_found")


async def load_subscription_in_scope(identity: Identity, subscription_id: object) -> EditableSubscription:
    """As load_subscription, for callers that checked their own capability (an approver)."""
    subscription_id = str(subscription_id or "")[:64]
    with session_scope() as db:
        owned = owned_subscription_ids(db, identity)
        contracts = {
            c.id: c.name
            for c in db.exec(
                select(BillingContract).where(BillingContract.organization_id == identity.organization_id)
            ).all()
        }
    pc = microsoft().partner_center
    if not subscription_id:
        raise _not_found()
    try:
        with microsoft_errors():
            sub = await pc.get_subscription(identity.tenant_id, subscription_id)
    except PortalError as error:
        if isinstance(error.__cause__, NotFoundError):
            raise _not_found() from None
        raise
    contract_id = owned.get(sub["id"]) or owned.get(sub.get("parentSubscriptionId") or "")
    if contract_id is None:
        raise _not_found()
    with microsoft_errors():
        catalog = await load_catalog()
    product = catalog.get(offer_key(sub.get("offerId", "")))
    price = unit_price_for(catalog, sub.get("offerId", ""), sub.get("termDuration", ""), sub.get("billingCycle", ""))
    start = _parse_time(sub.get("effectiveStartDate")) or clock.now()
    end = _parse_time(sub.get("commitmentEndDate")) or start
    usage = sub.get("unitType") == "Usage-based"
    assigned, note = (None, "") if usage else await _assigned_licenses(identity.tenant_id, sub)
    instructions = sub.get("scheduledNextTermInstructions") or {}
    return EditableSubscription(
        id=sub["id"],
        name=sub.get("friendlyName") or sub.get("offerName") or "Subscription",
        contract_name=contracts.get(contract_id, ""),
        quantity=int(sub.get("quantity") or 0),
        status=str(sub.get("status", "")),
        is_usage_based=usage,
        term_duration=sub.get("termDuration", ""),
        billing_cycle=sub.get("billingCycle", ""),
        term_start=start.date(),
        term_end=end.date(),
        window_ends_at=start + NEW_COMMERCE_WINDOW,
        etag=(sub.get("attributes") or {}).get("etag", ""),
        unit_price=price if price is not None else Decimal("0.00"),
        minimum_quantity=product.minimum_quantity if product else 1,
        maximum_quantity=product.maximum_quantity if product else 10000,
        auto_renew=bool(sub.get("autoRenewEnabled")),
        renewal_quantity=instructions.get("quantity"),
        assigned=assigned,
        assigned_note=note,
        raw=sub,
    )


# ------------------------------------------------------------------ input
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


# --------------------------------------------------------------------- outcome
class Outcome(StrEnum):
    """How a submitted change ended, as the form shows it."""

    SUCCEEDED = "succeeded"  # done at Microsoft
    SCHEDULED = "scheduled"  # a Future Change (and, On Renewal, Microsoft's renewal instruction)
    HELD = "held"  # waiting for approval; nothing sent to Microsoft
    INVALID = "invalid"  # field errors; nothing sent
    CONFLICT = "conflict"  # changed by someone else since the form was opened
    FAILED = "failed"  # Microsoft refused, or it could not be done


DONE = (Outcome.SUCCEEDED, Outcome.SCHEDULED)  # the change went ahead


@dataclass
class ChangeOutcome:
    status: str  # an Outcome
    message: str = ""
    errors: dict[str, str] = field(default_factory=dict)
    subscription: EditableSubscription | None = None
