"""Pure rules: proration and price effect (Decimal), and the New Commerce checks of a change."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from opkalla_portal.services import pricing
from opkalla_portal.services.quantity_change import validate_change
from opkalla_portal.services.subscriptions import EditableSubscription

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)


def subscription(**changes) -> EditableSubscription:
    fields = dict(
        id="s1",
        name="Microsoft 365 Business Premium",
        contract_name="Annual",
        quantity=45,
        status="active",
        is_usage_based=False,
        term_duration="P1Y",
        billing_cycle="monthly",
        term_start=date(2026, 2, 28),
        term_end=date(2027, 2, 27),
        window_ends_at=datetime(2026, 3, 7, tzinfo=UTC),
        etag="e1",
        unit_price=Decimal("22.00"),
        minimum_quantity=1,
        maximum_quantity=300,
        auto_renew=True,
        renewal_quantity=None,
        assigned=None,
        assigned_note="",
    )
    fields.update(changes)
    return EditableSubscription(**fields)


def test_money_is_decimal_and_formatted():
    assert pricing.to_money(4.8) == Decimal("4.80")
    assert pricing.format_money(Decimal("1234.5")) == "$1,234.50"
    assert pricing.format_money(Decimal("-12")) == "-$12.00"


def test_proration_for_rest_of_annual_term():
    # 2 seats x $22 x 12 months x 95/365 days left
    amount = pricing.prorated_amount(
        Decimal("22.00"), 2, "P1Y", date(2026, 11, 25), date(2026, 2, 28), date(2027, 2, 27)
    )
    assert amount == (Decimal("22.00") * 2 * 12 * 95 / 365).quantize(Decimal("0.01"))
    assert amount == Decimal("137.42")


def test_price_effect_now_on_renewal_and_decrease():
    args = dict(today=date(2026, 11, 25), term_start=date(2026, 2, 28), term_end=date(2027, 2, 27))
    now = pricing.price_effect(Decimal("22.00"), 45, 47, "P1Y", effective=date(2026, 11, 25), **args)
    assert (now.current_monthly, now.new_monthly, now.monthly_difference) == (
        Decimal("990.00"),
        Decimal("1034.00"),
        Decimal("44.00"),
    )
    at_renewal = pricing.price_effect(Decimal("22.00"), 45, 40, "P1Y", effective=date(2027, 2, 28), **args)
    assert at_renewal.prorated == Decimal("0.00") and at_renewal.monthly_difference == Decimal("-110.00")
    later = pricing.price_effect(Decimal("22.00"), 45, 46, "P1Y", effective=date(2027, 2, 27), **args)
    assert later.days_left == 1 and later.prorated == (Decimal("264") / 365).quantize(Decimal("0.01"))


def test_monthly_term_proration():
    assert pricing.prorated_amount(
        Decimal("4.80"), 5, "P1M", date(2026, 11, 25), date(2026, 11, 16), date(2026, 12, 15)
    ) == (Decimal("24.00") * 21 / 30).quantize(Decimal("0.01"))


def test_increase_any_time_decrease_only_inside_window():
    errors, change = validate_change(subscription(), "50", "immediately", "", now=NOW)
    assert errors == {} and change.quantity == 50 and change.effective_date == NOW.date()
    errors, _ = validate_change(subscription(), "40", "immediately", "", now=NOW)
    assert "On Renewal" in errors["mode"] and "2026-03-07" in errors["mode"]
    inside = subscription(window_ends_at=NOW + timedelta(hours=1))
    assert validate_change(inside, "40", "immediately", "", now=NOW)[0] == {}


def test_on_renewal_takes_effect_the_day_after_the_term_and_needs_auto_renew():
    errors, change = validate_change(subscription(), "40", "on_renewal", "", now=NOW)
    assert errors == {} and change.effective_date == date(2027, 2, 28)
    errors, _ = validate_change(subscription(auto_renew=False), "40", "on_renewal", "", now=NOW)
    assert "Auto-renew is off" in errors["mode"]


@pytest.mark.parametrize(
    "text,expected",
    [
        ("", "Choose an Effective Date"),
        ("2026-11-24", "past"),
        ("2027-02-28", "end of the current term"),
        ("not a date", "Choose an Effective Date"),
    ],
)
def test_custom_date_bounds(text, expected):
    errors, _ = validate_change(subscription(), "50", "custom", text, now=NOW)
    assert expected in errors["effective_date"]


def test_custom_decrease_outside_window_points_to_on_renewal():
    errors, _ = validate_change(subscription(), "40", "custom", "2026-12-10", now=NOW)
    assert "On Renewal" in errors["effective_date"]
    errors, change = validate_change(subscription(), "50", "custom", "2027-02-27", now=NOW)
    assert errors == {} and change.effective_date == date(2027, 2, 27)


@pytest.mark.parametrize(
    "text,expected",
    [
        ("2.5", "whole number"),
        ("-3", "whole number"),
        ("0", "at least 1"),
        ("301", "maximum"),
        ("45", "already 45"),
        ("1e3", "whole number"),
    ],
)
def test_bad_quantities(text, expected):
    errors, change = validate_change(subscription(), text, "immediately", "", now=NOW)
    assert change is None and expected in errors["quantity"]


def test_below_assigned_licenses_and_unknown_mode():
    errors, _ = validate_change(subscription(assigned=42), "41", "on_renewal", "", now=NOW)
    assert "42 licenses are assigned" in errors["quantity"] and "Manage Licenses" in errors["quantity"]
    errors, _ = validate_change(subscription(), "50", "tomorrow", "", now=NOW)
    assert errors["mode"] == "Choose when the change takes effect."


def test_usage_based_and_inactive_subscriptions_cannot_change():
    usage_based = subscription(is_usage_based=True)
    assert "Azure plan" in validate_change(usage_based, "2", "immediately", "", now=NOW)[0]["form"]
    assert "suspended" in validate_change(subscription(status="suspended"), "50", "immediately", "", now=NOW)[0]["form"]
