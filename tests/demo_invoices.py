"""The demo's invoices as the billing run should make them: one per customer, billing contract
and month in which the emulator's reconciliation bills something under that contract. Which
contracts a month has depends on the demo's purchase dates (relative to today), so tests count
from here rather than assume three a month."""

from __future__ import annotations

from datetime import date

from opkalla_portal.demo import demo_data
from opkalla_portal.demo.demo_data import _add_months
from opkalla_portal.microsoft.emulator.seed import billed_reconciliation_lines, microsoft_invoice_periods

# A contract's place among its customer's contracts: the -n of its Invoice IDs.
CONTRACT_NUMBER = {
    (c.customer_key, c.key): n
    for customer in demo_data.CUSTOMERS
    for n, c in enumerate((c for c in demo_data.CONTRACTS if c.customer_key == customer), 1)
}
PREFIX = {"lakeside": "LDP", "bayview": "BVL"}


def demo_invoice_ids(today: date, customer_key: str | None = None) -> dict[str, date]:
    """Invoice ID -> invoice date of every demo invoice (of one customer, when given)."""
    subscriptions = {s.id: s for s in demo_data.SUBSCRIPTIONS}
    ids: dict[str, date] = {}
    for invoice_id, start, end in microsoft_invoice_periods(today):
        invoice_date = _add_months(start, 1)
        for line in billed_reconciliation_lines(invoice_id, start, end, today):
            sub = subscriptions[line["subscriptionId"]]
            if customer_key in (None, sub.customer_key):
                number = CONTRACT_NUMBER[(sub.customer_key, sub.contract_key)]
                ids[f"{PREFIX[sub.customer_key]}-INV-{invoice_date:%Y%m}-{number}"] = invoice_date
    return ids
