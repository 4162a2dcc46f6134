"""The provider's billing run (issue 17): Microsoft's billed reconciliation -> the customers' invoices.

Line items follow Microsoft's billed invoice reconciliation v2 (Graph
``/reports/partners/billing/reconciliation/billed/export``; Partner Center "Billed invoice
reconciliation API v2" field list: customerId, productId, skuId, subscriptionId, chargeType,
chargeStartDate, chargeEndDate, unitPrice, quantity, subtotal, billingFrequency) and the
billed usage export (usageDate, billingPreTaxTotal).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlmodel import select

from opkalla_portal.demo import demo_data
from opkalla_portal.demo.demo_data import _add_months
from opkalla_portal.services import billing_run
from opkalla_portal.services.invoices import InvoiceNotFound, get_invoice, list_invoices
from tests.conftest import TODAY
from tests.demo_invoices import demo_invoice_ids
from tests.money.conftest import FINANCE

LAKESIDE = demo_data.CUSTOMERS["lakeside"]
E3 = next(
    s
    for s in demo_data.SUBSCRIPTIONS
    if s.customer_key == "lakeside" and s.unit_type == "Licenses" and s.billing_cycle == "monthly"
)
# A period no demo run covers: this month (the demo bills the twelve closed months before it).
PERIOD_START = TODAY.replace(day=1)
PERIOD_END = _add_months(PERIOD_START, 1) - timedelta(days=1)
# The demo's invoices: a month's invoice per customer and billing contract billed that month.
DEMO_INVOICES = len(demo_invoice_ids(TODAY))


def _line(
    tenant=LAKESIDE.tenant_id,
    product_id=E3.product_id,
    sku_id=E3.sku_id,
    quantity=10,
    unit_price="20.00",
    subtotal="200.00",
    charge_type="cycleCharge",
    subscription="sub-1",
    name="Product",
):
    return {
        "customerId": tenant,
        "customerName": "Somebody",
        "productId": product_id,
        "skuId": sku_id,
        "productName": name,
        "subscriptionId": subscription,
        "chargeType": charge_type,
        "chargeStartDate": f"{PERIOD_START}T00:00:00Z",
        "chargeEndDate": f"{PERIOD_END}T00:00:00Z",
        "quantity": quantity,
        "unitPrice": float(unit_price),
        "subtotal": float(subtotal),
        "billingFrequency": "Monthly",
        "currency": "USD",
    }


def _invoices_of(run_id):
    from opkalla_portal.db import session_scope
    from opkalla_portal.models import Invoice, InvoiceLine

    with session_scope() as db:
        invoices = db.exec(select(Invoice).where(Invoice.billing_run_id == run_id).order_by(Invoice.id)).all()
        return {
            i.id: (
                i.state,
                i.number,
                sorted(
                    (
                        ln.product_name,
                        ln.quantity,
                        ln.unit_price,
                        ln.proration,
                        ln.amount,
                        ln.tax_amount,
                        ln.cost_amount,
                    )
                    for ln in db.exec(select(InvoiceLine).where(InvoiceLine.invoice_id == i.id)).all()
                ),
            )
            for i in invoices
        }


def test_the_demo_invoices_are_the_runs_output_and_tie_out(seeded):
    runs = billing_run.list_runs()
    assert len(runs) == 12 and all(r.state == "issued" for r in runs)
    numbers = []
    for run in runs:
        assert run.ties_out and not run.exceptions
        assert run.microsoft_total == run.microsoft_invoice_total == run.invoiced_cost  # Microsoft's billed total
        assert {c.organization_name for c in run.customers} == {"Lakeside Dental Partners", "Bayview Logistics"}
        assert run.margin >= 0 and run.margin == run.sell_total - run.invoiced_cost  # Azure is billed at cost
        numbers += [n for _, n, _ in _invoices_of(run.id).values()]
    assert sum(run.margin for run in runs) > 0  # licenses sell above Microsoft's cost
    assert sorted(numbers) == list(range(1, DEMO_INVOICES + 1))  # sequential per provider, no gaps


def test_one_invoice_per_customer_and_billing_contract(seeded):
    """Every line is on the invoice of the contract its subscription is billed under (what
    Subscriptions and the Product Catalog group by); Invoice IDs name the contract's place."""
    from opkalla_portal.db import session_scope
    from opkalla_portal.models import BillingContract, ContractSubscription, Invoice, InvoiceLine

    newest = billing_run.list_runs()[0]
    invoice_month = f"{_add_months(newest.period_start, 1):%Y%m}"
    with session_scope() as db:
        contract_of = dict(
            db.exec(select(ContractSubscription.subscription_id, ContractSubscription.billing_contract_id)).all()
        )
        names = dict(db.exec(select(BillingContract.id, BillingContract.name)).all())
        invoices = db.exec(select(Invoice).where(Invoice.billing_run_id == newest.id)).all()
        lines = {i.id: db.exec(select(InvoiceLine).where(InvoiceLine.invoice_id == i.id)).all() for i in invoices}
    billed_contracts = {contract_of[line.subscription_id] for ls in lines.values() for line in ls}
    assert sorted(i.billing_contract_id for i in invoices) == sorted(billed_contracts)  # one each
    for invoice in invoices:
        assert lines[invoice.id] and {contract_of[line.subscription_id] for line in lines[invoice.id]} == {
            invoice.billing_contract_id
        }
    by_id = {i.id: names[i.billing_contract_id] for i in invoices}
    assert {k: v for k, v in by_id.items() if k.startswith("LDP")} == {
        f"LDP-INV-{invoice_month}-1": "Microsoft 365 Annual Commitment",
        f"LDP-INV-{invoice_month}-2": "Microsoft 365 Monthly",
        f"LDP-INV-{invoice_month}-3": "Azure Consumption",
    }
    assert {k: v for k, v in by_id.items() if k.startswith("BVL")} == {
        f"BVL-INV-{invoice_month}-1": "Microsoft 365",
        f"BVL-INV-{invoice_month}-2": "Azure Consumption",
    }


def test_a_subscription_the_portal_never_mapped_is_billed_on_the_default_contract(seeded, identity_of):
    monthly = next(
        s
        for s in demo_data.SUBSCRIPTIONS
        if s.customer_key == "lakeside" and s.contract_key == "m365-monthly" and s.billing_cycle == "monthly"
    )
    rows = [
        _line(subscription="bought-in-partner-center"),  # no contract in the portal
        _line(
            product_id=monthly.product_id,
            sku_id=monthly.sku_id,
            subscription=monthly.id,
            subtotal="100.00",
            unit_price="10.00",
        ),
    ]
    run = billing_run.start_run(PERIOD_START, PERIOD_END)
    billing_run.execute(run.id, rows)
    invoice_month = f"{_add_months(PERIOD_START, 1):%Y%m}"
    drafts = _invoices_of(run.id)
    assert sorted(drafts) == [f"LDP-INV-{invoice_month}-1", f"LDP-INV-{invoice_month}-2"]
    assert [line[0] for line in drafts[f"LDP-INV-{invoice_month}-2"][2]] == [monthly.offer_name]
    # Re-running the draft period gives the same invoices, line for line.
    billing_run.rerun(run.id)
    billing_run.execute(run.id, rows)
    assert _invoices_of(run.id) == drafts
    assert billing_run.issue(run.id, None) == sorted(drafts)
    numbers = sorted(number for _, number, _ in _invoices_of(run.id).values())
    assert numbers == [DEMO_INVOICES + 1, DEMO_INVOICES + 2]  # no gap after the demo's, none between
    detail = get_invoice(identity_of(FINANCE), f"LDP-INV-{invoice_month}-1", today=TODAY)
    assert detail.contract_name == "Microsoft 365 Annual Commitment"  # Lakeside's billing profile's


def test_rerunning_an_issued_period_changes_nothing(seeded):
    run = billing_run.list_runs()[0]
    before = _invoices_of(run.id)
    assert billing_run.execute(run.id, [_line()]) is False  # no longer running: not touched
    assert billing_run.issue(run.id, None) == []
    with pytest.raises(billing_run.BillingRunError):
        billing_run.rerun(run.id)
    again = billing_run.start_run(run.period_start, run.period_end)
    assert again.id == run.id and again.state == "issued"
    assert _invoices_of(run.id) == before


def test_exceptions_block_issuing_until_resolved_or_excluded(seeded, identity_of):
    from opkalla_portal.db import session_scope
    from opkalla_portal.models import PriceListEntry

    stranger = "11111111-2222-3333-4444-555555555555"
    rows = [
        _line(),
        _line(tenant=stranger, subtotal="50.00"),
        _line(product_id="CFQ7TTC0NEW", sku_id="0001", unit_price="3.00", subtotal="30.00", name="Copilot Studio"),
    ]
    run = billing_run.start_run(PERIOD_START, PERIOD_END, microsoft_invoice_total=Decimal("280.00"))
    assert billing_run.execute(run.id, rows, batch=2)
    summary = billing_run.summarize(run.id)
    assert summary.state == "draft"
    assert {(e.kind, e.cost_amount) for e in summary.exceptions} == {
        ("unknown_customer", Decimal("50.00")),
        ("unpriced_product", Decimal("30.00")),
    }
    assert summary.ties_out and summary.microsoft_total == Decimal("280.00")  # 200 invoiced + 80 in exceptions
    assert not summary.can_issue
    with pytest.raises(billing_run.BillingRunError, match="exception"):
        billing_run.issue(run.id, None)
    # The draft is the provider's preview: the customer does not see it.
    draft_id = summary.customers[0].invoice_id
    with pytest.raises(InvoiceNotFound):
        get_invoice(identity_of(FINANCE), draft_id, today=TODAY)

    # Resolve one (price the product, re-run), exclude the other (a conscious decision).
    with session_scope() as db:
        db.add(PriceListEntry(product_key="CFQ7TTC0NEW", friendly_name="Copilot Studio", markup_percent=Decimal("20")))
    unknown = next(e for e in summary.exceptions if e.kind == "unknown_customer")
    billing_run.set_excluded(unknown.id, True, None)
    billing_run.rerun(run.id)
    assert billing_run.execute(run.id, rows, batch=2)
    summary = billing_run.summarize(run.id)
    assert [(e.kind, e.excluded) for e in summary.exceptions] == [("unknown_customer", True)]
    assert summary.can_issue and summary.invoiced_cost == Decimal("230.00")
    issued = billing_run.issue(run.id, None)
    assert issued == [draft_id]
    assert _invoices_of(run.id)[draft_id][1] == DEMO_INVOICES + 1  # the next number after the demo's

    detail = get_invoice(identity_of(FINANCE), draft_id, today=TODAY)
    by_name = {line.product_name: line for line in detail.lines}
    assert by_name["Copilot Studio"].unit_price == Decimal("3.60")  # cost 3.00 + 20 % markup
    assert by_name["Copilot Studio"].amount == Decimal("36.00")
    assert by_name[E3.offer_name].unit_price == E3.unit_price  # the price list's sell price
    assert by_name[E3.offer_name].tax_rate == Decimal("0.0688")  # Lakeside's configured rate
    assert draft_id in [s.invoice_id for s in list_invoices(identity_of(FINANCE), tab="open", today=TODAY)]


def test_a_customers_own_price_wins_and_proration_follows_microsoft(seeded):
    from opkalla_portal.db import session_scope
    from opkalla_portal.models import Organization, PriceListEntry

    with session_scope() as db:
        lakeside = db.exec(select(Organization).where(Organization.tenant_id == LAKESIDE.tenant_id)).one()
        db.add(
            PriceListEntry(
                product_key=f"{E3.product_id}:{E3.sku_id}",
                organization_id=lakeside.id,
                friendly_name="Lakeside's E3",
                monthly_sell_price=Decimal("19.5000"),
            )
        )
    # Bought on the 16th of a 30/31-day month: Microsoft charges the days left (subtotal < unit x qty).
    run = billing_run.start_run(PERIOD_START, PERIOD_END)
    billing_run.execute(run.id, [_line(quantity=4, unit_price="20.00", subtotal="40.00", charge_type="new")])
    ((state, number, lines),) = _invoices_of(run.id).values()
    ((name, quantity, unit_price, proration, amount, tax, cost),) = lines
    assert (state, number, name, quantity) == ("draft", None, "Lakeside's E3", 4)
    assert proration == Decimal("0.5000") and unit_price == Decimal("19.50") and amount == Decimal("39.00")
    assert cost == Decimal("40.00") and tax == Decimal("2.68")


def test_a_crashed_run_resumes_after_its_last_batch_and_one_worker_runs_it(seeded):
    rows = [_line(subscription=f"sub-{n}", quantity=n + 1, subtotal=f"{20 * (n + 1)}.00") for n in range(7)]

    def crashing():
        for n, row in enumerate(rows):
            if n == 5:
                raise RuntimeError("worker killed")
            yield row

    run = billing_run.start_run(PERIOD_START, PERIOD_END)
    with pytest.raises(RuntimeError):
        billing_run.execute(run.id, crashing(), worker="w1", batch=2)
    assert billing_run.summarize(run.id).rows_done == 4  # two batches committed
    # Another worker cannot take it while w1's lease lives.
    assert billing_run.execute(run.id, rows, worker="w2", batch=2) is False
    assert billing_run.execute(run.id, rows, worker="w1", batch=2) is True
    resumed = _invoices_of(run.id)

    other_start = _add_months(PERIOD_START, 1)
    clean = billing_run.start_run(other_start, _add_months(other_start, 1) - timedelta(days=1))
    billing_run.execute(clean.id, rows, batch=2)
    assert list(resumed.values()) == list(_invoices_of(clean.id).values())
    assert len(list(resumed.values())[0][2]) == 7  # every line once, none twice


RILEY = "riley.morgan@opkalla.onmicrosoft.com"
DANA = "dana.whitaker@lakesidedental.onmicrosoft.com"


def test_only_the_providers_administrators_see_and_issue_runs(seeded, identity_of):
    from opkalla_portal.services.access import PermissionDenied, menu_for

    riley = identity_of(RILEY)
    assert "Billing Runs" in [item.label for item in menu_for(riley)]
    rows = billing_run.runs_view(riley)
    assert len(rows) == 12 and rows[0]["tie_out"] == "Ties out" and rows[0]["state"] == "Issued"
    detail = billing_run.run_detail(riley, rows[0]["id"])
    assert {c["customer"] for c in detail["customers"]} == {"Lakeside Dental Partners", "Bayview Logistics"}
    for email in (DANA, FINANCE):  # a customer's Administrator or Finance Manager: refused
        customer = identity_of(email)
        assert "Billing Runs" not in [item.label for item in menu_for(customer)]
        for call_it in (
            lambda c=customer: billing_run.runs_view(c),
            lambda c=customer: billing_run.run_detail(c, rows[0]["id"]),
            lambda c=customer: billing_run.issue_run(c, rows[0]["id"]),
            lambda c=customer: billing_run.exclude_exception(c, 1, True),
        ):
            with pytest.raises(PermissionDenied):
                call_it()


def test_issuing_tells_finance_managers_and_administrators_who_want_it(seeded, identity_of):
    from opkalla_portal.db import session_scope
    from opkalla_portal.models import OutboundMail
    from opkalla_portal.services import notifications

    notifications.set_preference(identity_of(DANA), "new_invoices", False)  # Dana turned it off
    run = billing_run.start_run(PERIOD_START, PERIOD_END)
    billing_run.execute(run.id, [_line()])
    invoice_id = billing_run.summarize(run.id).customers[0].invoice_id
    assert billing_run.issue_run(identity_of(RILEY), run.id) == [invoice_id]
    with session_scope() as db:
        mails = db.exec(select(OutboundMail).where(OutboundMail.kind == "new_invoice")).all()
    assert [m.to_address for m in mails] == [FINANCE]  # Luis (Subscription Manager) never; Dana opted out
    amount = E3.unit_price * 10
    total = amount + (amount * Decimal("0.0688")).quantize(Decimal("0.01"))  # Lakeside's tax rate
    assert invoice_id in mails[0].subject and f"${total:,.2f}" in mails[0].body_text
    assert billing_run.issue_run(identity_of(RILEY), run.id) == []  # issuing twice: nothing, no second mail


async def test_the_run_over_microsofts_exports_bills_what_the_demo_billed(seeded, microsoft):
    """Through the real export client (202 -> operation -> manifest -> gzip blob) against the
    emulator: the same rows, so the same invoice lines as the demo's run for that month."""
    from opkalla_portal.microsoft.emulator.billing_api import billed_usage_rows
    from opkalla_portal.microsoft.emulator.seed import billed_reconciliation_lines
    from opkalla_portal.services.microsoft_clients import microsoft as clients

    invoices = await clients().partner_center.list_invoices()
    newest = max(invoices, key=lambda i: i["billingPeriodStartDate"])
    start, end = newest["billingPeriodStartDate"][:10], newest["billingPeriodEndDate"][:10]
    streamed = [row async for row in billing_run.microsoft_rows(clients(), newest["id"])]
    from datetime import date as _date

    fed = [
        {k: v for k, v in row.items() if k != "attributes"}
        for row in billed_reconciliation_lines(
            newest["id"], _date.fromisoformat(start), _date.fromisoformat(end), TODAY
        )
    ]
    fed += billed_usage_rows(_date.fromisoformat(start), _date.fromisoformat(end), newest["id"], TODAY)
    assert streamed == fed

    # The demo's run of that month is issued: billing the invoice again changes nothing.
    demo_run = next(r for r in billing_run.list_runs() if str(r.period_start) == start)
    before = _invoices_of(demo_run.id)
    assert await billing_run.bill_microsoft_invoice(clients(), newest) == demo_run.id
    assert _invoices_of(demo_run.id) == before
    assert billing_run.summarize(demo_run.id).microsoft_invoice_total == Decimal(str(newest["totalCharges"]))

    # Executed from the stream into a fresh run: the demo's lines for that month, one for one.
    fresh = billing_run.start_run(PERIOD_START, PERIOD_END)
    assert await billing_run.execute_async(fresh.id, billing_run.microsoft_rows(clients(), newest["id"]), batch=50)

    def content(run_id):
        return sorted(line for _, _, lines in _invoices_of(run_id).values() for line in lines)

    assert content(fresh.id) == content(demo_run.id) and content(fresh.id)


async def test_the_scheduler_drafts_the_run_once_microsoft_closes_the_period(seeded, microsoft, identity_of):
    """The scheduler's billing step: nothing while the last closed period has its run; when the
    clock passes the end of this month and Microsoft invoices it, the run is made once (two
    workers at a time) as a draft the provider reviews on Billing Runs; issuing stays theirs."""
    import asyncio

    from opkalla_portal import clock
    from opkalla_portal.services.microsoft_clients import microsoft as clients

    class NoMicrosoft:
        @property
        def partner_center(self):
            raise AssertionError("asked Microsoft although the period has its run")

    runs_before = len(billing_run.list_runs())
    assert await billing_run.bill_closed_period(NoMicrosoft()) is None  # last month: the demo's issued run
    assert len(billing_run.list_runs()) == runs_before

    clock.shift_to(PERIOD_END + timedelta(days=1))  # Microsoft closes this month
    invoice = next(
        i
        for i in await clients().partner_center.list_invoices()
        if i["billingPeriodStartDate"][:10] == str(PERIOD_START)
    )
    first, second = await asyncio.gather(
        billing_run.bill_closed_period(clients(), worker="w1"), billing_run.bill_closed_period(clients(), worker="w2")
    )
    assert first == second and first is not None
    summary = billing_run.summarize(first)
    assert (summary.period_start, summary.state, summary.microsoft_invoice_id) == (PERIOD_START, "draft", invoice["id"])
    assert summary.ties_out and summary.microsoft_total == Decimal(str(invoice["totalCharges"]))
    assert len(summary.customers) == 5 and summary.can_issue  # a draft per customer and contract
    lines = [line for _, _, ls in _invoices_of(first).values() for line in ls]
    assert len(lines) == len(set(lines))  # two workers, every line once
    view = billing_run.runs_view(identity_of(RILEY))
    assert (view[0]["period"], view[0]["state"], view[0]["tie_out"]) == (
        PERIOD_START.strftime("%B %Y"),
        "Draft",
        "Ties out",
    )
    # Customers see nothing until the provider issues it.
    assert all(s.invoice_date <= TODAY for s in list_invoices(identity_of(FINANCE), tab="open"))
    # Later ticks leave it alone.
    assert await billing_run.bill_closed_period(NoMicrosoft()) is None
    assert billing_run.summarize(first).state == "draft" and len(billing_run.list_runs()) == runs_before + 1
