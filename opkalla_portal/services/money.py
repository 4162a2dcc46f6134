"""Money as the portal shows it: Decimal in, symbol and two decimals out."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")


def to_cents(value: object) -> Decimal:
    """A Decimal rounded to the cent; floats from JSON go through str() so 0.1 stays 0.1."""
    if isinstance(value, float):
        value = repr(value)
    try:
        return Decimal(value).quantize(CENT, ROUND_HALF_UP)  # type: ignore[arg-type]
    except (InvalidOperation, TypeError, ValueError):
        return Decimal("0.00")


def format_money(amount: Decimal, symbol: str = "$") -> str:
    """ "$1,234.50"; negatives as "-$12.00"."""
    amount = amount.quantize(CENT, ROUND_HALF_UP)
    sign = "-" if amount < 0 else ""
    return f"{sign}{symbol}{abs(amount):,.2f}"
