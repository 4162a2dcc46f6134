"""Money and usage in the browser: My Agreements, My Invoices (breakdown, downloads),
Payment Profiles and Usage Data, as the personas who use them."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

from opkalla_portal import clock
from opkalla_portal.demo.demo_data import _add_months
from tests.demo_invoices import demo_invoice_ids
from tests.e2e.conftest import axe_violations, sign_in_as

# The demo dates each invoice on the first of a month, the newest this month: one per billing
# contract (Lakeside: 1 annual commitment, 2 monthly, 3 Azure consumption).
_THIS_MONTH = clock.today().replace(day=1)
NEWEST = f"LDP-INV-{_THIS_MONTH:%Y%m}-1"
NEWEST_AZURE = f"LDP-INV-{_THIS_MONTH:%Y%m}-3"
EIGHT_MONTHS_AGO = f"{_add_months(_THIS_MONTH, -8):%Y%m}"
LAST_MONTH = f"{_add_months(_THIS_MONTH, -1):%Y-%m}"

pytestmark = pytest.mark.e2e

ADMIN = "dana.whitaker@lakesidedental.onmicrosoft.com"
SUBSCRIPTION_MANAGER = "luis.ortega@lakesidedental.onmicrosoft.com"
FINANCE = "priya.natarajan@lakesidedental.onmicrosoft.com"
OTHER_CUSTOMER_ADMIN = "tom.becker@bayviewlogistics.onmicrosoft.com"
SHOTS = Path(__file__).resolve().parents[2] / "screenshots"
NEW_CARD = "5555 5555 5555 4444"


def money(text: str) -> Decimal:
    return Decimal(text.replace("$", "").replace(",", ""))


def shoot(page, name: str) -> None:
    """Desktop and phone screenshots, light and dark, for a look at the page."""
    SHOTS.mkdir(exist_ok=True)
    size = page.viewport_size
    for theme in ("light", "dark"):
        page.emulate_media(color_scheme=theme)
        for label, width in (("desktop", 1440), ("phone", 390)):
            page.set_viewport_size({"width": width, "height": 900})
            page.wait_for_timeout(250)
            page.screenshot(path=str(SHOTS / f"{name}-{label}-{theme}.png"), full_page=True)
    page.emulate_media(color_scheme="light")
    page.set_viewport_size(size or {"width": 1440, "height": 900})


def session_cookies(context) -> dict[str, str]:
    return {c["name"]: c["value"] for c in context.cookies()}


def choose(page, combobox: str, option: str) -> None:
    page.get_by_role("combobox", name=re.compile("^" + combobox)).click()
    page.get_by_role("option", name=option).click()


# ------------------------------------------------------------------ My Invoices
def test_finance_manager_reads_open_and_paid_invoices(page, context, base_url, console_errors):
    sign_in_as(context, base_url, FINANCE)
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(base_url + "/my-invoices")
    expect(page.get_by_role("heading", level=1, name="My Invoices")).to_be_visible()
    table = page.get_by_role("table")
    expect(table.get_by_role("row")).to_have_count(7)  # header + the 6 open invoices (2 months x 3 contracts)
    expect(table).to_contain_text(NEWEST)
    expect(table).to_contain_text("Overdue")
    violations = axe_violations(page)
    assert violations == [], violations
    shoot(page, "invoices-open")
    # A phone gets one card per invoice with the same facts and downloads.
    page.set_viewport_size({"width": 390, "height": 844})
    expect(page.get_by_role("link", name=f"Download Usage for {NEWEST_AZURE}")).to_be_visible()
    expect(page.get_by_role("table")).to_be_hidden()
    violations = axe_violations(page)
    assert violations == [], violations
    page.set_viewport_size({"width": 1440, "height": 900})

    choose(page, "Show", "Paid Invoices")
    expect(table.get_by_role("row")).to_have_count(13)  # header + a page of 12 of the 30 paid
    expect(table).not_to_contain_text(NEWEST)
    expect(table).to_contain_text("Paid")

    # Sort by Amount: largest first, then (the same column again) smallest first.
    amount_header = page.locator("th", has=page.get_by_role("button", name="Sort by Amount"))
    page.get_by_role("button", name="Sort by Amount").click()
    expect(amount_header).to_have_attribute("aria-sort", "descending")
    amounts = [money(t) for t in table.locator("tbody tr td:nth-child(4)").all_inner_texts()]
    assert amounts == sorted(amounts, reverse=True)
    page.get_by_role("button", name="Sort by Amount").click()
    expect(amount_header).to_have_attribute("aria-sort", "ascending")
    amounts = [money(t) for t in table.locator("tbody tr td:nth-child(4)").all_inner_texts()]
    assert amounts == sorted(amounts)

    # Search by Invoice ID; a search with no match says so.
    page.get_by_label("Search invoices").fill(EIGHT_MONTHS_AGO)
    that_month = [i for i in demo_invoice_ids(clock.today(), "lakeside") if i.startswith(f"LDP-INV-{EIGHT_MONTHS_AGO}")]
    expect(table.get_by_role("row")).to_have_count(1 + len(that_month))  # that month's, one per contract billed
    expect(table).to_contain_text(f"LDP-INV-{EIGHT_MONTHS_AGO}-3")
    page.get_by_label("Search invoices").fill("no-such-invoice")
    expect(page.get_by_text("No invoices match your search")).to_be_visible()
    assert console_errors == []


def test_invoice_breakdown_adds_up_and_downloads_match(page, context, base_url, console_errors):
    sign_in_as(context, base_url, FINANCE)
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(base_url + "/my-invoices")
    page.get_by_role("link", name=re.compile(r"^Invoice ID " + NEWEST)).click()
    expect(page).to_have_url(re.compile(r"/my-invoices/invoice/?\?id=" + NEWEST))
    breakdown = page.get_by_role("table").filter(has_text="Unit Price")
    expect(breakdown).to_contain_text("Microsoft 365 Business Premium")
    expect(page.get_by_text("Microsoft 365 Annual Commitment", exact=True)).to_be_visible()  # its Billing Contract
    violations = axe_violations(page)
    assert violations == [], violations
    shoot(page, "invoice-breakdown")

    rows = breakdown.locator("tbody tr")
    line_amounts, line_taxes = [], []
    for index in range(rows.count()):
        cells = rows.nth(index).locator("td").all_inner_texts()
        if len(cells) == 7:  # a product line: quantity, unit price, period, proration, amount, tax, total
            line_amounts.append(money(cells[4]))
            line_taxes.append(money(cells[5]))
            assert money(cells[6]) == money(cells[4]) + money(cells[5])
    assert len(line_amounts) >= 5
    subtotal = money(page.get_by_test_id("invoice-subtotal").inner_text())
    tax = money(page.get_by_test_id("invoice-tax").inner_text())
    total = money(page.get_by_test_id("invoice-total").inner_text())
    assert sum(line_amounts) == subtotal
    assert sum(line_taxes) == tax
    assert subtotal + tax == total

    # The PDF: a real PDF attachment naming the invoice and the same total.
    with page.expect_download() as pdf_download:
        page.get_by_role("link", name="Download PDF").click()
    pdf_path = pdf_download.value.path()
    assert pdf_download.value.suggested_filename == f"{NEWEST}.pdf"
    pdf_bytes = Path(pdf_path).read_bytes()
    assert pdf_bytes.startswith(b"%PDF")

    # Download Usage (on the Azure contract's invoice): one row per day, resource and meter; the
    # costs add up to the Azure line.
    page.goto(base_url + "/my-invoices/invoice?id=" + NEWEST_AZURE)
    expect(breakdown).to_contain_text("Azure plan")
    azure_line = breakdown.locator("tbody tr", has_text="Azure plan").locator("td").all_inner_texts()
    with page.expect_download() as usage_download:
        page.get_by_role("link", name="Download Usage").click()
    rows = list(csv.DictReader(io.StringIO(Path(usage_download.value.path()).read_text())))
    assert rows, "the usage CSV is empty"
    assert {r["Date"][:7] for r in rows} == {LAST_MONTH}
    assert len({(r["Date"], r["Resource"], r["Meter"]) for r in rows}) == len(rows)
    assert sum(Decimal(r["Cost"]) for r in rows) == money(azure_line[4])
    assert console_errors == []


def test_another_customers_invoice_is_refused(page, context, base_url):
    sign_in_as(context, base_url, OTHER_CUSTOMER_ADMIN)
    page.goto(base_url + "/my-invoices/invoice?id=" + NEWEST)
    expect(page.get_by_text("Invoice not found")).to_be_visible()
    expect(page.get_by_text("Lakeside Dental Partners")).to_have_count(0)
    cookies = session_cookies(context)
    for path in (f"/downloads/invoices/{NEWEST}/invoice.pdf", f"/downloads/invoices/{NEWEST_AZURE}/usage.csv"):
        response = httpx.get(base_url + path, cookies=cookies, follow_redirects=False)
        assert response.status_code == 404, path
    own = httpx.get(base_url + f"/downloads/invoices/BVL-INV-{_THIS_MONTH:%Y%m}-1/invoice.pdf", cookies=cookies)
    assert own.status_code == 200 and own.content.startswith(b"%PDF")
    assert own.headers["content-disposition"].startswith("attachment")


def test_downloads_need_a_session_and_the_role(page, context, base_url):
    signed_out = httpx.get(base_url + f"/downloads/invoices/{NEWEST}/invoice.pdf", follow_redirects=False)
    assert signed_out.status_code == 303 and "/sign-in" in signed_out.headers["location"]
    for route in ("/my-invoices/payment-profiles", "/usage-data", "/my-agreements"):
        page.goto(base_url + route)
        expect(page).to_have_url(re.compile(r"/sign-in\?next=" + re.escape(route)))
    sign_in_as(context, base_url, SUBSCRIPTION_MANAGER)
    cookies = session_cookies(context)
    assert httpx.get(base_url + f"/downloads/invoices/{NEWEST}/invoice.pdf", cookies=cookies).status_code == 403
    page.goto(base_url + "/my-invoices")
    expect(page).to_have_url(re.compile(r"/not-allowed"))


# --------------------------------------------------------------- Payment profiles
def test_finance_manager_manages_payment_profiles(page, context, base_url, console_errors, portal_env):
    sign_in_as(context, base_url, FINANCE)
    frames: list[str] = []
    page.on(
        "websocket",
        lambda ws: (
            ws.on("framesent", lambda f: frames.append(str(f))),
            ws.on("framereceived", lambda f: frames.append(str(f))),
        ),
    )
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(base_url + "/my-invoices")
    page.get_by_role("link", name="Payment Profiles").click()
    expect(page.get_by_role("heading", level=1, name="Payment Profiles")).to_be_visible()
    expect(page.get_by_text("Visa ending in 4242", exact=True)).to_be_visible()
    violations = axe_violations(page)
    assert violations == [], violations

    page.get_by_role("button", name="Add payment method").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Name on card").fill("Priya Natarajan")
    dialog.get_by_label("Card number").fill("4242 4242 4242 4241")  # fails the Luhn check
    dialog.get_by_label("Expiry (MM/YY)").fill("01/20")
    dialog.get_by_label("Security code").fill("123")
    dialog.get_by_role("button", name="Add").click()
    expect(dialog.get_by_text("The card number is not valid.")).to_be_visible()
    expect(dialog.get_by_text("This card has expired.")).to_be_visible()
    shoot(page, "payment-add-errors")

    dialog.get_by_label("Card number").fill(NEW_CARD)
    dialog.get_by_label("Expiry (MM/YY)").fill("12/30")
    dialog.get_by_role("button", name="Add").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(page.get_by_text("Mastercard ending in 4444", exact=True)).to_be_visible()
    shoot(page, "payment-profiles")

    page.get_by_role("button", name="Set Mastercard ending in 4444 as default").click()
    card = page.locator("div.rt-Card", has_text="Mastercard ending in 4444")
    expect(card.get_by_text("Default", exact=True)).to_be_visible()

    page.get_by_role("button", name="Remove Visa ending in 4242").click()
    confirm = page.get_by_role("alertdialog")
    expect(confirm).to_contain_text("Visa ending in 4242 will be removed")
    confirm.get_by_role("button", name="Cancel").click()
    expect(page.get_by_text("Visa ending in 4242", exact=True)).to_be_visible()
    page.get_by_role("button", name="Remove Visa ending in 4242").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Remove").click()
    expect(page.get_by_text("Visa ending in 4242", exact=True)).to_have_count(0)

    # The full number reached neither the websocket (state, events), the database nor the log.
    digits = NEW_CARD.replace(" ", "")
    assert not any(digits in frame or NEW_CARD in frame for frame in frames)
    database = Path(portal_env["DATABASE_URL"].removeprefix("sqlite:///"))
    for path in database.parent.iterdir():
        if path.is_file():
            assert digits.encode() not in path.read_bytes(), path
    assert console_errors == []


# -------------------------------------------------------------------- Agreements
def test_agreements_accepted_and_pending_and_accepting_once(page, context, base_url, console_errors):
    sign_in_as(context, base_url, FINANCE)
    page.goto(base_url + "/my-agreements")
    table = page.get_by_role("table")
    expect(table).to_contain_text("Microsoft Customer Agreement")
    expect(table).to_contain_text("2024-04")
    expect(table).to_contain_text("Dana Whitaker")
    choose(page, "Show", "Pending Agreements")
    expect(table).to_contain_text("2026-10")  # the pending agreement's version
    expect(page.get_by_role("button", name=re.compile("Review and accept"))).to_have_count(0)  # finance: view only
    expect(page.get_by_text("A Work365 Administrator of your company accepts pending agreements.")).to_be_visible()
    violations = axe_violations(page)
    assert violations == [], violations

    page.context.clear_cookies()
    sign_in_as(context, base_url, ADMIN)
    page.goto(base_url + "/my-agreements")
    choose(page, "Show", "Pending Agreements")
    page.get_by_role("button", name=re.compile("Review and accept")).click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Dana Whitaker")
    expect(dialog).to_contain_text("dana.whitaker@lakesidedental.onmicrosoft.com")
    shoot(page, "agreement-accept")
    dialog.get_by_role("button", name="Accept").click()
    expect(dialog.get_by_text("Confirm that you have read the agreement")).to_be_visible()
    dialog.get_by_role("checkbox").click()
    dialog.get_by_role("button", name="Accept").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(page.get_by_role("combobox", name=re.compile("^Show"))).to_have_text("Accepted Agreements")
    expect(table).to_contain_text("2026-10")
    choose(page, "Show", "Pending Agreements")
    expect(page.get_by_text("No pending agreements")).to_be_visible()
    shoot(page, "agreements")
    assert console_errors == []


# -------------------------------------------------------------------- Usage Data
def test_subscription_manager_charts_usage_for_each_period(page, context, base_url, console_errors):
    sign_in_as(context, base_url, SUBSCRIPTION_MANAGER)
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(base_url + "/usage-data")
    expect(page.get_by_role("heading", level=1, name="Usage Data")).to_be_visible()
    expect(page.get_by_test_id("usage-total")).to_be_visible(timeout=20000)  # the one Azure plan is chosen
    expect(page.get_by_role("combobox", name=re.compile("^Subscription"))).to_have_text("Azure plan")
    totals = {}
    for label, months in (("last 3 months", 3), ("6 months", 6), ("9 months", 9), ("12 months", 12)):
        page.get_by_role("radio", name=label).click()
        monthly = page.get_by_role("table").filter(has_text="Month")
        expect(monthly.locator("tbody tr")).to_have_count(months + 1, timeout=20000)
        expect(page.locator(".recharts-bar-rectangle").first).to_be_visible()
        totals[months] = money(page.get_by_test_id("usage-total").inner_text())
        month_costs = [money(t) for t in monthly.locator("tbody tr td").all_inner_texts()]
        assert sum(month_costs[:-1]) == month_costs[-1] == totals[months]
    assert totals[3] < totals[6] < totals[9] < totals[12]
    page.locator(".recharts-bar-rectangle").first.hover()
    expect(page.locator(".recharts-default-tooltip")).to_contain_text(re.compile(r"Compute : \$[\d,]+\.\d\d"))
    violations = axe_violations(page)
    assert violations == [], violations
    shoot(page, "usage-data")

    # The CSV holds exactly what is shown (12 months selected last).
    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text())))
    assert sum(Decimal(r["Cost"]) for r in rows) == totals[12]
    top_resources = page.get_by_role("table").filter(has_text="Resource Group")
    top = top_resources.locator("tbody tr").first.locator("th, td").all_inner_texts()
    assert sum(Decimal(r["Cost"]) for r in rows if r["Resource"] == top[0]) == money(top[3])
    assert console_errors == []


def test_usage_data_from_the_subscription_link_and_refusals(page, context, base_url):
    from opkalla_portal.demo import demo_data

    azure = next(s for s in demo_data.customer_subscriptions("lakeside") if s.unit_type == "Usage-based")
    sign_in_as(context, base_url, ADMIN)
    page.goto(f"{base_url}/usage-data?subscription={azure.id}")
    expect(page.get_by_test_id("usage-total")).to_be_visible(timeout=20000)
    cookies = session_cookies(context)
    bayview = next(s for s in demo_data.customer_subscriptions("bayview") if s.unit_type == "Usage-based")
    other = httpx.get(
        f"{base_url}/downloads/usage-data.csv", params={"subscription": bayview.id, "months": 3}, cookies=cookies
    )
    assert other.status_code == 404

    page.context.clear_cookies()
    sign_in_as(context, base_url, FINANCE)
    cookies = session_cookies(context)
    refused = httpx.get(
        f"{base_url}/downloads/usage-data.csv", params={"subscription": azure.id, "months": 3}, cookies=cookies
    )
    assert refused.status_code == 403
    page.goto(base_url + "/usage-data")
    expect(page).to_have_url(re.compile(r"/not-allowed"))


def test_usage_data_says_when_microsoft_fails(page, context, base_url, console_errors):
    # Bayview's usage, which no other test has loaded: Usage Data keeps what it read for five
    # minutes, and an outage after a read is rightly not news to the page.
    sign_in_as(context, base_url, OTHER_CUSTOMER_ADMIN)
    # Azure usage comes from Graph's billing reconciliation exports, the subscriptions from Partner Center.
    httpx.post(
        base_url + "/emulator/faults",
        json={"error_probability": 1.0, "error_status": 503, "services": ["partner_center", "graph"], "seed": 3},
    ).raise_for_status()
    try:
        page.goto(base_url + "/usage-data")
        # The subscriptions themselves may still be in the per-tenant cache (two minutes) when an
        # earlier test opened Bayview's My Services: then it is the usage that could not be had.
        alert = page.get_by_role("alert").filter(has_text=re.compile("could not be loaded|could not provide the usage"))
        expect(alert).to_be_visible(timeout=30000)
        expect(page.get_by_role("link", name="Download CSV")).to_have_count(0)
    finally:
        httpx.delete(base_url + "/emulator/faults").raise_for_status()
    page.reload()
    expect(page.get_by_test_id("usage-total")).to_be_visible(timeout=20000)
    assert console_errors == []
