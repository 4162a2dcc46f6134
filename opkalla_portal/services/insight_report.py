"""License insight for one customer: Graph's products and users, Partner Center's subscriptions and
the catalog's prices put together, plus the customer's exclusions and dismissals.

Needs Capability.LICENSES (users and licenses) and Capability.SERVICES (subscriptions), and the
organization's consent; everything is scoped to the acting identity's organization. Accepting
a recommendation recomputes it here and goes through Subscription Edit's own path
(`quantity_change.submit_change`, mode On Renewal): same rules, same Change Logs, a Future Change.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlmodel import select

from opkalla_portal import clock
from opkalla_portal.db import session_scope
from opkalla_portal.microsoft.errors import AuthError
from opkalla_portal.models import LicenseExclusion, RecommendationDismissal
from opkalla_portal.services import consent, licenses, quantity_change, subscriptions, tenant_cache
from opkalla_portal.services.access import Capability, Identity, require
from opkalla_portal.services.catalog import load_catalog, offer_key, unit_price_for
from opkalla_portal.services.errors import MicrosoftFailure, PortalError, microsoft_errors
from opkalla_portal.services.insight import (
    IDLE_THRESHOLDS,
    Recommendation,
    SeatUsage,
    SubscriptionFacts,
    idle_monthly_cost,
    recommend_all,
    seat_usage,
)
from opkalla_portal.services.microsoft_clients import microsoft

SKU_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
FINGERPRINT = re.compile(r"^[0-9a-f]{32}$")


class InsightError(PortalError):
    """A request refused before anything changed; the message is safe to show."""

    code_default = "insight.refused"


@dataclass(frozen=True)
class ProductInsight:
    sku_id: str
    name: str
    purchased: int
    usage: SeatUsage
    unit_price: Decimal | None  # lowest price of the subscriptions selling it (None: not sold by us)
    excluded: bool

    @property
    def unassigned(self) -> int:
        return max(self.purchased - self.usage.assigned, 0)

    def idle_cost(self, days: int) -> Decimal:
        return Decimal("0.00") if self.excluded else idle_monthly_cost(self.usage, self.unit_price, days)


@dataclass
class InsightReport:
    consented: bool = True
    sign_in_known: bool = True  # False: Microsoft would not give sign-in activity (see note)
    sign_in_missing: str = ""  # why not: NO_PREMIUM or NO_PERMISSION
    products: list[ProductInsight] = field(default_factory=list)
    recommendations: list[Recommendation] = field(default_factory=list)
    dismissed: int = 0

    def idle_seats(self, days: int) -> int:
        return sum(p.usage.reclaimable(days) for p in self.products if not p.excluded)

    def idle_cost(self, days: int) -> Decimal:
        return sum((p.idle_cost(days) for p in self.products), Decimal("0.00"))


def _is_consented(identity: Identity) -> bool:
    with session_scope() as db:
        return consent.is_consented(db, identity)


# Why Microsoft did not share sign-in activity (InsightReport.sign_in_missing).
NO_PREMIUM = "premium"  # the tenant has no Entra ID P1/P2
NO_PERMISSION = "permission"  # AuditLog.Read.All is not granted
PREMIUM_REQUIRED_CODE = "Authentication_RequestFromNonPremiumTenantOrB2CTenant"


async def _directory(identity: Identity, *, fresh: bool = False) -> tuple[tuple[licenses.DirectoryUser, ...], str]:
    """Users with sign-in activity; without it (and why) when Microsoft refuses that field:
    403 Authentication_RequestFromNonPremiumTenantOrB2CTenant for a tenant without Entra ID
    P1/P2, another 403 when AuditLog.Read.All is not granted. Idle seats then can't be told.

    The whole directory is the costliest read of a visit: kept in the per-tenant cache (every
    license change through the portal drops it) unless `fresh`."""

    async def read() -> tuple[tuple[licenses.DirectoryUser, ...], str]:
        try:
            with microsoft_errors():
                return tuple(await licenses.list_directory(identity, with_sign_in=True)), ""
        except MicrosoftFailure as failure:
            if not isinstance(failure.__cause__, AuthError):
                raise
            reason = NO_PREMIUM if failure.__cause__.code == PREMIUM_REQUIRED_CODE else NO_PERMISSION
            return tuple(await licenses.list_directory(identity)), reason

    if fresh:
        return await read()
    return await tenant_cache.cached(
        microsoft(), identity.tenant_id, tenant_cache.LICENSES, read, variant="insight-directory", immutable=True
    )


async def active_seat_subscriptions(identity: Identity, *, fresh: bool = False) -> tuple[list[dict], dict]:
    """Partner Center's active seat-based subscriptions of the organization (its add-ons included),
    and the catalog (prices). Callers check the capability. From the per-tenant cache unless `fresh`."""
    with session_scope() as db:
        owned = subscriptions.owned_subscription_ids(db, identity)
    raw = (
        await microsoft().partner_center.list_subscriptions(identity.tenant_id)
        if fresh
        else await subscriptions.tenant_subscriptions(identity.tenant_id)
    )
    mine = [
        sub
        for sub in raw
        if (sub["id"] in owned or sub.get("parentSubscriptionId") in owned)
        and sub.get("unitType") != "Usage-based"
        and str(sub.get("status")) == "active"
    ]
    return mine, await load_catalog()


async def _subscription_facts(identity: Identity, *, fresh: bool = False) -> list[SubscriptionFacts]:
    """The organization's seat-based subscriptions, with prices and renewal dates."""
    raw, catalog = await active_seat_subscriptions(identity, fresh=fresh)
    facts = []
    for sub in raw:
        line = subscriptions._line(sub, catalog)  # the My Services row: name, quantity, renewal date
        product = catalog.get(offer_key(sub.get("offerId", "")))
        price = unit_price_for(
            catalog, sub.get("offerId", ""), sub.get("termDuration", ""), sub.get("billingCycle", "")
        )
        facts.append(
            SubscriptionFacts(
                id=sub["id"],
                name=line.name,
                quantity=line.quantity,
                renewal_quantity=(sub.get("scheduledNextTermInstructions") or {}).get("quantity"),
                term_duration=sub.get("termDuration", ""),
                renewal_date=line.renewal_date,
                unit_price=price if price is not None else Decimal("0.00"),
                minimum_quantity=product.minimum_quantity if product else 1,
                parent_id=sub.get("parentSubscriptionId"),
            )
        )
    return facts


def excluded_skus(identity: Identity) -> set[str]:
    with session_scope() as db:
        return set(
            db.exec(
                select(LicenseExclusion.sku_id).where(LicenseExclusion.organization_id == identity.organization_id)
            ).all()
        )


def _dismissed(identity: Identity) -> dict[str, str]:
    with session_scope() as db:
        rows = db.exec(
            select(RecommendationDismissal).where(RecommendationDismissal.organization_id == identity.organization_id)
        ).all()
        return {row.subscription_id: row.fingerprint for row in rows}


def _seats_per_subscription(
    product: licenses.Product, usage: SeatUsage, facts: dict[str, SubscriptionFacts]
) -> dict[str, tuple[int, int]]:
    """(assigned, reclaimable) per subscription of a product: seats bought on its other
    subscriptions also cover users (as Subscription Edit counts them)."""
    result = {}
    for sid in product.subscription_ids:
        sub = facts.get(sid)
        if sub is None:
            continue
        other_seats = max(product.purchased - sub.quantity, 0)
        assigned = max(usage.assigned - other_seats, 0)
        result[sid] = (assigned, min(usage.reclaimable(), assigned))
    return result


async def load_report(identity: Identity, *, now: datetime | None = None, fresh: bool = False) -> InsightReport:
    """Idle seats per product and the right-size recommendations not dismissed.

    Its three Microsoft reads (products, directory, subscriptions) run concurrently, from the
    per-tenant cache for display; `fresh` reads them from Microsoft now (before acting on it).
    """
    require(identity, Capability.LICENSES)
    require(identity, Capability.SERVICES)
    now = now or clock.now()
    if not _is_consented(identity):
        return InsightReport(consented=False)
    with microsoft_errors():
        products, (users, sign_in_missing), facts_list = await asyncio.gather(
            licenses.list_products(identity, fresh=fresh),
            _directory(identity, fresh=fresh),
            _subscription_facts(identity, fresh=fresh),
        )
    sign_in_known = not sign_in_missing
    facts = {f.id: f for f in facts_list}
    excluded = excluded_skus(identity)
    insights, usage_by_sub, excluded_subs = [], {}, set()
    for product in products:
        usage = seat_usage(product.sku_id, users, now)
        if not sign_in_known:  # unknown is not idle: only disabled accounts count
            usage = SeatUsage(usage.sku_id, usage.assigned, {d: 0 for d in IDLE_THRESHOLDS}, usage.disabled)
        prices = [facts[s].unit_price for s in product.subscription_ids if s in facts and facts[s].unit_price > 0]
        insights.append(
            ProductInsight(
                product.sku_id,
                product.name,
                product.purchased,
                usage,
                min(prices) if prices else None,
                product.sku_id in excluded,
            )
        )
        usage_by_sub.update(_seats_per_subscription(product, usage, facts))
        if product.sku_id in excluded:
            excluded_subs.update(product.subscription_ids)
    recommendations = recommend_all(list(facts.values()), usage_by_sub, excluded_subs, now.date())
    dismissed = _dismissed(identity)
    shown = [r for r in recommendations if dismissed.get(r.subscription_id) != r.fingerprint]
    return InsightReport(True, sign_in_known, sign_in_missing, insights, shown, len(recommendations) - len(shown))


# ---------------------------------------------------------------------- actions
def set_exclusion(identity: Identity, sku_id: object, excluded: object) -> bool:
    """Remember (or forget) that a product is meant to sit unassigned; returns the new state."""
    require(identity, Capability.LICENSES)
    sku = str(sku_id or "").lower()
    if not SKU_ID.match(sku) or not isinstance(excluded, bool):
        raise InsightError("That product could not be found.")
    with session_scope() as db:
        row = db.exec(
            select(LicenseExclusion).where(
                LicenseExclusion.organization_id == identity.organization_id, LicenseExclusion.sku_id == sku
            )
        ).first()
        if excluded and row is None:
            db.add(
                LicenseExclusion(organization_id=identity.organization_id, sku_id=sku, created_by_id=identity.user_id)
            )
        elif not excluded and row is not None:
            db.delete(row)
    return excluded


def dismiss(identity: Identity, subscription_id: object, fingerprint: object) -> None:
    """Hide a recommendation until its numbers change."""
    require(identity, Capability.SERVICES)
    sid, print_ = str(subscription_id or "")[:64], str(fingerprint or "")
    if not sid or not FINGERPRINT.match(print_):
        raise InsightError("That recommendation could not be found.")
    with session_scope() as db:
        row = db.exec(
            select(RecommendationDismissal).where(
                RecommendationDismissal.organization_id == identity.organization_id,
                RecommendationDismissal.subscription_id == sid,
            )
        ).first()
        row = row or RecommendationDismissal(
            organization_id=identity.organization_id, subscription_id=sid, fingerprint=print_
        )
        row.fingerprint, row.dismissed_by_id = print_, identity.user_id
        row.dismissed_at = clock.now()
        db.add(row)


async def accept(identity: Identity, subscription_id: object, fingerprint: object) -> subscriptions.ChangeOutcome:
    """Schedule the recommendation's quantity On Renewal through Subscription Edit's path.

    The recommendation is recomputed from Microsoft's current numbers; if they changed since the
    user saw it, nothing is done and they are asked to review the new one.
    """
    report = await load_report(identity, fresh=True)
    rec = next((r for r in report.recommendations if r.subscription_id == str(subscription_id or "")), None)
    if rec is None or rec.fingerprint != str(fingerprint or "") or not rec.ready:
        raise InsightError("This recommendation has changed or was already applied. Review the updated figures.")
    with microsoft_errors():
        sub = await subscriptions.load_subscription(identity, rec.subscription_id)
        return await quantity_change.submit_change(
            identity, rec.subscription_id, str(rec.target_quantity), "on_renewal", "", sub.etag
        )
