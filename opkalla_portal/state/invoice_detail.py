"""One invoice's breakdown (/my-invoices/invoice?id=…).

Public vars hold display strings only; every figure is computed by services.invoices.
"""

from __future__ import annotations

from typing import TypedDict

from opkalla_portal.services.access import Capability, Identity
from opkalla_portal.services.invoices import InvoiceNotFound, get_invoice
from opkalla_portal.services.money import format_money
from opkalla_portal.state.base import PortalState, guarded
from opkalla_portal.state.my_invoices import date_label, invoice_urls


class LineRow(TypedDict):
    product: str
    quantity: str
    unit_price: str
    service_period: str
    proration: str
    amount: str
    tax: str
    total: str


class InvoiceDetailState(PortalState):
    """One invoice's breakdown (the page reached by selecting its Invoice ID)."""

    invoice_id: str = ""
    found: bool = False
    loaded: bool = False
    status: str = ""
    invoice_date: str = ""
    due_date: str = ""
    service_period: str = ""
    contract_name: str = ""
    bill_to: list[str] = []
    lines: list[LineRow] = []
    subtotal: str = ""
    tax: str = ""
    total: str = ""
    paid: str = ""
    balance: str = ""
    has_azure_usage: bool = False
    pdf_url: str = ""
    usage_url: str = ""

    @guarded(Capability.INVOICES)
    def load(self, identity: Identity):
        requested = self.router.url.query_parameters.get("id", "")
        self.loaded, self.found, self.lines = True, False, []
        try:
            detail = get_invoice(identity, requested if isinstance(requested, str) else "")
        except InvoiceNotFound:
            self.invoice_id = ""
            return None
        symbol = detail.summary.currency_symbol
        money = lambda amount: format_money(amount, symbol)  # noqa: E731
        summary = detail.summary
        self.invoice_id, self.found, self.status = summary.invoice_id, True, summary.status
        self.invoice_date, self.due_date = date_label(summary.invoice_date), date_label(summary.due_date)
        self.service_period = f"{date_label(detail.period_start)} – {date_label(detail.period_end)}"
        self.contract_name = detail.contract_name
        self.bill_to = detail.bill_to
        self.lines = [
            LineRow(
                product=line.product_name,
                quantity=str(line.quantity),
                unit_price=money(line.unit_price),
                service_period=f"{line.period_start:%b %d} – {line.period_end:%b %d, %Y}",
                proration=f"{line.proration * 100:.1f}%",
                amount=money(line.amount),
                tax=money(line.tax_amount),
                total=money(line.line_total),
            )
            for line in detail.lines
        ]
        self.subtotal, self.tax, self.total = money(detail.subtotal), money(detail.tax), money(summary.total)
        self.paid, self.balance = money(detail.paid_amount), money(summary.balance)
        self.has_azure_usage = detail.has_azure_usage
        _, self.pdf_url, self.usage_url = invoice_urls(summary.invoice_id)
        return None
