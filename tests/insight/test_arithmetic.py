"""The insight and right-size arithmetic (pure functions, Decimal money)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from opkalla_portal.services.insight import (
    SeatUsage,
    SubscriptionFacts,
    annual_saving,
    idle_monthly_cost,
    recommend,
    recommend_all,
    seat_usage,
)
from opkalla_portal.services.licenses import DirectoryUser, last_sign_in

TODAY = date(2026, 3, 1)
NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
SKU = "cbdc14ab-d96c-4c30-b9f4-6ada7cdc1d46"


def sub(**changes) -> SubscriptionFacts:
    fields = dict(
        id="s1",
        name="Microsoft 365 Business Premium",
        quantity=60,
        renewal_quantity=None,
        term_duration="P1Y",
        renewal_date=TODAY + timedelta(days=30),
        unit_price=Decimal("22.00"),
    )
    fields.update(changes)
    return SubscriptionFacts(**fields)


def user(uid: str, days: int | None, enabled: bool = True, skus=(SKU,)) -> DirectoryUser:
    seen = None if days is None else NOW - timedelta(days=days)
    return DirectoryUser(uid, uid, f"{uid}@x.test", "IT", "US", frozenset(skus), enabled, seen)


def test_idle_counts_per_threshold_never_signed_in_and_disabled_separately():
    users = [
        user("a", 1),
        user("b", 30),
        user("c", 61),
        user("d", 120),
        user("e", None),
        user("f", 200, enabled=False),
        user("g", 1, skus=()),
    ]
    usage = seat_usage(SKU, users, NOW)
    assert usage.assigned == 6
    assert usage.idle == {30: 4, 60: 3, 90: 2}  # b (exactly 30), c, d, e (never) / c, d, e / d, e
    assert usage.disabled == 1
    assert usage.reclaimable(90) == 3 and usage.reclaimable(30) == 5


def test_last_sign_in_is_the_later_of_interactive_and_non_interactive():
    assert last_sign_in(
        {"lastSignInDateTime": "2026-01-01T00:00:00Z", "lastNonInteractiveSignInDateTime": "2026-02-20T08:00:00Z"}
    ) == datetime(2026, 2, 20, 8, tzinfo=UTC)
    assert last_sign_in({"lastSignInDateTime": None, "lastNonInteractiveSignInDateTime": None}) is None
    assert last_sign_in(None) is None
    assert last_sign_in({"lastSignInDateTime": "garbage"}) is None


def test_idle_monthly_cost_is_decimal_to_the_cent():
    usage = SeatUsage(SKU, 10, {30: 3, 60: 2, 90: 1}, 1)
    assert idle_monthly_cost(usage, Decimal("22.00"), 90) == Decimal("44.00")
    assert idle_monthly_cost(usage, Decimal("9.99"), 30) == Decimal("39.96")
    assert idle_monthly_cost(usage, None, 30) == Decimal("0.00")


def test_the_issue_example_60_to_52():
    # 60 seats, 55 assigned of which 3 idle 90+ days: one click goes to 55 (assigned), 52 after reclaiming.
    rec = recommend(sub(), assigned=55, reclaimable=3, today=TODAY)
    assert (rec.current_quantity, rec.target_quantity, rec.ideal_quantity) == (60, 55, 52)
    assert rec.annual_saving == Decimal("1320.00")  # 5 x 22.00 x 12
    assert rec.extra_seats == 3 and rec.extra_annual_saving == Decimal("792.00")
    assert rec.ready and rec.unassigned == 5
    # Once reclaimed (52 assigned, nobody idle): the recommendation is 60 -> 52.
    after = recommend(sub(), assigned=52, reclaimable=0, today=TODAY)
    assert (after.target_quantity, after.annual_saving) == (52, Decimal("2112.00"))


def test_saving_is_exact_in_decimal():
    rec = recommend(sub(quantity=7, unit_price=Decimal("12.35")), assigned=4, reclaimable=0, today=TODAY)
    assert rec.annual_saving == Decimal("444.60")  # 3 x 12.35 x 12, no float artefacts
    assert annual_saving(1, Decimal("0.10")) == Decimal("1.20")
    assert annual_saving(-2, Decimal("5.00")) == Decimal("0.00")


def test_never_below_active_users_nor_one_nor_the_minimum():
    assert recommend(sub(quantity=5), assigned=0, reclaimable=0, today=TODAY).target_quantity == 1
    assert recommend(sub(quantity=5, minimum_quantity=3), assigned=0, reclaimable=0, today=TODAY).target_quantity == 3
    # Reclaimable seats beyond the assigned ones are ignored.
    rec = recommend(sub(quantity=10), assigned=4, reclaimable=9, today=TODAY)
    assert rec.ideal_quantity == 1 and rec.target_quantity == 4


def test_idle_only_gives_a_reclaim_first_recommendation():
    rec = recommend(sub(quantity=10), assigned=10, reclaimable=2, today=TODAY)
    assert not rec.ready and rec.seats_removed == 0 and rec.annual_saving == Decimal("0.00")
    assert rec.ideal_quantity == 8 and rec.extra_annual_saving == Decimal("528.00")


def test_no_recommendation_without_a_saving_or_outside_the_rules():
    assert recommend(sub(quantity=55), assigned=55, reclaimable=0, today=TODAY) is None  # zero saving
    assert recommend(sub(), assigned=50, reclaimable=0, excluded=True, today=TODAY) is None
    assert recommend(sub(term_duration="P1M"), assigned=50, reclaimable=0, today=TODAY) is None  # monthly
    assert recommend(sub(renewal_date=TODAY + timedelta(days=91)), assigned=50, reclaimable=0, today=TODAY) is None
    assert recommend(sub(renewal_date=None), assigned=50, reclaimable=0, today=TODAY) is None  # no auto-renew
    assert recommend(sub(unit_price=Decimal("0")), assigned=50, reclaimable=0, today=TODAY) is None
    assert (
        recommend(
            sub(term_duration="P3Y", renewal_date=TODAY + timedelta(days=90)), assigned=50, reclaimable=0, today=TODAY
        )
        is not None
    )


def test_a_scheduled_renewal_quantity_is_the_starting_point():
    assert recommend(sub(renewal_quantity=55), assigned=55, reclaimable=0, today=TODAY) is None  # accepted already
    rec = recommend(sub(renewal_quantity=58), assigned=55, reclaimable=0, today=TODAY)
    assert (rec.current_quantity, rec.target_quantity) == (58, 55)


def test_a_base_keeps_the_seats_its_add_ons_need():
    base = sub(id="base", quantity=60)
    addon = sub(
        id="addon",
        name="Teams Phone",
        quantity=40,
        parent_id="base",
        unit_price=Decimal("8.00"),
        renewal_date=TODAY + timedelta(days=200),
    )  # not renewing soon: keeps its 40
    recs = recommend_all([base, addon], {"base": (30, 0), "addon": (35, 0)}, set(), TODAY)
    assert [(r.subscription_id, r.target_quantity) for r in recs] == [("base", 40)]
    # An add-on renewing too is right-sized first, and the base may go down to what it keeps.
    addon_soon = sub(id="addon", name="Teams Phone", quantity=40, parent_id="base", unit_price=Decimal("8.00"))
    recs = {
        r.subscription_id: r
        for r in recommend_all([base, addon_soon], {"base": (30, 0), "addon": (35, 0)}, set(), TODAY)
    }
    assert recs["addon"].target_quantity == 35 and recs["base"].target_quantity == 35


def test_excluded_products_get_no_recommendation():
    assert recommend_all([sub()], {"s1": (40, 0)}, {"s1"}, TODAY) == []


def test_the_fingerprint_changes_with_the_numbers_only():
    first = recommend(sub(), assigned=50, reclaimable=2, today=TODAY)
    again = recommend(sub(), assigned=50, reclaimable=2, today=TODAY)
    assert first.fingerprint == again.fingerprint and len(first.fingerprint) == 32
    assert recommend(sub(), assigned=51, reclaimable=2, today=TODAY).fingerprint != first.fingerprint
    assert recommend(sub(), assigned=50, reclaimable=3, today=TODAY).fingerprint != first.fingerprint
    assert (
        recommend(sub(unit_price=Decimal("23.00")), assigned=50, reclaimable=2, today=TODAY).fingerprint
        != first.fingerprint
    )
