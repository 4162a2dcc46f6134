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
from tests.money.conftest import FINANCE

LAKESIDE = demo_data.CUSTOMERS["lakeside"]
E3 = next(s for s in demo_data.SUBSCRIPTIONS if s.customer_key == "lakeside" and s.unit_type == "Licenses"
          and s.billing_cycle == "monthly")
# A period no demo run covers: this month (the demo bills the twelve closed months before it).
PERIOD_START = TODAY.replace(day=1)
PERIOD_END = _add_months(PERIOD_START, 1) - timedelta(days=1)


def _line(tenant=LAKESIDE.tenant_id, product_id=E3.product_id, sku_id=E3.sku_id, quantity=10,
          unit_price="20.00", subtotal="200.00", charge_type="cycleCharge", subscription="sub-1", name="Product"):
    return {"customerId": tenant, "customerName": "Somebody", "productId": product_id, "skuId": sku_id,
            "productName": name, "subscriptionId": subscription, "chargeType": charge_type,
            "chargeStartDate": f"{PERIOD_START}T00:00:00Z", "chargeEndDate": f"{PERIOD_END}T00:00:00Z",
            "quantity": quantity, "unitPrice": float(unit_price), "subtotal": float(subtotal),
            "billingFrequency": "Monthly", "currency": "USD"}


def _invoices_of(run_id):
    from opkalla_portal.db import session_scope
    from opkalla_portal.models import Invoice, InvoiceLine

    with session_scope() as db:
        invoices = db.exec(select(Invoice).where(Invoice.billing_run_id == run_id).order_by(Invoice.id)).all()
        return {i.id: (i.state, i.number, sorted((ln.product_name, ln.quantity, ln.unit_price, ln.proration,
                                                  ln.amount, ln.tax_amount, ln.cost_amount) for ln in db.exec(
            select(InvoiceLine).where(InvoiceLine.invoice_id == i.id)).all())) for i in invoices}


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
    assert sorted(numbers) == list(range(1, 25))  # sequential per provider, no gaps


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
    rows = [_line(), _line(tenant=stranger, subtotal="50.00"),
            _line(product_id="CFQ7TTC0NEW", sku_id="0001", unit_price="3.00", subtotal="30.00", name="Copilot Studio")]
    run = billing_run.start_run(PERIOD_START, PERIOD_END, microsoft_invoice_total=Decimal("280.00"))
    assert billing_run.execute(run.id, rows, batch=2)
    summary = billing_run.summarize(run.id)
    assert summary.state == "draft"
    assert {(e.kind, e.cost_amount) for e in summary.exceptions} == {
        ("unknown_customer", Decimal("50.00")), ("unpriced_product", Decimal("30.00"))}
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
    assert _invoices_of(run.id)[draft_id][1] == 25  # the next number after the demo's 24

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
        db.add(PriceListEntry(product_key=f"{E3.product_id}:{E3.sku_id}", organization_id=lakeside.id,
                              friendly_name="Lakeside's E3", monthly_sell_price=Decimal("19.5000")))
    # Bought on the 16th of a 30/31-day month: Microsoft charges the days left (subtotal < unit x qty).
    run = billing_run.start_run(PERIOD_START, PERIOD_END)
    billing_run.execute(run.id, [_line(quantity=4, unit_price="20.00", subtotal="40.00", charge_type="new")])
    (state, number, lines), = _invoices_of(run.id).values()
    (name, quantity, unit_price, proration, amount, tax, cost), = lines
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
        for call_it in (lambda c=customer: billing_run.runs_view(c),
                        lambda c=customer: billing_run.run_detail(c, rows[0]["id"]),
                        lambda c=customer: billing_run.issue_run(c, rows[0]["id"]),
                        lambda c=customer: billing_run.exclude_exception(c, 1, True)):
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
    fed = [{k: v for k, v in row.items() if k != "attributes"} for row in billed_reconciliation_lines(
        newest["id"], _date.fromisoformat(start), _date.fromisoformat(end), TODAY)]
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
