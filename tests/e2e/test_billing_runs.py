"""Billing Runs in the browser: the provider's Administrator reviews a run (totals, exceptions,
tie-out) and issues it; a customer's Administrator is refused."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from opkalla_portal import clock
from opkalla_portal.demo import demo_data
from opkalla_portal.demo.demo_data import _add_months
from tests.e2e.conftest import axe_violations, sign_in_as

pytestmark = pytest.mark.e2e

RILEY = "riley.morgan@opkalla.onmicrosoft.com"
DANA = "dana.whitaker@lakesidedental.onmicrosoft.com"
STRANGER = "99999999-8888-7777-6666-555555555555"


def _draft_run_with_an_exception() -> str:
    """A run over this month (the demo's runs are the twelve before): one billable line of
    Bayview's (Lakeside's invoice counts are what tests/e2e/test_money.py checks) and one from a
    tenant that is no portal customer. Returns its period label."""
    from opkalla_portal.services import billing_run

    start = clock.today().replace(day=1)
    end = _add_months(start, 1) - timedelta(days=1)
    sub = next(
        s
        for s in demo_data.SUBSCRIPTIONS
        if s.customer_key == "bayview" and s.billing_cycle == "monthly" and s.unit_type == "Licenses"
    )
    line = {
        "customerId": demo_data.CUSTOMERS["bayview"].tenant_id,
        "productId": sub.product_id,
        "skuId": sub.sku_id,
        "productName": sub.offer_name,
        "subscriptionId": sub.id,
        "chargeType": "cycleCharge",
        "chargeStartDate": f"{start}T00:00:00Z",
        "chargeEndDate": f"{end}T00:00:00Z",
        "quantity": 5,
        "unitPrice": 10.0,
        "subtotal": 50.0,
        "billingFrequency": "Monthly",
    }
    stranger = {**line, "customerId": STRANGER, "customerName": "Northwind Traders", "subtotal": 12.5}
    run = billing_run.start_run(start, end, microsoft_invoice_total=Decimal("62.50"))
    billing_run.execute(run.id, [line, stranger])
    return start.strftime("%B %Y")


def test_provider_admin_reviews_excludes_and_issues_a_run(page, context, base_url, console_errors):
    period = _draft_run_with_an_exception()
    sign_in_as(context, base_url, RILEY)
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(base_url + "/")
    page.get_by_role("link", name="Billing Runs").first.click()
    expect(page.get_by_role("heading", level=1, name="Billing Runs")).to_be_visible()
    runs = page.get_by_role("table").first
    expect(runs.get_by_role("row")).to_have_count(14)  # header + the demo's 12 issued + this draft
    expect(runs).to_contain_text("Ties out")
    # The draft opens first: its exception blocks issuing.
    expect(page.get_by_role("heading", level=2, name=period)).to_be_visible()
    expect(page.get_by_text("Resolve or exclude every exception before issuing.")).to_be_visible()
    issue = page.get_by_role("button", name="Issue Invoices")
    expect(issue).to_be_disabled()
    expect(page.get_by_role("row", name="Not a portal customer")).to_contain_text("Northwind Traders")
    expect(page.get_by_role("row", name="Bayview Logistics")).to_contain_text("$50.00")  # at cost
    expect(page.get_by_role("row", name="Bayview Logistics")).to_contain_text("Microsoft 365")  # its contract
    page.screenshot(path="screenshots/billing-runs-1440.png", full_page=True)
    violations = axe_violations(page)
    assert violations == [], violations

    page.get_by_role("row", name="Not a portal customer").get_by_role("button", name="Exclude").click()
    expect(
        page.get_by_role("row", name="Not a portal customer").get_by_role("button", name="Include Again")
    ).to_be_visible()
    expect(issue).to_be_enabled()
    issue.click()
    expect(page.get_by_text("1 invoice issued; customers are told by email.")).to_be_visible()
    expect(page.get_by_role("button", name="Issue Invoices")).to_have_count(0)
    expect(runs.get_by_role("row", name=period)).to_contain_text("Issued")
    assert console_errors == []


def test_a_customer_administrator_is_refused(page, context, base_url):
    sign_in_as(context, base_url, DANA)
    page.goto(base_url + "/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page.get_by_role("link", name="Billing Runs")).to_have_count(0)
    page.goto(base_url + "/billing-runs")
    expect(page).to_have_url(re.compile(r"/not-allowed"))
