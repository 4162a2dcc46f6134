"""CSV cells that a spreadsheet shows as text, never runs as a formula (CSV injection).

Every CSV export writes text that came from elsewhere (a user's name, a subscription's, an
Azure resource, group or meter name) through `safe_cell`: a cell starting with = + - @ or a
tab or carriage return gets a leading apostrophe, as OWASP's CSV-injection advice says.
Numbers the portal formats itself (amounts, quantities) are written as they are so they sum.
"""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text
