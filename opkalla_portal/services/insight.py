"""License insight and right-size arithmetic: pure functions, Decimal money, no I/O.

Idle seat: a license held by an enabled user whose last sign-in (the later of interactive and
non-interactive) is at least N days ago, or who never signed in. Licenses held by disabled
accounts are counted separately ("Disabled"), and both count as reclaimable.

Right-size: only annual and multi-year commitments with auto-renew that renew within
RENEWAL_WINDOW_DAYS (monthly terms can be reduced at any monthly renewal from Subscription
Edit, so they get no recommendation). See docs/insight.md for the rules.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from opkalla_portal.services.licenses import DirectoryUser

CENT = Decimal("0.01")
IDLE_THRESHOLDS = (30, 60, 90)
RECOMMEND_IDLE_DAYS = 90  # a user away this long is unlikely to need the seat at renewal
# 90 days: long enough to reclaim idle seats before the renewal, short enough to be acted on now.
RENEWAL_WINDOW_DAYS = 90
COMMITMENT_TERMS = ("P1Y", "P3Y")


def money(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, ROUND_HALF_UP)


# ------------------------------------------------------------------ seat usage
@dataclass(frozen=True)
class SeatUsage:
    """One product's seats: how many are held, by idle users (per threshold) and by disabled accounts."""

    sku_id: str
    assigned: int
    idle: dict[int, int]  # threshold days -> enabled users idle at least that long (or never signed in)
    disabled: int

    def reclaimable(self, days: int = RECOMMEND_IDLE_DAYS) -> int:
        return min(self.assigned, self.idle.get(days, 0) + self.disabled)


def is_idle(user: DirectoryUser, days: int, now: datetime) -> bool:
    """Enabled, and not signed in for `days` days (or never)."""
    return user.enabled and (user.last_sign_in is None or user.last_sign_in <= now - timedelta(days=days))


def seat_usage(sku_id: str, users: Iterable[DirectoryUser], now: datetime) -> SeatUsage:
    holders = [u for u in users if u.holds(sku_id)]
    return SeatUsage(
        sku_id=sku_id,
        assigned=len(holders),
        idle={days: sum(1 for u in holders if is_idle(u, days, now)) for days in IDLE_THRESHOLDS},
        disabled=sum(1 for u in holders if not u.enabled),
    )


def idle_monthly_cost(usage: SeatUsage, unit_price: Decimal | None, days: int) -> Decimal:
    """What the idle (at `days`) and disabled seats cost each month."""
    if unit_price is None:
        return Decimal("0.00")
    return money(unit_price * usage.reclaimable(days))


# --------------------------------------------------------------- recommendations
@dataclass(frozen=True)
class SubscriptionFacts:
    """What a recommendation needs to know about one subscription (from Partner Center and the catalog)."""

    id: str
    name: str
    quantity: int
    renewal_quantity: int | None  # a renewal change already scheduled at Microsoft
    term_duration: str
    renewal_date: date | None  # the day the next term starts (None: does not auto-renew)
    unit_price: Decimal  # per seat per month
    minimum_quantity: int = 1
    parent_id: str | None = None

    @property
    def renews_at(self) -> int:
        """The seat count the subscription would renew with today."""
        return self.renewal_quantity if self.renewal_quantity is not None else self.quantity


@dataclass(frozen=True)
class Recommendation:
    subscription_id: str
    name: str
    renewal_date: date
    current_quantity: int  # what it would renew with
    target_quantity: int  # one click schedules this "On Renewal"
    unassigned: int  # seats nobody holds
    reclaimable: int  # seats held by idle (90 days) or disabled users
    ideal_quantity: int  # once the idle seats are reclaimed in Manage Licenses
    unit_price: Decimal
    fingerprint: str

    @property
    def seats_removed(self) -> int:
        return self.current_quantity - self.target_quantity

    @property
    def annual_saving(self) -> Decimal:
        return annual_saving(self.seats_removed, self.unit_price)

    @property
    def extra_seats(self) -> int:
        """Further seats that can go once idle users' licenses are reclaimed."""
        return self.target_quantity - self.ideal_quantity

    @property
    def extra_annual_saving(self) -> Decimal:
        return annual_saving(self.extra_seats, self.unit_price)

    @property
    def ready(self) -> bool:
        """Whether one click can schedule it (else idle seats must be reclaimed first)."""
        return self.seats_removed > 0


def annual_saving(seats: int, unit_price: Decimal) -> Decimal:
    """Seats removed × monthly unit price × 12, to the cent."""
    return money(Decimal(max(seats, 0)) * unit_price * 12)


def fingerprint(*parts: object) -> str:
    """A short digest of the numbers behind a recommendation: a dismissal holds until they change."""
    return hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()[:32]


def in_renewal_window(sub: SubscriptionFacts, today: date) -> bool:
    return (
        sub.term_duration in COMMITMENT_TERMS
        and sub.renewal_date is not None
        and today < sub.renewal_date <= today + timedelta(days=RENEWAL_WINDOW_DAYS)
    )


def recommend(
    sub: SubscriptionFacts,
    *,
    assigned: int,
    reclaimable: int,
    addon_floor: int = 0,
    excluded: bool = False,
    today: date,
) -> Recommendation | None:
    """The right-size recommendation for one subscription, or None.

    ideal  = max(assigned − reclaimable, minimum, add-on floor, 1): never below the seats held by
             active users, nor below what its add-ons need (each add-on seat needs a base seat).
    target = max(ideal, assigned): Subscription Edit refuses to go below the licenses assigned,
             so the one-click change stops there; the rest waits until idle seats are reclaimed.
    No recommendation when excluded, outside the renewal window, or nothing would be saved.
    """
    if excluded or not in_renewal_window(sub, today) or sub.unit_price <= 0:
        return None
    reclaimable = max(0, min(reclaimable, assigned))
    current = sub.renews_at
    ideal = max(assigned - reclaimable, sub.minimum_quantity, addon_floor, 1)
    target = min(max(ideal, assigned), current)
    if ideal >= current:
        return None
    assert sub.renewal_date is not None
    return Recommendation(
        subscription_id=sub.id,
        name=sub.name,
        renewal_date=sub.renewal_date,
        current_quantity=current,
        target_quantity=target,
        unassigned=max(current - assigned, 0),
        reclaimable=reclaimable,
        ideal_quantity=ideal,
        unit_price=sub.unit_price,
        fingerprint=fingerprint(
            sub.id, current, target, ideal, assigned, reclaimable, sub.unit_price, sub.renewal_date
        ),
    )


def recommend_all(
    subs: list[SubscriptionFacts], usage_by_sub: dict[str, tuple[int, int]], excluded_subs: set[str], today: date
) -> list[Recommendation]:
    """Recommendations for every subscription; add-ons first, so a base keeps the seats they need.

    `usage_by_sub`: subscription id -> (assigned, reclaimable) seats of its product.
    """
    kept: dict[str, int] = {}
    found: dict[str, Recommendation] = {}
    for sub in sorted(subs, key=lambda s: s.parent_id is None):  # add-ons before bases
        floor = max((kept[a.id] for a in subs if a.parent_id == sub.id and a.id in kept), default=0)
        assigned, reclaimable = usage_by_sub.get(sub.id, (sub.renews_at, 0))
        rec = recommend(
            sub,
            assigned=assigned,
            reclaimable=reclaimable,
            addon_floor=floor,
            excluded=sub.id in excluded_subs,
            today=today,
        )
        kept[sub.id] = rec.target_quantity if rec else sub.renews_at
        if rec:
            found[sub.id] = rec
    return sorted(found.values(), key=lambda r: (r.renewal_date, r.name.lower()))
