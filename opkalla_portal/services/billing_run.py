"""The provider's monthly billing run (issue 17): Microsoft's billed reconciliation in, the
provider's invoices to its customers out.

A run covers one closed billing period. It streams Microsoft's line items (never holding a
whole export), maps each to the portal customer by tenant, prices it with the provider's price
list (a monthly sell price, or a markup on Microsoft's cost; a customer's own price wins), in
Decimal to the cent, and writes draft invoices: one per customer, billing contract and
period. A line's contract is the one its subscription is billed under in the portal
(ContractSubscription, what Subscriptions and the Product Catalog group by); a subscription the
portal never mapped (bought outside it) goes on the customer's default contract (its billing
profile). The Azure usage rows behind an invoice's Azure line are kept with it (Download
Usage). Lines it cannot bill become exceptions (a tenant that is no portal customer, a product
missing from the price list) that block issuing until they are resolved (re-run after fixing) or consciously excluded.

Rules that keep money safe:
- Issued invoices never change: re-running an issued period does nothing, and a later
  correction from Microsoft arrives in a later period's export (as negative or adjustment
  lines) and so lands on the next invoice.
- Invoice numbers are the provider's gapless sequence, taken in the issuing transaction.
- Progress is committed per batch with the export cursor (`rows_done`): a killed run resumes
  after its last committed batch, and a lease lets one worker run a period at a time.
- Tie-out: Microsoft's cost of every line read = cost on the invoices + cost in exceptions.
"""

from __future__ import annotations

import os
import socket
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import func, insert, or_, update
from sqlmodel import Session, delete, select

from opkalla_portal import clock
from opkalla_portal.db import session_scope
from opkalla_portal.models import (
    BillingContract,
    BillingRun,
    BillingRunException,
    ContractSubscription,
    CustomerBillingProfile,
    Invoice,
    InvoiceLine,
    InvoiceNumberSequence,
    InvoiceUsageRow,
    Organization,
    PriceListEntry,
)
from opkalla_portal.services.access import Capability, Identity, require
from opkalla_portal.services.azure_usage import export_usage_row
from opkalla_portal.services.errors import PortalError

CENT = Decimal("0.01")
BATCH = 2000
LEASE = timedelta(minutes=5)
RUNNING, DRAFT, ISSUED = "running", "draft", "issued"
UNKNOWN_CUSTOMER, UNPRICED_PRODUCT = "unknown_customer", "unpriced_product"
# Azure plan consumption: the billed reconciliation carries one summary line per subscription
# ("usage"); its detail, read from the billed usage export, is what the run bills.
USAGE_SUMMARY = "usage"


class BillingRunError(PortalError, ValueError):
    """A run cannot do what was asked (message for the provider's administrator)."""

    code_default = "billing_run.refused"


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _money(value: object) -> Decimal:
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(str(value if value not in (None, "") else 0))


def _day(value: object) -> date:
    return date.fromisoformat(str(value)[:10])


def invoice_due_date(invoice_date: date) -> date:
    """Due at the end of the month the invoice is dated in (invoices are dated on the 1st)."""
    first = invoice_date.replace(day=1)
    return (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)


# ---------------------------------------------------------------- pricing
@dataclass
class PriceList:
    by_customer: dict[tuple[str, int], PriceListEntry]
    general: dict[str, PriceListEntry]

    @classmethod
    def load(cls, db: Session) -> PriceList:
        entries = db.exec(select(PriceListEntry)).all()
        return cls(
            {(e.product_key, e.organization_id): e for e in entries if e.organization_id is not None},
            {e.product_key: e for e in entries if e.organization_id is None},
        )

    def find(self, product_key: str, product_id: str, organization_id: int) -> PriceListEntry | None:
        for key in (product_key, product_id):
            entry = self.by_customer.get((key, organization_id)) or self.general.get(key)
            if entry is not None:
                return entry
        return None


def sell_unit_price(entry: PriceListEntry, cost_unit_price: Decimal, months: int) -> Decimal:
    """The customer's price per unit for the charge's cycle (months = 12 for annual billing)."""
    if entry.monthly_sell_price is not None:
        return (Decimal(entry.monthly_sell_price) * months).quantize(CENT, ROUND_HALF_UP)
    markup = Decimal(entry.markup_percent or 0) / 100
    return (cost_unit_price * (1 + markup)).quantize(CENT, ROUND_HALF_UP)


def marked_up(entry: PriceListEntry, cost: Decimal) -> Decimal:
    """Usage is priced on Microsoft's rated cost (a monthly sell price makes no sense there)."""
    return _marked_up_rate(entry, cost).quantize(CENT, ROUND_HALF_UP)


def _marked_up_rate(entry: PriceListEntry, rate: Decimal) -> Decimal:
    """A usage rate with the markup, unrounded (a meter's unit price has more than two decimals)."""
    return rate * (1 + Decimal(entry.markup_percent or 0) / 100)


# ---------------------------------------------------------------- the run
@dataclass
class _Context:
    """What a batch needs, loaded once per process (small: customers and prices, not lines)."""

    run: BillingRun
    customers: dict[str, Organization]
    profiles: dict[int, CustomerBillingProfile]
    prices: PriceList
    contract_of: dict[str, int]  # subscription id (lower case) -> billing contract id
    contracts: dict[int, tuple[int, int]]  # contract id -> (organization id, its position there, from 1)
    # (organization id, contract id) -> draft invoice id
    invoice_ids: dict[tuple[int, int | None], str] = field(default_factory=dict)

    def contract_for(self, organization_id: int, subscription_id: str) -> int | None:
        """The contract a line is billed under: its subscription's, else the customer's default."""
        contract_id = self.contract_of.get(subscription_id.lower())
        if contract_id is not None and self.contracts[contract_id][0] == organization_id:
            return contract_id
        profile = self.profiles.get(organization_id)
        return profile.billing_contract_id if profile else None


def start_run(
    period_start: date,
    period_end: date,
    *,
    microsoft_invoice_id: str = "",
    microsoft_invoice_total: Decimal | None = None,
) -> BillingRun:
    """The period's run: created if new, else the existing one (whatever its state)."""
    with session_scope() as db:
        run = db.exec(select(BillingRun).where(BillingRun.period_start == period_start)).first()
        if run is None:
            run = BillingRun(
                period_start=period_start,
                period_end=period_end,
                microsoft_invoice_id=microsoft_invoice_id,
                microsoft_invoice_total=microsoft_invoice_total,
            )
            db.add(run)
            try:
                db.flush()
            except Exception:  # another worker created it first: use theirs
                db.rollback()
                run = db.exec(select(BillingRun).where(BillingRun.period_start == period_start)).one()
        db.refresh(run)
        db.expunge(run)
        return run


def claim(run_id: int, worker: str, now: datetime | None = None) -> int | None:
    """Take the run's lease if it is running and nobody holds a live lease; the cursor, or None."""
    now = now or clock.now()
    with session_scope() as db:
        taken = db.exec(
            update(BillingRun)
            .where(
                BillingRun.id == run_id,
                BillingRun.state == RUNNING,
                or_(
                    BillingRun.lease_owner.is_(None),
                    BillingRun.lease_owner == worker,
                    BillingRun.lease_expires_at < now,
                ),
            )
            .values(lease_owner=worker, lease_expires_at=now + LEASE)
        ).rowcount
        if not taken:
            return None
        return db.get(BillingRun, run_id).rows_done


def _context(db: Session, run: BillingRun) -> _Context:
    customers = {
        o.tenant_id.lower(): o for o in db.exec(select(Organization).where(Organization.is_provider.is_(False))).all()
    }
    profiles = {p.organization_id: p for p in db.exec(select(CustomerBillingProfile)).all()}
    contract_of = {
        s.lower(): c
        for s, c in db.exec(
            select(ContractSubscription.subscription_id, ContractSubscription.billing_contract_id)
        ).all()
    }
    contracts: dict[int, tuple[int, int]] = {}
    position: dict[int, int] = {}
    for contract_id, organization_id in db.exec(
        select(BillingContract.id, BillingContract.organization_id).order_by(BillingContract.id)
    ).all():
        position[organization_id] = position.get(organization_id, 0) + 1
        contracts[contract_id] = (organization_id, position[organization_id])
    context = _Context(run, customers, profiles, PriceList.load(db), contract_of, contracts)
    for invoice in db.exec(select(Invoice).where(Invoice.billing_run_id == run.id)).all():
        context.invoice_ids[(invoice.organization_id, invoice.billing_contract_id)] = invoice.id
    return context


def invoice_id_for(prefix: str, invoice_date: date, contract_position: int | None) -> str:
    """The Invoice ID customers see: prefix, month, and which of the customer's contracts (its
    position among them, stable from month to month)."""
    text = f"{prefix}-INV-{invoice_date:%Y%m}"
    return f"{text}-{contract_position}" if contract_position else text


def _draft_invoice(db: Session, context: _Context, organization: Organization, contract_id: int | None) -> str:
    key = (organization.id, contract_id)
    invoice_id = context.invoice_ids.get(key)
    if invoice_id:
        return invoice_id
    run = context.run
    profile = context.profiles.get(organization.id)
    prefix = profile.invoice_prefix if profile else f"C{organization.id}"
    invoice_date = run.period_end + timedelta(days=1)
    invoice_id = invoice_id_for(prefix, invoice_date, context.contracts[contract_id][1] if contract_id else None)
    db.add(
        Invoice(
            id=invoice_id,
            organization_id=organization.id,
            billing_contract_id=contract_id,
            invoice_date=invoice_date,
            due_date=invoice_due_date(invoice_date),
            period_start=run.period_start,
            period_end=run.period_end,
            state=DRAFT,
            billing_run_id=run.id,
        )
    )
    db.flush()
    context.invoice_ids[key] = invoice_id
    return invoice_id


def _exception(db: Session, run_id: int, kind: str, key: str, description: str, cost: Decimal) -> None:
    row = db.exec(
        select(BillingRunException).where(
            BillingRunException.billing_run_id == run_id,
            BillingRunException.kind == kind,
            BillingRunException.key == key,
        )
    ).first()
    if row is None:
        row = BillingRunException(billing_run_id=run_id, kind=kind, key=key[:160], description=description[:300])
    row.line_count += 1
    row.cost_amount = Decimal(row.cost_amount) + cost
    db.add(row)


def _tax(amount: Decimal, rate: Decimal) -> Decimal:
    return (amount * rate).quantize(CENT, ROUND_HALF_UP)


def _write_batch(db: Session, context: _Context, rows: list[dict]) -> Decimal:
    """Map and price one batch of line items; returns Microsoft's cost of the batch."""
    run = context.run
    batch_cost = Decimal("0.00")
    # (invoice, subscription) -> cost, amount, name, price key
    usage: dict[tuple[str, str], tuple[Decimal, Decimal, str, str]] = {}
    usage_rows: list[dict] = []
    license_lines: list[dict] = []
    for row in rows:
        is_usage_detail = "usageDate" in row
        if not is_usage_detail and str(row.get("chargeType", "")).lower() == USAGE_SUMMARY:
            continue  # summarised usage: billed from its daily detail instead
        detail = export_usage_row(row) if is_usage_detail else None
        # A usage row counts at the cent, as Usage Data and the usage CSV show it.
        cost = detail.cost if detail else _money(row.get("subtotal"))
        batch_cost += cost
        tenant = str(row.get("customerId", "")).lower()
        organization = context.customers.get(tenant)
        if organization is None:
            _exception(
                db,
                run.id,
                UNKNOWN_CUSTOMER,
                tenant,
                f"{row.get('customerName') or 'Unknown customer'} (tenant {tenant}) is no portal customer",
                cost,
            )
            continue
        product_id = str(row.get("productId", ""))
        product_key = f"{product_id}:{row.get('skuId', '')}"
        entry = context.prices.find(product_key, product_id, organization.id)
        if entry is None:
            _exception(
                db,
                run.id,
                UNPRICED_PRODUCT,
                product_key,
                f"{row.get('productName') or product_key} is not in the price list",
                cost,
            )
            continue
        subscription_id = str(row.get("subscriptionId", ""))
        invoice_id = _draft_invoice(db, context, organization, context.contract_for(organization.id, subscription_id))
        if detail is not None:
            amount = marked_up(entry, cost)
            key = (invoice_id, subscription_id)
            cost_before, amount_before = usage[key][:2] if key in usage else (Decimal("0.00"), Decimal("0.00"))
            usage[key] = (
                cost_before + cost,
                amount_before + amount,
                entry.friendly_name or str(row.get("productName", "")),
                entry.product_key,
            )
            usage_rows.append(
                dict(
                    invoice_id=invoice_id,
                    subscription_id=subscription_id[:64],
                    usage_date=_day(detail.day),
                    resource=detail.resource[:200],
                    resource_group=detail.resource_group[:200],
                    category=detail.category[:120],
                    meter=detail.meter[:200],
                    quantity=detail.quantity,
                    unit=detail.unit[:60],
                    unit_price=_marked_up_rate(entry, detail.unit_price),
                    cost_amount=cost,
                    amount=amount,
                    currency=detail.currency[:3],
                )
            )
            continue
        profile = context.profiles.get(organization.id)
        rate = Decimal(profile.tax_rate) if profile else Decimal("0")
        quantity = int(_money(row.get("quantity", 0)))
        cost_unit = _money(row.get("unitPrice"))
        months = 12 if str(row.get("billingFrequency", "")).lower() == "annual" else 1
        unit_price = sell_unit_price(entry, cost_unit, months)
        full = cost_unit * quantity
        proration = (cost / full).quantize(Decimal("0.0001"), ROUND_HALF_UP) if full else Decimal(1)
        amount = (unit_price * quantity * proration).quantize(CENT, ROUND_HALF_UP)
        license_lines.append(
            dict(
                invoice_id=invoice_id,
                kind="license",
                subscription_id=subscription_id,
                product_name=(entry.friendly_name or str(row.get("productName", "")))[:200],
                quantity=quantity,
                unit_price=unit_price,
                period_start=_day(row.get("chargeStartDate") or run.period_start),
                period_end=_day(row.get("chargeEndDate") or run.period_end),
                proration=proration,
                amount=amount,
                tax_rate=rate,
                tax_amount=_tax(amount, rate),
                cost_amount=cost,
                product_key=entry.product_key,
                charge_type=str(row.get("chargeType", ""))[:40],
            )
        )
    if license_lines:  # one multi-row INSERT: building ORM objects per line is the slow part
        db.execute(insert(InvoiceLine.__table__), license_lines)
    if usage_rows:
        db.execute(insert(InvoiceUsageRow.__table__), usage_rows)
    for (invoice_id, subscription_id), (cost, amount, product_name, price_key) in usage.items():
        line = db.exec(
            select(InvoiceLine).where(
                InvoiceLine.invoice_id == invoice_id,
                InvoiceLine.subscription_id == subscription_id,
                InvoiceLine.kind == "azure_usage",
            )
        ).first()
        if line is None:
            line = InvoiceLine(
                invoice_id=invoice_id,
                kind="azure_usage",
                subscription_id=subscription_id,
                product_name=product_name[:200],
                quantity=1,
                period_start=run.period_start,
                period_end=run.period_end,
                charge_type="usage",
                product_key=price_key,
            )
        line.cost_amount = Decimal(line.cost_amount or 0) + cost
        line.amount = Decimal(line.amount or 0) + amount
        db.add(line)
    return batch_cost


def _finish(db: Session, context: _Context) -> None:
    """Tax the usage lines on their whole month (their amount is the sum of their priced usage
    rows, so Download Usage adds up to the line); the run becomes a draft."""
    for line in db.exec(
        select(InvoiceLine)
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .where(Invoice.billing_run_id == context.run.id, InvoiceLine.kind == "azure_usage")
    ).all():
        organization_id = db.get(Invoice, line.invoice_id).organization_id
        profile = context.profiles.get(organization_id)
        rate = Decimal(profile.tax_rate) if profile else Decimal("0")
        line.unit_price = line.amount
        line.tax_rate = rate
        line.tax_amount = _tax(line.amount, rate)
        db.add(line)
    # Exceptions a re-run no longer meets (their price or customer was added) are resolved.
    db.exec(
        delete(BillingRunException).where(
            BillingRunException.billing_run_id == context.run.id, BillingRunException.line_count == 0
        )
    )


def _commit_batch(run_id: int, worker: str, rows: list[dict], context: _Context | None) -> _Context:
    """One transaction: the batch's lines, the run's cursor and cost, the lease renewed."""
    now = clock.now()
    with session_scope() as db:
        run = db.get(BillingRun, run_id)
        if run.state != RUNNING or run.lease_owner != worker:
            raise BillingRunError("This run's lease was taken by another worker.")
        if context is None:
            context = _context(db, run)
        context.run = run
        cost = _write_batch(db, context, rows)
        run.rows_done += len(rows)
        run.microsoft_total = Decimal(run.microsoft_total) + cost
        run.lease_expires_at = now + LEASE
        db.add(run)
        db.flush()
        db.expunge(run)
    return context


def _complete(run_id: int, worker: str, context: _Context | None) -> None:
    with session_scope() as db:
        run = db.get(BillingRun, run_id)
        if run.state != RUNNING or run.lease_owner != worker:
            raise BillingRunError("This run's lease was taken by another worker.")
        context = context or _context(db, run)
        context.run = run
        _finish(db, context)
        run.state, run.completed_at, run.lease_owner, run.lease_expires_at = DRAFT, clock.now(), None, None
        db.add(run)


def execute(run_id: int, rows: Iterable[dict], *, worker: str | None = None, batch: int = BATCH) -> bool:
    """Run (or resume) a run over its line items, in export order. False when another worker
    holds it or it is no longer running (a draft or issued run is left as it is)."""
    worker = worker or worker_name()
    done = claim(run_id, worker)
    if done is None:
        return False
    batches = _Batches(run_id, worker, done, batch)
    for row in rows:
        batches.add(row)
    batches.finish()
    return True


async def execute_async(
    run_id: int, rows: AsyncIterator[dict], *, worker: str | None = None, batch: int = BATCH
) -> bool:
    """`execute` over an asynchronous stream (Microsoft's exports). The stream is read between
    transactions: no network call happens inside one."""
    worker = worker or worker_name()
    done = claim(run_id, worker)
    if done is None:
        return False
    batches = _Batches(run_id, worker, done, batch)
    async for row in rows:
        batches.add(row)
    batches.finish()
    return True


class _Batches:
    """A run's rows committed `size` at a time, skipping the `done` ones committed before a crash."""

    def __init__(self, run_id: int, worker: str, done: int, size: int) -> None:
        self.run_id, self.worker, self.done, self.size = run_id, worker, done, size
        self.seen = 0
        self.pending: list[dict] = []
        self.context: _Context | None = None

    def add(self, row: dict) -> None:
        self.seen += 1
        if self.seen <= self.done:
            return
        self.pending.append(row)
        if len(self.pending) >= self.size:
            self._commit()

    def _commit(self) -> None:
        self.context = _commit_batch(self.run_id, self.worker, self.pending, self.context)
        self.pending = []

    def finish(self) -> None:
        if self.pending:
            self._commit()
        _complete(self.run_id, self.worker, self.context)


async def microsoft_rows(clients, invoice_id: str) -> AsyncIterator[dict]:
    """A Microsoft invoice's line items: the billed reconciliation, then its billed usage."""
    exports = clients.billing_reconciliation
    async for row in exports.billed_reconciliation(invoice_id):
        yield row
    async for row in exports.billed_usage(invoice_id):
        yield row


def rerun(run_id: int) -> None:
    """Start a draft run over (after a price or customer was added): its drafts are discarded.
    An issued run never changes."""
    with session_scope() as db:
        run = db.get(BillingRun, run_id)
        if run is None:
            raise BillingRunError("That billing run was not found.")
        if run.state == ISSUED:
            raise BillingRunError("An issued billing run never changes; corrections go on the next invoice.")
        invoice_ids = db.exec(select(Invoice.id).where(Invoice.billing_run_id == run_id, Invoice.state == DRAFT)).all()
        if invoice_ids:
            db.exec(delete(InvoiceUsageRow).where(InvoiceUsageRow.invoice_id.in_(invoice_ids)))
            db.exec(delete(InvoiceLine).where(InvoiceLine.invoice_id.in_(invoice_ids)))
            db.exec(delete(Invoice).where(Invoice.id.in_(invoice_ids)))
        # Exclusions are decisions: they survive a re-run (counted again as the lines reappear).
        db.exec(
            delete(BillingRunException).where(
                BillingRunException.billing_run_id == run_id, BillingRunException.excluded.is_(False)
            )
        )
        db.exec(
            update(BillingRunException)
            .where(BillingRunException.billing_run_id == run_id)
            .values(line_count=0, cost_amount=0)
        )
        run.state, run.rows_done, run.microsoft_total = RUNNING, 0, Decimal("0.00")
        run.lease_owner = run.lease_expires_at = run.completed_at = None
        db.add(run)


# ---------------------------------------------------------------- review and issue
@dataclass(frozen=True)
class CustomerTotal:
    organization_name: str
    invoice_id: str
    contract_name: str
    cost: Decimal
    sell: Decimal
    tax: Decimal

    @property
    def margin(self) -> Decimal:
        return self.sell - self.cost


@dataclass(frozen=True)
class RunSummary:
    id: int
    period_start: date
    period_end: date
    state: str
    microsoft_invoice_id: str
    rows_done: int
    microsoft_total: Decimal  # cost of every line read
    microsoft_invoice_total: Decimal | None  # Microsoft's own invoice total, when known
    invoiced_cost: Decimal
    exception_cost: Decimal
    sell_total: Decimal
    customers: list[CustomerTotal]
    exceptions: list[BillingRunException]

    @property
    def margin(self) -> Decimal:
        return self.sell_total - self.invoiced_cost

    @property
    def ties_out(self) -> bool:
        read_ok = self.invoiced_cost + self.exception_cost == self.microsoft_total
        return read_ok and (
            self.microsoft_invoice_total is None or self.microsoft_total == self.microsoft_invoice_total
        )

    @property
    def open_exceptions(self) -> list[BillingRunException]:
        return [e for e in self.exceptions if not e.excluded]

    @property
    def can_issue(self) -> bool:
        return self.state == DRAFT and not self.open_exceptions and self.ties_out


def summarize(run_id: int) -> RunSummary:
    with session_scope() as db:
        run = db.get(BillingRun, run_id)
        if run is None:
            raise BillingRunError("That billing run was not found.")
        rows = db.exec(
            select(
                Organization.name,
                Invoice.id,
                func.coalesce(BillingContract.name, ""),
                func.coalesce(func.sum(InvoiceLine.cost_amount), 0),
                func.coalesce(func.sum(InvoiceLine.amount), 0),
                func.coalesce(func.sum(InvoiceLine.tax_amount), 0),
            )
            .join(Invoice, Invoice.organization_id == Organization.id)
            .join(BillingContract, BillingContract.id == Invoice.billing_contract_id, isouter=True)
            .join(InvoiceLine, InvoiceLine.invoice_id == Invoice.id, isouter=True)
            .where(Invoice.billing_run_id == run_id)
            .group_by(Organization.name, Invoice.id, BillingContract.name)
            .order_by(Organization.name, Invoice.id)
        ).all()
        exceptions = list(
            db.exec(
                select(BillingRunException)
                .where(BillingRunException.billing_run_id == run_id)
                .order_by(BillingRunException.kind, BillingRunException.key)
            ).all()
        )
        for e in exceptions:
            db.expunge(e)
    customers = [
        CustomerTotal(
            name, iid, contract, Decimal(c).quantize(CENT), Decimal(s).quantize(CENT), Decimal(t).quantize(CENT)
        )
        for name, iid, contract, c, s, t in rows
    ]
    return RunSummary(
        id=run.id,
        period_start=run.period_start,
        period_end=run.period_end,
        state=run.state,
        microsoft_invoice_id=run.microsoft_invoice_id,
        rows_done=run.rows_done,
        microsoft_total=Decimal(run.microsoft_total).quantize(CENT),
        microsoft_invoice_total=(
            Decimal(run.microsoft_invoice_total).quantize(CENT) if run.microsoft_invoice_total is not None else None
        ),
        invoiced_cost=sum((c.cost for c in customers), Decimal("0.00")),
        exception_cost=sum((Decimal(e.cost_amount) for e in exceptions), Decimal("0.00")).quantize(CENT),
        sell_total=sum((c.sell for c in customers), Decimal("0.00")),
        customers=customers,
        exceptions=exceptions,
    )


def list_runs() -> list[RunSummary]:
    with session_scope() as db:
        ids = db.exec(select(BillingRun.id).order_by(BillingRun.period_start.desc())).all()
    return [summarize(run_id) for run_id in ids]


def set_excluded(exception_id: int, excluded: bool, user_id: int | None) -> None:
    """Consciously leave an exception's lines off the invoices (or take that back)."""
    with session_scope() as db:
        row = db.get(BillingRunException, exception_id)
        if row is None:
            raise BillingRunError("That exception was not found.")
        run = db.get(BillingRun, row.billing_run_id)
        if run.state == ISSUED:
            raise BillingRunError("The run is issued; its exceptions can no longer change.")
        row.excluded, row.excluded_by_id = excluded, user_id if excluded else None
        db.add(row)


def issue(run_id: int, user_id: int | None, *, notify=None) -> list[str]:
    """Issue a draft run: number its invoices from the provider's sequence and make them
    visible to customers, in one transaction. Issuing twice changes nothing (returns [])."""
    summary = summarize(run_id)
    if summary.state == ISSUED:
        return []
    if summary.state != DRAFT:
        raise BillingRunError("The run has not finished yet.")
    if summary.open_exceptions:
        raise BillingRunError("Resolve or exclude every exception before issuing.")
    if not summary.ties_out:
        raise BillingRunError("The run does not tie out to Microsoft's billed total.")
    with session_scope() as db:
        claimed = db.exec(
            update(BillingRun)
            .where(BillingRun.id == run_id, BillingRun.state == DRAFT)
            .values(state=ISSUED, issued_at=clock.now(), issued_by_id=user_id)
        ).rowcount
        if not claimed:
            return []
        sequence = db.exec(select(InvoiceNumberSequence).where(InvoiceNumberSequence.id == 1).with_for_update()).first()
        if sequence is None:
            sequence = InvoiceNumberSequence(id=1, last_number=0)
        invoices = db.exec(
            select(Invoice)
            .join(Organization, Organization.id == Invoice.organization_id)
            .where(Invoice.billing_run_id == run_id)
            .order_by(Organization.name, Invoice.id)
        ).all()
        for invoice in invoices:
            sequence.last_number += 1
            invoice.number, invoice.state = sequence.last_number, ISSUED
            db.add(invoice)
        db.add(sequence)
        db.flush()
        if notify is not None:
            notify(db, invoices)
        return [invoice.id for invoice in invoices]


# ---------------------------------------------------------------- the provider's page
def require_billing_admin(identity: Identity | None) -> Identity:
    """Billing runs are for the provider's Administrators only (re-checked on every call)."""
    return require(identity, Capability.BILLING_RUNS)


def _period_label(run: RunSummary) -> str:
    return run.period_start.strftime("%B %Y")


def _usd(amount: Decimal) -> str:
    return f"-${-amount:,.2f}" if amount < 0 else f"${amount:,.2f}"


def runs_view(identity: Identity | None) -> list[dict]:
    """Every run, newest first, as the Billing Runs page lists them."""
    require_billing_admin(identity)
    return [_run_row(run) for run in list_runs()]


def _run_row(run: RunSummary) -> dict:
    difference = run.microsoft_total - run.invoiced_cost - run.exception_cost
    if run.microsoft_invoice_total is not None:
        difference = run.microsoft_invoice_total - run.invoiced_cost - run.exception_cost
    return {
        "id": run.id,
        "period": _period_label(run),
        "state": run.state.capitalize(),
        "microsoft_invoice": run.microsoft_invoice_id or "—",
        "microsoft_total": _usd(
            run.microsoft_invoice_total if run.microsoft_invoice_total is not None else run.microsoft_total
        ),
        "cost": _usd(run.invoiced_cost),
        "exception_cost": _usd(run.exception_cost),
        "sell": _usd(run.sell_total),
        "margin": _usd(run.margin),
        "ties_out": run.ties_out,
        "tie_out": "Ties out" if run.ties_out else f"Off by {_usd(difference)}",
        "open_exceptions": len(run.open_exceptions),
        "can_issue": run.can_issue,
    }


def run_detail(identity: Identity | None, run_id: object) -> dict:
    """One run: its totals per customer and its exceptions."""
    require_billing_admin(identity)
    if not isinstance(run_id, int) or isinstance(run_id, bool):
        raise BillingRunError("That billing run was not found.")
    run = summarize(run_id)
    return {
        **_run_row(run),
        "customers": [
            {
                "customer": c.organization_name,
                "invoice": c.invoice_id,
                "contract": c.contract_name or "—",
                "cost": _usd(c.cost),
                "sell": _usd(c.sell),
                "margin": _usd(c.margin),
            }
            for c in run.customers
        ],
        "exceptions": [
            {
                "id": e.id,
                "kind": "Not a portal customer" if e.kind == UNKNOWN_CUSTOMER else "Not in the price list",
                "description": e.description,
                "lines": e.line_count,
                "cost": _usd(Decimal(e.cost_amount)),
                "excluded": e.excluded,
            }
            for e in run.exceptions
        ],
    }


def exclude_exception(identity: Identity | None, exception_id: object, excluded: bool) -> None:
    identity = require_billing_admin(identity)
    if not isinstance(exception_id, int) or isinstance(exception_id, bool):
        raise BillingRunError("That exception was not found.")
    set_excluded(exception_id, bool(excluded), identity.user_id)


def issue_run(identity: Identity | None, run_id: object) -> list[str]:
    """Issue a draft run and tell each customer's Finance Managers and Administrators (those
    who kept "New invoices" on) through the outbox, in the same transaction."""
    identity = require_billing_admin(identity)
    if not isinstance(run_id, int) or isinstance(run_id, bool):
        raise BillingRunError("That billing run was not found.")
    return issue(run_id, identity.user_id, notify=notify_customers)


def notify_customers(db: Session, invoices: list[Invoice]) -> None:
    from opkalla_portal.services.mail import queue_mail
    from opkalla_portal.services.notifications import NEW_INVOICES, recipients

    for invoice in invoices:
        lines = db.exec(select(InvoiceLine).where(InvoiceLine.invoice_id == invoice.id)).all()
        total = sum((Decimal(line.amount) + Decimal(line.tax_amount) for line in lines), Decimal("0.00"))
        for user in recipients(db, invoice.organization_id, NEW_INVOICES):
            queue_mail(
                db,
                organization_id=invoice.organization_id,
                to=user.email,
                subject=f"Invoice {invoice.id} is ready",
                kind="new_invoice",
                body=(
                    f"Hello {user.first_name},\n\nYour invoice {invoice.id} for "
                    f"{invoice.period_start:%B %Y} is ready in My Invoices: {_usd(total)}, due "
                    f"{invoice.due_date:%b %d, %Y}.\n\nThe PDF in My Invoices is the invoice itself."
                ),
            )


async def bill_microsoft_invoice(clients, invoice: dict, *, worker: str | None = None) -> int:
    """The production entry point: the run for one of Microsoft's invoices to the provider (an
    item of Partner Center's invoice list), executed over its exports. Returns the run's id;
    an existing run is resumed if it was interrupted and otherwise left as it is."""
    period_start = _day(invoice["billingPeriodStartDate"])
    period_end = _day(invoice["billingPeriodEndDate"])
    total = invoice.get("totalCharges")
    run = start_run(
        period_start,
        period_end,
        microsoft_invoice_id=str(invoice["id"]),
        microsoft_invoice_total=_money(total).quantize(CENT) if total is not None else None,
    )
    if run.state == RUNNING:
        await execute_async(run.id, microsoft_rows(clients, str(invoice["id"])), worker=worker)
    return run.id


def last_closed_period(today: date) -> date:
    """The first day of the newest billing period that has ended (Microsoft bills calendar months)."""
    return (today.replace(day=1) - timedelta(days=1)).replace(day=1)


async def bill_closed_period(clients, *, worker: str | None = None, today: date | None = None) -> int | None:
    """The scheduler's step: once Microsoft has invoiced the newest closed billing period and the
    portal has no run for it, the run is created and executed into draft invoices for the
    provider's administrators to review on Billing Runs (issuing stays their decision). An
    interrupted run is resumed; a run another worker holds is left to it (its lease). Returns
    the run's id when it worked on one, else None. Asks Microsoft nothing once the period has
    a finished run."""
    today = today or clock.today()
    period_start = last_closed_period(today)
    with session_scope() as db:
        state = db.exec(select(BillingRun.state).where(BillingRun.period_start == period_start)).first()
    if state is not None and state != RUNNING:
        return None
    invoice = next(
        (
            i
            for i in await clients.partner_center.list_invoices()
            if _day(i["billingPeriodStartDate"]) == period_start
            and _day(i["billingPeriodEndDate"]) < today
            and str(i.get("documentType") or "Invoice") == "Invoice"
        ),
        None,
    )
    if invoice is None:  # Microsoft has not invoiced the period yet: ask again on a later tick
        return None
    return await bill_microsoft_invoice(clients, invoice, worker=worker)
