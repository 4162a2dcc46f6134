"""My Invoices: the list (tab, search, sort) and one invoice's breakdown.

Public vars hold display strings only; every figure is computed by services.invoices.
"""

from __future__ import annotations

from typing import TypedDict
from urllib.parse import quote

import reflex as rx

from opkalla_portal.services.access import Capability, Identity
from opkalla_portal.services.invoices import (
    OPEN,
    SORT_KEYS,
    TABS,
    InvoiceNotFound,
    get_invoice,
    list_invoices,
)
from opkalla_portal.services.money import format_money
from opkalla_portal.state.base import PortalState, guarded

TAB_BY_LABEL = {label: key for key, label in TABS.items()}
PAGE_SIZE = 12  # a year of monthly invoices per page


class InvoiceRow(TypedDict):
    invoice_id: str
    invoice_date: str
    due_date: str
    total: str
    balance: str
    status: str
    detail_url: str
    pdf_url: str
    usage_url: str
    has_azure_usage: bool


class LineRow(TypedDict):
    product: str
    quantity: str
    unit_price: str
    service_period: str
    proration: str
    amount: str
    tax: str
    total: str


def _date(value) -> str:
    return value.strftime("%b %d, %Y")


def invoice_urls(invoice_id: str) -> tuple[str, str, str]:
    """Detail page, PDF and usage CSV URLs (the download routes check the session themselves)."""
    safe = quote(invoice_id, safe="")
    return (f"/my-invoices/invoice?id={safe}", f"/downloads/invoices/{safe}/invoice.pdf",
            f"/downloads/invoices/{safe}/usage.csv")


class InvoicesState(PortalState):
    """The My Invoices list."""

    tab_label: str = TABS[OPEN]
    search: str = ""
    sort_key: str = "invoice_date"
    descending: bool = True
    rows: list[InvoiceRow] = []  # the current page only
    loaded: bool = False
    page: int = 0
    page_count: int = 1
    match_count: int = 0

    def _refresh(self, identity) -> None:
        tab = TAB_BY_LABEL.get(self.tab_label, OPEN)
        summaries = list_invoices(identity, tab=tab, search=self.search, sort=self.sort_key,
                                  descending=self.descending)
        self.match_count = len(summaries)
        self.page_count = max(1, -(-len(summaries) // PAGE_SIZE))
        self.page = min(max(self.page, 0), self.page_count - 1)
        summaries = summaries[self.page * PAGE_SIZE:(self.page + 1) * PAGE_SIZE]
        self.rows = [
            InvoiceRow(invoice_id=s.invoice_id, invoice_date=_date(s.invoice_date), due_date=_date(s.due_date),
                       total=format_money(s.total, s.currency_symbol),
                       balance=format_money(s.balance, s.currency_symbol), status=s.status,
                       detail_url=urls[0], pdf_url=urls[1], usage_url=urls[2], has_azure_usage=s.has_azure_usage)
            for s, urls in ((s, invoice_urls(s.invoice_id)) for s in summaries)
        ]
        self.loaded = True

    @guarded(Capability.INVOICES)
    def load(self, identity: Identity):
        self._refresh(identity)

    @guarded(Capability.INVOICES)
    def set_tab(self, identity: Identity, label: str):
        if label in TAB_BY_LABEL:
            self.tab_label, self.page = label, 0
        self._refresh(identity)

    @guarded(Capability.INVOICES)
    def set_search(self, identity: Identity, text: str):
        self.search, self.page = (text[:60] if isinstance(text, str) else ""), 0
        self._refresh(identity)

    @guarded(Capability.INVOICES)
    def sort_by(self, identity: Identity, key: str):
        """Sort on a column; choosing the same column again reverses the order."""
        if key not in SORT_KEYS:
            return None
        if key == self.sort_key:
            self.descending = not self.descending
        else:
            self.sort_key, self.descending = key, key in ("invoice_date", "due_date", "total", "balance")
        self._refresh(identity)


    @guarded(Capability.INVOICES)
    def go_to_page(self, identity: Identity, page: int):
        if isinstance(page, int) and not isinstance(page, bool):
            self.page = page
        self._refresh(identity)


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
        self.invoice_date, self.due_date = _date(summary.invoice_date), _date(summary.due_date)
        self.service_period = f"{_date(detail.period_start)} – {_date(detail.period_end)}"
        self.contract_name = detail.contract_name
        self.bill_to = detail.bill_to
        self.lines = [
            LineRow(product=line.product_name, quantity=str(line.quantity), unit_price=money(line.unit_price),
                    service_period=f"{line.period_start:%b %d} – {line.period_end:%b %d, %Y}",
                    proration=f"{line.proration * 100:.1f}%", amount=money(line.amount),
                    tax=money(line.tax_amount), total=money(line.line_total))
            for line in detail.lines
        ]
        self.subtotal, self.tax, self.total = money(detail.subtotal), money(detail.tax), money(summary.total)
        self.paid, self.balance = money(detail.paid_amount), money(summary.balance)
        self.has_azure_usage = detail.has_azure_usage
        _, self.pdf_url, self.usage_url = invoice_urls(summary.invoice_id)
        return None
