"""My Invoices: the provider's invoices to the signed-in customer, with their breakdown.

Every total is computed here from the stored lines, in Decimal, to the cent. Every read is
scoped to the acting identity's organization: another customer's invoice id is "not found".
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlmodel import select

from opkalla_portal import clock
from opkalla_portal.db import session_scope
from opkalla_portal.models import BillingContract, Invoice, InvoiceLine, InvoiceUsageRow, Organization
from opkalla_portal.services.access import Capability, Identity, require
from opkalla_portal.services.errors import PortalError
from opkalla_portal.services.money import to_cents
from opkalla_portal.services.spreadsheet import safe_cell

OPEN, PAID = "open", "paid"
TABS = {OPEN: "Open Invoices", PAID: "Paid Invoices"}
SORT_KEYS = ("invoice_id", "invoice_date", "due_date", "total", "balance", "status")
MAX_SEARCH = 60


class InvoiceNotFound(PortalError, LookupError):
    """No such invoice for this customer (also the answer for another customer's id)."""

    code_default = "invoice.not_found"

    def __init__(self, invoice_id: object = None) -> None:
        super().__init__("That invoice was not found.")
        self.invoice_id = invoice_id


@dataclass(frozen=True)
class InvoiceLineView:
    product_name: str
    kind: str
    subscription_id: str
    quantity: int
    unit_price: Decimal
    period_start: date
    period_end: date
    proration: Decimal
    amount: Decimal
    tax_rate: Decimal
    tax_amount: Decimal

    @property
    def line_total(self) -> Decimal:
        return self.amount + self.tax_amount


@dataclass(frozen=True)
class InvoiceSummary:
    invoice_id: str
    invoice_date: date
    due_date: date
    currency_symbol: str
    total: Decimal
    balance: Decimal
    status: str  # Open | Overdue | Paid
    has_azure_usage: bool = False


@dataclass(frozen=True)
class InvoiceDetail:
    summary: InvoiceSummary
    period_start: date
    period_end: date
    currency_code: str
    paid_amount: Decimal
    subtotal: Decimal
    tax: Decimal
    lines: list[InvoiceLineView] = field(default_factory=list)
    bill_to: list[str] = field(default_factory=list)
    bill_from: list[str] = field(default_factory=list)
    contract_name: str = ""

    @property
    def has_azure_usage(self) -> bool:
        return self.summary.has_azure_usage


def invoice_status(balance: Decimal, due_date: date, today: date) -> str:
    """Paid when nothing is owed; Overdue when owed past the due date; else Open."""
    if balance <= 0:
        return "Paid"
    return "Overdue" if due_date < today else "Open"


def _lines_view(lines: list[InvoiceLine]) -> list[InvoiceLineView]:
    return [
        InvoiceLineView(
            product_name=line.product_name,
            kind=line.kind,
            subscription_id=line.subscription_id,
            quantity=line.quantity,
            unit_price=to_cents(line.unit_price),
            period_start=line.period_start,
            period_end=line.period_end,
            proration=Decimal(line.proration),
            amount=to_cents(line.amount),
            tax_rate=Decimal(line.tax_rate),
            tax_amount=to_cents(line.tax_amount),
        )
        for line in sorted(lines, key=lambda item: (item.kind != "license", item.product_name, item.id or 0))
    ]


def _summary(invoice: Invoice, total: Decimal, has_usage: bool, today: date) -> InvoiceSummary:
    balance = total - to_cents(invoice.paid_amount)
    return InvoiceSummary(
        invoice.id,
        invoice.invoice_date,
        invoice.due_date,
        invoice.currency_symbol,
        total,
        balance,
        invoice_status(balance, invoice.due_date, today),
        has_usage,
    )


def list_invoices(
    identity: Identity,
    *,
    tab: str = OPEN,
    search: str = "",
    sort: str = "invoice_date",
    descending: bool = True,
    today: date | None = None,
) -> list[InvoiceSummary]:
    """The customer's invoices on one tab (Open includes Overdue), filtered and sorted."""
    require(identity, Capability.INVOICES)
    today = today or clock.today()
    if tab not in TABS:
        tab = OPEN
    if sort not in SORT_KEYS:
        sort = "invoice_date"
    needle = search.strip().lower()[:MAX_SEARCH]
    summaries = [s for s in invoice_summaries(identity, today) if (s.status == "Paid") == (tab == PAID)]
    if needle:
        summaries = [s for s in summaries if needle in _searchable(s)]
    return sorted(summaries, key=lambda s: (getattr(s, sort), s.invoice_id), reverse=descending)


def invoice_summaries(identity: Identity, today: date) -> list[InvoiceSummary]:
    """Every invoice of the customer (both tabs), unsorted: two queries."""
    require(identity, Capability.INVOICES)
    with session_scope() as db:
        invoices = db.exec(
            select(Invoice).where(Invoice.organization_id == identity.organization_id, Invoice.state == "issued")
        ).all()  # drafts are the provider's
        ids = [invoice.id for invoice in invoices]
        # Only what a summary needs (not every line as an object: this runs on every My Invoices
        # and My Services visit); each line's total exactly as the invoice page adds it.
        lines = (
            db.exec(
                select(InvoiceLine.invoice_id, InvoiceLine.kind, InvoiceLine.amount, InvoiceLine.tax_amount).where(
                    InvoiceLine.invoice_id.in_(ids)
                )
            ).all()
            if ids
            else []
        )
    totals: dict[str, Decimal] = {}
    with_usage: set[str] = set()
    for invoice_id, kind, amount, tax_amount in lines:
        totals[invoice_id] = totals.get(invoice_id, Decimal("0.00")) + to_cents(amount) + to_cents(tax_amount)
        if kind == "azure_usage":
            with_usage.add(invoice_id)
    return [_summary(inv, totals.get(inv.id, Decimal("0.00")), inv.id in with_usage, today) for inv in invoices]


def _searchable(summary: InvoiceSummary) -> str:
    return " ".join(
        [
            summary.invoice_id,
            summary.status,
            summary.invoice_date.isoformat(),
            summary.due_date.isoformat(),
            summary.invoice_date.strftime("%b %d, %Y"),
            summary.due_date.strftime("%b %d, %Y"),
            f"{summary.total:,.2f}",
            f"{summary.total:.2f}",
            f"{summary.balance:,.2f}",
        ]
    ).lower()


def get_invoice(identity: Identity, invoice_id: object, *, today: date | None = None) -> InvoiceDetail:
    """One invoice of the acting customer with its lines; raises InvoiceNotFound otherwise."""
    require(identity, Capability.INVOICES)
    today = today or clock.today()
    if not isinstance(invoice_id, str) or not invoice_id or len(invoice_id) > 40:
        raise InvoiceNotFound(invoice_id)
    with session_scope() as db:
        invoice = db.exec(
            select(Invoice).where(
                Invoice.id == invoice_id, Invoice.state == "issued", Invoice.organization_id == identity.organization_id
            )
        ).first()
        if invoice is None:
            raise InvoiceNotFound(invoice_id)
        lines = _lines_view(list(db.exec(select(InvoiceLine).where(InvoiceLine.invoice_id == invoice.id)).all()))
        organization = db.get(Organization, identity.organization_id)
        contract = db.get(BillingContract, invoice.billing_contract_id) if invoice.billing_contract_id else None
        provider = db.exec(select(Organization).where(Organization.is_provider == True)).first()  # noqa: E712
    total = sum((line.line_total for line in lines), Decimal("0.00"))
    summary = _summary(invoice, total, any(line.kind == "azure_usage" for line in lines), today)
    return InvoiceDetail(
        summary=summary,
        period_start=invoice.period_start,
        period_end=invoice.period_end,
        currency_code=invoice.currency_code,
        paid_amount=to_cents(invoice.paid_amount),
        subtotal=sum((line.amount for line in lines), Decimal("0.00")),
        tax=sum((line.tax_amount for line in lines), Decimal("0.00")),
        lines=lines,
        bill_to=_bill_to(organization),
        bill_from=_bill_to(provider),
        contract_name=contract.name if contract else "",
    )


def _bill_to(organization: Organization | None) -> list[str]:
    if organization is None:
        return []
    city_line = " ".join(
        part
        for part in (f"{organization.city}," if organization.city else "", organization.state, organization.postal_code)
        if part
    )
    return [
        line
        for line in (
            organization.name,
            organization.address_line1,
            organization.address_line2,
            city_line,
            organization.email,
        )
        if line
    ]


# ------------------------------------------------------------------ Azure usage (CSV)
USAGE_CSV_COLUMNS = [
    "Date",
    "Subscription ID",
    "Resource",
    "Resource Group",
    "Service Category",
    "Meter",
    "Quantity",
    "Unit",
    "Unit Price",
    "Cost",
    "Currency",
]


@dataclass(frozen=True)
class UsageRow:
    day: str
    subscription_id: str
    resource: str
    resource_group: str
    category: str
    meter: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    cost: Decimal
    currency: str


def invoice_usage_rows(identity: Identity, invoice_id: object) -> list[UsageRow]:
    """The Azure usage behind an invoice: the billed usage rows its billing run priced, one per
    day, resource and meter, at the customer's price (so they add up to the Azure line)."""
    detail = get_invoice(identity, invoice_id)
    with session_scope() as db:
        stored = db.exec(
            select(InvoiceUsageRow)
            .where(InvoiceUsageRow.invoice_id == detail.summary.invoice_id)
            .order_by(InvoiceUsageRow.usage_date, InvoiceUsageRow.resource, InvoiceUsageRow.meter, InvoiceUsageRow.id)
        ).all()
    return [
        UsageRow(
            day=row.usage_date.isoformat(),
            subscription_id=row.subscription_id,
            resource=row.resource,
            resource_group=row.resource_group,
            category=row.category,
            meter=row.meter,
            quantity=Decimal(row.quantity),
            unit=row.unit,
            unit_price=Decimal(row.unit_price),
            cost=to_cents(row.amount),
            currency=row.currency,
        )
        for row in stored
    ]


def usage_csv(rows: list[UsageRow]) -> str:
    """The rows as CSV text (amounts with two decimals, no currency symbol so it sums in a sheet)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(USAGE_CSV_COLUMNS)
    for row in rows:
        writer.writerow(
            [
                row.day,
                *map(safe_cell, (row.subscription_id, row.resource, row.resource_group, row.category, row.meter)),
                f"{row.quantity.normalize():f}",
                safe_cell(row.unit),
                f"{row.unit_price.normalize():f}",
                f"{row.cost:.2f}",
                safe_cell(row.currency),
            ]
        )
    return buffer.getvalue()
