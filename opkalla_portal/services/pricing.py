"""Money for subscription changes: monthly cost, proration and the price effect of a change.

Decimal only. Unit prices are per seat per month (as the catalog publishes them); a seat
added mid-term is charged for the rest of the term, pro rata by day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from opkalla_portal.services.money import CENT, format_money  # noqa: F401  (format_money: re-exported)

TERM_MONTHS = {"P1M": 1, "P1Y": 12, "P3Y": 36}
TERM_LABELS = {"P1M": "Monthly", "P1Y": "Annual", "P3Y": "Triennial"}
BILLING_LABELS = {"monthly": "Monthly", "annual": "Annual", "triennial": "Triennial", "none": "Monthly"}


def to_money(value: object) -> Decimal:
    """A price from Microsoft (float/str/Decimal) as Decimal cents, without float artefacts."""
    return Decimal(str(value)).quantize(CENT, ROUND_HALF_UP)


def monthly_cost(unit_price: Decimal, quantity: int) -> Decimal:
    return (unit_price * quantity).quantize(CENT, ROUND_HALF_UP)


def remaining_days(today: date, term_start: date, term_end: date) -> tuple[int, int]:
    """(days left including today, days in the term) of a term ending on `term_end` inclusive."""
    term_days = max((term_end - term_start).days + 1, 1)
    left = min(max((term_end - today).days + 1, 0), term_days)
    return left, term_days


def prorated_amount(
    unit_price: Decimal, seat_delta: int, term_duration: str, today: date, term_start: date, term_end: date
) -> Decimal:
    """What `seat_delta` seats cost (or refund, if negative) from `today` to the term's end."""
    left, term_days = remaining_days(today, term_start, term_end)
    months = TERM_MONTHS.get(term_duration, 1)
    amount = unit_price * seat_delta * months * Decimal(left) / Decimal(term_days)
    return amount.quantize(CENT, ROUND_HALF_UP)


@dataclass(frozen=True)
class PriceEffect:
    current_monthly: Decimal
    new_monthly: Decimal
    monthly_difference: Decimal
    prorated: Decimal  # charged (or credited) now for the rest of the term; 0 when deferred
    days_left: int


def price_effect(
    unit_price: Decimal,
    old_quantity: int,
    new_quantity: int,
    term_duration: str,
    *,
    today: date,
    effective: date,
    term_start: date,
    term_end: date,
) -> PriceEffect:
    """The effect of changing seats from `old_quantity` to `new_quantity` on `effective`.

    A change at renewal starts a new term, so nothing is prorated; otherwise the difference
    is charged pro rata from the effective date to the end of the current term.
    """
    current = monthly_cost(unit_price, old_quantity)
    new = monthly_cost(unit_price, new_quantity)
    if effective > term_end:
        return PriceEffect(current, new, new - current, Decimal("0.00"), 0)
    start = max(effective, today)
    left, _ = remaining_days(start, term_start, term_end)
    prorated = prorated_amount(unit_price, new_quantity - old_quantity, term_duration, start, term_start, term_end)
    return PriceEffect(current, new, new - current, prorated, left)
