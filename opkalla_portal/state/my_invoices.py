"""My Invoices: the list (tab, search, sort, pages).

Public vars hold display strings only; every figure is computed by services.invoices.
"""

from __future__ import annotations

from typing import TypedDict
from urllib.parse import quote

from opkalla_portal.services.access import Capability, Identity
from opkalla_portal.services.invoices import (
    OPEN,
    SORT_KEYS,
    TABS,
    list_invoices,
)
from opkalla_portal.services.money import format_money
from opkalla_portal.state.base import PortalState, guarded
from opkalla_portal.state.deltas import assign_changed

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


def date_label(value) -> str:
    return value.strftime("%b %d, %Y")


def invoice_urls(invoice_id: str) -> tuple[str, str, str]:
    """Detail page, PDF and usage CSV URLs (the download routes check the session themselves)."""
    safe = quote(invoice_id, safe="")
    return (
        f"/my-invoices/invoice?id={safe}",
        f"/downloads/invoices/{safe}/invoice.pdf",
        f"/downloads/invoices/{safe}/usage.csv",
    )


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
        summaries = list_invoices(identity, tab=tab, search=self.search, sort=self.sort_key, descending=self.descending)
        self.match_count = len(summaries)
        self.page_count = max(1, -(-len(summaries) // PAGE_SIZE))
        self.page = min(max(self.page, 0), self.page_count - 1)
        summaries = summaries[self.page * PAGE_SIZE : (self.page + 1) * PAGE_SIZE]
        assign_changed(
            self,
            rows=[
                InvoiceRow(
                    invoice_id=s.invoice_id,
                    invoice_date=date_label(s.invoice_date),
                    due_date=date_label(s.due_date),
                    total=format_money(s.total, s.currency_symbol),
                    balance=format_money(s.balance, s.currency_symbol),
                    status=s.status,
                    detail_url=urls[0],
                    pdf_url=urls[1],
                    usage_url=urls[2],
                    has_azure_usage=s.has_azure_usage,
                )
                for s, urls in ((s, invoice_urls(s.invoice_id)) for s in summaries)
            ],
        )
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
