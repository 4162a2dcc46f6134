"""My Services in Chromium: contracts and add-ons, Subscription Edit (now, On Renewal, Custom,
refusals, conflicts), Change Logs, Future Changes, Product Catalog and Subscription Create."""

import os
import re
import time
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from opkalla_portal import clock
from tests.e2e.conftest import axe_violations, sign_in_as

pytestmark = pytest.mark.e2e

# The portal under test checks for due Future Changes every few seconds, not every 30.
os.environ.setdefault("OPKALLA_SCHEDULER_INTERVAL", "3")

LUIS = "luis.ortega@lakesidedental.onmicrosoft.com"
DANA = "dana.whitaker@lakesidedental.onmicrosoft.com"
TOM = "tom.becker@bayviewlogistics.onmicrosoft.com"
PRIYA = "priya.natarajan@lakesidedental.onmicrosoft.com"
TODAY = clock.today()


def no_toasts(page):
    """Wait until confirmation toasts are gone (axe checks the page, not the toaster's colours)."""
    expect(page.locator("[data-sonner-toast]")).to_have_count(0, timeout=15000)


def open_my_services(page, context, base_url, who=LUIS):
    sign_in_as(context, base_url, who)
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(base_url + "/my-services")
    expect(page.get_by_role("heading", level=1, name="My Services")).to_be_visible()


def choose_contract(page, label):
    page.get_by_role("combobox", name="Billing Contract").click()
    page.get_by_role("option", name=label).click()


def open_subscription(page, context, base_url, name, contract=None, who=LUIS):
    open_my_services(page, context, base_url, who)
    if contract:
        choose_contract(page, contract)
    page.get_by_role("link", name=name, exact=True).click()
    expect(page.get_by_role("heading", level=1, name="Subscription Edit")).to_be_visible()
    expect(page.get_by_role("heading", level=2, name=name)).to_be_visible()


def test_contract_subscriptions_with_addons_usage_data_sort_and_search(page, context, base_url, console_errors):
    open_my_services(page, context, base_url)
    expect(page.get_by_role("combobox", name="Billing Contract")).to_contain_text("Microsoft 365 Annual Commitment")
    table = page.get_by_role("table")
    expect(table.get_by_role("link", name="Microsoft 365 Business Premium")).to_be_visible()
    expect(table.get_by_text("$22.00")).to_be_visible()
    expect(table.get_by_role("link", name="Microsoft Teams Phone Standard")).to_have_count(0)
    page.get_by_role("button", name="Show add-ons of Microsoft 365 Business Premium").click()
    expect(table.get_by_role("link", name="Microsoft Teams Phone Standard")).to_be_visible()
    violations = axe_violations(page)
    assert violations == [], violations
    page.get_by_role("button", name="Sort by Quantity").click()
    page.get_by_role("button", name="Sort by Quantity").click()  # descending: 45 seats first
    expect(table.get_by_role("rowheader").first).to_contain_text("Microsoft 365 Business Premium")
    page.get_by_label("Search").fill("power bi")
    expect(table.get_by_role("link", name="Power BI Pro")).to_be_visible()
    expect(table.get_by_role("link", name="Microsoft 365 Business Premium")).to_have_count(0)
    page.get_by_label("Search").fill("no such product")
    expect(page.get_by_text("No subscriptions match your search")).to_be_visible()
    page.get_by_label("Search").fill("")
    choose_contract(page, "Azure Consumption (LDP-2026-003)")
    page.get_by_role("button", name="Show Usage Data of Azure plan").click()
    expect(page.get_by_role("link", name="Usage Data").last).to_have_attribute(
        "href", re.compile(r"/usage-data\?subscription=[0-9a-f-]{36}")
    )
    page.screenshot(path="screenshots/my-services-1440.png", full_page=True)
    assert console_errors == []


def test_increase_immediately_shows_price_effect_and_logs(page, context, base_url, console_errors):
    open_subscription(page, context, base_url, "Microsoft 365 Business Premium")
    page.get_by_label("Quantity").fill("47")
    expect(page.get_by_text("$1,034.00")).to_be_visible()  # new monthly cost: 47 x $22.00
    expect(page.get_by_text("Prorated amount for the rest of the term")).to_be_visible()
    assert axe_violations(page) == []
    page.screenshot(path="screenshots/subscription-edit-1440.png", full_page=True)
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_text("Microsoft 365 Business Premium now has 47 licenses.").first).to_be_visible()
    expect(page.get_by_text("Current Quantity").locator("..")).to_contain_text("47")
    page.get_by_role("link", name="Change Logs").first.click()
    expect(page.get_by_role("heading", level=1, name="Change Logs")).to_be_visible()
    first = page.get_by_role("table").get_by_role("row").nth(1)
    expect(first).to_contain_text("Luis Ortega")
    expect(first).to_contain_text("Microsoft 365 Business Premium")
    expect(first).to_contain_text("Succeeded")
    expect(first).to_contain_text("Immediately")
    no_toasts(page)
    assert axe_violations(page) == []
    with page.expect_download() as download:
        page.get_by_role("button", name="Export to CSV").click()
    text = open(download.value.path()).read()
    assert text.startswith("Date (UTC),User,Subscription") and "Microsoft 365 Business Premium" in text
    assert console_errors == []


@pytest.mark.parametrize(
    "value,message", [("2.5", "whole number"), ("0", "at least 1"), ("301", "maximum quantity for this offer is 300")]
)
def test_bad_quantity_is_refused_beside_the_field(page, context, base_url, value, message):
    open_subscription(page, context, base_url, "Microsoft Entra ID P1")
    page.get_by_label("Quantity").fill(value)
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_role("alert").filter(has_text=message)).to_be_visible()
    expect(page.get_by_label("Quantity")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_text("Current Quantity").locator("..")).to_contain_text("10")


def test_decrease_outside_window_offers_on_renewal_then_future_change_is_cancelled(page, context, base_url):
    open_subscription(page, context, base_url, "Power BI Pro")
    page.get_by_label("Quantity").fill("10")
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_text("Seats can only be reduced within 7 days")).to_be_visible()
    page.get_by_role("button", name="Change On Renewal instead").click()
    expect(page.get_by_role("radio", name="On Renewal")).to_be_checked()
    expect(page.get_by_text("No charge now")).to_be_visible()
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_text("will change to 10 licenses at renewal").first).to_be_visible()
    page.get_by_role("link", name="Future Changes").first.click()
    expect(page.get_by_role("heading", level=1, name="Future Changes")).to_be_visible()
    row = page.get_by_role("row").filter(has_text="Power BI Pro")
    expect(row).to_contain_text("On Renewal")
    expect(row).to_contain_text("Pending")
    no_toasts(page)
    assert axe_violations(page) == []
    page.screenshot(path="screenshots/future-changes-1440.png", full_page=True)
    row.get_by_role("button", name="Cancel the change of Power BI Pro").click()
    dialog = page.get_by_role("alertdialog")
    expect(dialog).to_contain_text("Cancel the change of Power BI Pro from 12 to 10")
    dialog.get_by_role("button", name="Keep change").click()
    expect(row).to_be_visible()
    row.get_by_role("button", name="Cancel the change of Power BI Pro").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Cancel change").click()
    expect(page.get_by_text("No upcoming changes")).to_be_visible()
    page.get_by_role("link", name="Change Logs").click()
    expect(page.get_by_role("row").filter(has_text="Power BI Pro").first).to_contain_text("Cancelled")


def test_custom_date_is_validated_scheduled_and_editable(page, context, base_url):
    open_subscription(page, context, base_url, "Microsoft 365 Copilot")
    expect(page.get_by_label("Effective Date")).to_have_count(0)
    page.get_by_label("Quantity").fill("8")
    page.get_by_role("radio", name="Custom").click()
    date_field = page.get_by_label("Effective Date")
    expect(date_field).to_be_visible()
    date_field.fill((TODAY - timedelta(days=1)).isoformat())
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_text("The Effective Date cannot be in the past.")).to_be_visible()
    date_field.fill(date(TODAY.year + 3, 1, 1).isoformat())
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_text("must be on or before the end of the current term")).to_be_visible()
    due = TODAY + timedelta(days=14)
    date_field.fill(due.isoformat())
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_text(f"will change to 8 licenses on {due.isoformat()}").first).to_be_visible()
    page.goto(base_url + "/my-services/future-changes")
    row = page.get_by_role("row").filter(has_text="Microsoft 365 Copilot")
    expect(row).to_contain_text(due.isoformat())
    row.get_by_role("button", name="Edit the change of Microsoft 365 Copilot").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Quantity").fill("abc")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog.get_by_text("whole number")).to_be_visible()
    dialog.get_by_label("Quantity").fill("9")
    dialog.get_by_role("button", name="Save").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(row.get_by_role("cell").nth(1)).to_have_text("9")


def test_custom_change_due_today_is_applied_by_the_scheduler(page, context, base_url):
    open_subscription(page, context, base_url, "Visio Plan 2", contract="Microsoft 365 Monthly (LDP-2026-002)")
    page.get_by_label("Quantity").fill("6")
    page.get_by_role("radio", name="Custom").click()
    page.get_by_label("Effective Date").fill(TODAY.isoformat())
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_text(f"will change to 6 licenses on {TODAY.isoformat()}").first).to_be_visible()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        page.goto(base_url + "/my-services/change-logs")
        row = page.get_by_role("row").filter(has_text="Visio Plan 2").first
        expect(row).to_be_visible()
        if "Scheduler" in row.inner_text():
            break
        page.wait_for_timeout(2000)
    expect(row).to_contain_text("Succeeded")
    page.goto(base_url + "/my-services/future-changes")
    expect(page.get_by_role("row").filter(has_text="Visio Plan 2")).to_have_count(0)
    page.goto(base_url + "/my-services")
    choose_contract(page, "Microsoft 365 Monthly (LDP-2026-002)")
    expect(page.get_by_role("row").filter(has_text="Visio Plan 2")).to_contain_text("6")


def test_second_editor_is_asked_to_review(browser, base_url):
    luis_context, dana_context = browser.new_context(), browser.new_context()
    luis_page, dana_page = luis_context.new_page(), dana_context.new_page()
    open_subscription(luis_page, luis_context, base_url, "Microsoft 365 Business Basic")
    open_subscription(dana_page, dana_context, base_url, "Microsoft 365 Business Basic", who=DANA)
    luis_page.get_by_label("Quantity").fill("32")
    luis_page.get_by_role("button", name="Submit").click()
    expect(luis_page.get_by_text("now has 32 licenses").first).to_be_visible()
    dana_page.get_by_label("Quantity").fill("35")
    dana_page.get_by_role("button", name="Submit").click()
    expect(dana_page.get_by_text("This subscription was changed by someone else since you opened it.")).to_be_visible()
    expect(dana_page.get_by_text("Current Quantity").locator("..")).to_contain_text("32")
    dana_page.get_by_role("button", name="Submit").click()  # after review, submitting again applies
    expect(dana_page.get_by_text("now has 35 licenses").first).to_be_visible()
    luis_context.close()
    dana_context.close()


def test_below_assigned_licenses_links_to_manage_licenses(page, context, base_url):
    open_subscription(page, context, base_url, "Microsoft 365 Business Standard", who=TOM)
    page.get_by_label("Quantity").fill("20")
    page.get_by_role("radio", name="On Renewal").click()
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_text("30 licenses are assigned to users")).to_be_visible()
    expect(page.get_by_role("link", name="Go to Manage Licenses")).to_have_attribute("href", "/manage-licenses")


def test_addon_opens_from_its_base_and_missing_consent_skips_assigned_check(page, context, base_url):
    open_my_services(page, context, base_url)
    page.get_by_role("button", name="Show add-ons of Microsoft 365 Business Premium").click()
    page.get_by_role("link", name="Microsoft Teams Premium").click()
    expect(page.get_by_role("heading", level=2, name="Microsoft Teams Premium")).to_be_visible()
    expect(page.get_by_text("The check against licenses assigned to users was skipped")).to_be_visible()


def test_buy_from_catalog_places_one_order(page, context, base_url, console_errors):
    open_my_services(page, context, base_url)
    page.get_by_role("link", name="Add Service").click()
    expect(page.get_by_role("heading", level=1, name="Product Catalog")).to_be_visible()
    expect(page.get_by_text(re.compile(r"^12 of (4\d|5\d) products$"))).to_be_visible()
    expect(page.get_by_role("group")).to_have_count(12)
    page.get_by_role("button", name="Show more products").click()
    expect(page.get_by_role("group")).to_have_count(24)
    page.get_by_role("combobox", name="Billing Contract").click()
    page.get_by_role("option", name="Microsoft 365 Monthly (LDP-2026-002)").click()
    page.get_by_label("Search products").fill("visio plan 1")
    card = page.get_by_role("group", name="Visio Plan 1")
    expect(card).to_contain_text("Monthly, billed monthly")
    expect(card).to_contain_text("$6.00/unit/month")
    assert axe_violations(page) == []
    page.screenshot(path="screenshots/catalog-1440.png", full_page=True)
    card.get_by_role("link", name="Buy Visio Plan 1, Annual, billed monthly").click()
    expect(page.get_by_role("heading", level=1, name="Subscription Create")).to_be_visible()
    expect(page.get_by_text("Microsoft 365 Monthly (LDP-2026-002)")).to_be_visible()
    page.get_by_label("Quantity").fill("0")
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_text("The quantity must be at least 1.")).to_be_visible()
    page.get_by_label("Quantity").fill("3")
    expect(page.get_by_text("$15.00")).to_be_visible()
    no_toasts(page)
    assert axe_violations(page) == []
    page.get_by_role("button", name="Submit").dblclick()
    expect(page).to_have_url(re.compile(r"/my-services\?contract="))
    table = page.get_by_role("table")
    expect(table.get_by_role("link", name="Visio Plan 1")).to_have_count(1)
    page.goto(base_url + "/my-services/change-logs")
    expect(page.get_by_role("row").filter(has_text="Visio Plan 1")).to_have_count(1)
    expect(page.get_by_role("row").filter(has_text="Visio Plan 1")).to_contain_text("Purchase")
    assert console_errors == []


def test_future_start_date_schedules_the_purchase(page, context, base_url):
    open_my_services(page, context, base_url)
    page.goto(base_url + "/my-services/catalog")
    page.get_by_label("Search products").fill("project plan 1")
    page.get_by_role("group", name="Project Plan 1").get_by_role(
        "link", name="Buy Project Plan 1, Monthly, billed monthly"
    ).click()
    expect(page.get_by_role("heading", level=1, name="Subscription Create")).to_be_visible()
    page.get_by_label("Quantity").fill("2")
    start = page.get_by_label("Effective Start Date")
    start.fill((TODAY - timedelta(days=2)).isoformat())
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_text("The Effective Start Date cannot be in the past.")).to_be_visible()
    start.fill((TODAY + timedelta(days=7)).isoformat())
    page.get_by_role("button", name="Submit").click()
    expect(page).to_have_url(re.compile(r"/my-services/future-changes$"))
    row = page.get_by_role("row").filter(has_text="Project Plan 1")
    expect(row).to_contain_text("New subscription")
    expect(row).to_contain_text((TODAY + timedelta(days=7)).isoformat())
    expect(row).to_contain_text("Pending")


def test_microsoft_outage_shows_loading_then_a_clear_error_and_retry(page, context, base_url):
    from opkalla_portal.microsoft.emulator import EmulatorStore

    store = EmulatorStore(os.environ["OPKALLA_EMULATOR_DB"])  # the portal's own emulator database
    store.set_faults(error_probability=1.0, error_status=503, latency_ms=400, services=["partner_center"], seed=3)
    try:
        sign_in_as(context, base_url, LUIS)
        page.goto(base_url + "/my-services")
        expect(page.get_by_role("status").filter(has_text="Loading subscriptions from Microsoft")).to_be_visible()
        alert = page.get_by_role("alert").filter(has_text="temporarily unavailable")
        expect(alert).to_be_visible(timeout=30000)
        store.clear_faults()
        alert.get_by_role("button", name="Try again").click()
        expect(page.get_by_role("link", name="Microsoft 365 Business Premium")).to_be_visible(timeout=15000)
    finally:
        store.clear_faults()


def test_signed_out_visitor_is_sent_to_sign_in_with_the_page_to_return_to(page, base_url):
    for route in ("/my-services", "/my-services/future-changes", "/my-services/catalog"):
        page.goto(base_url + route)
        expect(page).to_have_url(re.compile(r"/sign-in/?\?next=" + re.escape(route) + "/?$"))


def test_finance_manager_cannot_open_my_services(page, context, base_url):
    sign_in_as(context, base_url, PRIYA)
    for route in ("/my-services", "/my-services/edit?id=x", "/my-services/catalog", "/my-services/change-logs"):
        page.goto(base_url + route)
        expect(page).to_have_url(re.compile(r"/not-allowed"))


@pytest.mark.parametrize("width", [390, 1440])
@pytest.mark.parametrize("theme", ["light", "dark"])
def test_screens_at_phone_and_desktop_widths(page, context, base_url, width, theme):
    sign_in_as(context, base_url, LUIS)
    page.emulate_media(color_scheme=theme)
    page.set_viewport_size({"width": width, "height": 900})
    for route, heading in (
        ("/my-services", "My Services"),
        ("/my-services/catalog", "Product Catalog"),
        ("/my-services/change-logs", "Change Logs"),
        ("/my-services/future-changes", "Future Changes"),
    ):
        page.goto(base_url + route)
        expect(page.get_by_role("heading", level=1, name=heading)).to_be_visible()
        page.wait_for_timeout(600)
        page.screenshot(path=f"screenshots/{route.strip('/').replace('/', '-')}-{width}-{theme}.png", full_page=True)
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{route} scrolls sideways at {width}px"
    page.goto(base_url + "/my-services")
    page.get_by_role("link", name="Microsoft 365 Business Premium").click()
    expect(page.get_by_role("heading", level=1, name="Subscription Edit")).to_be_visible()
    page.get_by_label("Quantity", exact=True).fill("46")
    page.get_by_role("radio", name="Custom").click()
    expect(page.get_by_label("Effective Date")).to_be_visible()
    page.screenshot(path=f"screenshots/subscription-edit-{width}-{theme}.png", full_page=True)
    page.goto(base_url + "/my-services/catalog")
    page.get_by_role("link", name=re.compile("^Buy")).first.click()
    expect(page.get_by_role("heading", level=1, name="Subscription Create")).to_be_visible()
    page.screenshot(path=f"screenshots/subscription-create-{width}-{theme}.png", full_page=True)
