"""Approvals in Chromium: Dana sets a threshold, Luis's increase above it is held, Priya approves it,
Dana denies the next one with a reason, Change Logs show it all; notification switches in Profile."""

import re

import pytest
from playwright.sync_api import expect

from opkalla_portal.demo import demo_data
from tests.e2e.conftest import axe_violations, sign_in_as

pytestmark = pytest.mark.e2e

LUIS = "luis.ortega@lakesidedental.onmicrosoft.com"
DANA = "dana.whitaker@lakesidedental.onmicrosoft.com"
PRIYA = "priya.natarajan@lakesidedental.onmicrosoft.com"
PROJECT = next(s for s in demo_data.SUBSCRIPTIONS if s.customer_key == "lakeside" and s.key == "project-p3")  # $36


def signed_in_page(browser, base_url, email, width=1440):
    context = browser.new_context(viewport={"width": width, "height": 900})
    sign_in_as(context, base_url, email)
    return context, context.new_page()


def no_toasts(page):
    expect(page.locator("[data-sonner-toast]")).to_have_count(0, timeout=15000)


def set_threshold(page, base_url, amount):
    page.goto(base_url + "/approvals")
    expect(page.get_by_role("heading", level=1, name="Approvals")).to_be_visible()
    switch = page.get_by_role("switch", name="Require approval for quantity increases")
    if (amount is None) == (switch.get_attribute("aria-checked") == "true"):
        switch.click()
    if amount is not None:
        page.get_by_label("Monthly cost threshold (USD)").fill(amount)
    page.get_by_role("button", name="Save settings").click()


def request_increase(page, base_url, quantity):
    page.goto(f"{base_url}/my-services/edit?id={PROJECT.id}")
    expect(page.get_by_role("heading", level=2, name="Project Plan 3")).to_be_visible()
    page.get_by_label("Quantity").fill(str(quantity))
    page.get_by_role("button", name="Submit").click()


def test_threshold_hold_approve_deny_and_change_logs(browser, base_url):
    dana_context, dana = signed_in_page(browser, base_url, DANA)
    luis_context, luis = signed_in_page(browser, base_url, LUIS)
    priya_context, priya = signed_in_page(browser, base_url, PRIYA)
    try:
        # Dana: a bad threshold is refused beside the field, then $100 is saved.
        set_threshold(dana, base_url, "a lot")
        expect(dana.get_by_text("Enter the threshold as an amount in dollars")).to_be_visible()
        expect(dana.get_by_label("Monthly cost threshold (USD)")).to_have_attribute("aria-invalid", "true")
        dana.get_by_label("Monthly cost threshold (USD)").fill("100")
        dana.get_by_role("button", name="Save settings").click()
        expect(dana.get_by_text("The approval settings were saved.")).to_be_visible()
        expect(dana.get_by_text("Quantity increases adding more than $100.00 per month need approval.")).to_be_visible()
        expect(dana.get_by_text("No requests are waiting")).to_be_visible()
        no_toasts(dana)
        assert axe_violations(dana) == []
        dana.screenshot(path="screenshots/approvals-empty-1440.png", full_page=True)

        # Luis: 3 -> 6 seats adds $108 a month: held, not sent to Microsoft.
        request_increase(luis, base_url, 6)
        held = luis.get_by_role("status").filter(has_text="Your change was sent for approval")
        expect(held).to_contain_text("adds $108.00 per month")
        luis.screenshot(path="screenshots/subscription-edit-held-1440.png", full_page=True)
        held.get_by_role("link", name="My Approval Requests").click()
        expect(luis.get_by_role("heading", level=1, name="My Approval Requests")).to_be_visible()
        expect(luis.get_by_role("row").filter(has_text="Project Plan 3")).to_contain_text("Awaiting approval")
        no_toasts(luis)
        assert axe_violations(luis) == []

        # Priya (Finance Manager): Approvals is in her menu; she approves and it is applied.
        priya.goto(base_url + "/")
        priya.get_by_role("navigation", name="Manage My Services").get_by_role("link", name="Approvals").click()
        row = priya.get_by_role("row").filter(has_text="Project Plan 3")
        expect(row).to_contain_text("Luis Ortega")
        expect(row).to_contain_text("3 → 6")
        expect(row).to_contain_text("$108.00")
        priya.screenshot(path="screenshots/approvals-pending-1440.png", full_page=True)
        assert axe_violations(priya) == []
        row.get_by_role("button", name=re.compile("^Approve request")).click()
        dialog = priya.get_by_role("alertdialog")
        expect(dialog).to_contain_text("Luis Ortega asked to change Project Plan 3 from 3 → 6 licenses")
        priya.wait_for_timeout(500)  # the dialog's fade-in (axe measures colours mid-animation otherwise)
        assert axe_violations(priya) == []
        dialog.get_by_role("button", name="Approve and apply").dblclick()  # a double click applies once
        expect(priya.get_by_text(re.compile("^Approved. Project Plan 3 now has 6 licenses"))).to_be_visible()
        decided = priya.get_by_role("row").filter(has_text="Project Plan 3")
        expect(decided).to_contain_text("Approved and applied")
        expect(priya.get_by_text("No requests are waiting")).to_be_visible()

        # Luis asks again (6 -> 9); Dana denies it, a reason being required.
        request_increase(luis, base_url, 9)
        expect(luis.get_by_text("Your change was sent for approval")).to_be_visible()
        dana.reload()
        pending = dana.get_by_role("row").filter(has_text="6 → 9")
        pending.get_by_role("button", name=re.compile("^Deny request")).click()
        dialog = dana.get_by_role("alertdialog")
        dialog.get_by_role("button", name="Deny request").click()
        expect(dialog.get_by_text("Enter a reason, so the requester knows why.")).to_be_visible()
        dialog.get_by_label("Reason").fill("Project licenses wait for the Q3 budget.")
        dana.screenshot(path="screenshots/approvals-deny-1440.png")
        dialog.get_by_role("button", name="Deny request").click()
        expect(dana.get_by_text("The request was denied and the requester was told why.")).to_be_visible()
        expect(dana.get_by_role("row").filter(has_text="6 → 9")).to_contain_text("Project licenses wait")

        # Change Logs record every step.
        luis.goto(base_url + "/my-services/change-logs")
        expect(luis.get_by_role("heading", level=1, name="Change Logs")).to_be_visible()
        table = luis.get_by_role("table")
        expect(table.get_by_text("Denied", exact=True)).to_be_visible()
        expect(table.get_by_text("Awaiting approval", exact=True).first).to_be_visible()
        expect(table.get_by_text(re.compile("approved by Priya Natarajan"))).to_be_visible()
        luis.screenshot(path="screenshots/change-logs-approvals-1440.png", full_page=True)

        # Phone width, dark theme.
        priya.set_viewport_size({"width": 390, "height": 844})
        priya.emulate_media(color_scheme="dark")
        priya.reload()
        expect(priya.get_by_role("heading", level=1, name="Approvals")).to_be_visible()
        no_toasts(priya)
        assert axe_violations(priya) == []
        priya.screenshot(path="screenshots/approvals-390-dark.png", full_page=True)
    finally:
        set_threshold(dana, base_url, None)  # later tests change quantities freely
        expect(dana.get_by_text("Approvals are off")).to_be_visible()
        for context in (dana_context, luis_context, priya_context):
            context.close()


def test_notification_preferences_persist(page, context, base_url, console_errors):
    sign_in_as(context, base_url, LUIS)
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(base_url + "/profile")
    expect(page.get_by_role("heading", name="Email notifications")).to_be_visible()
    reminders = page.get_by_role("switch", name="Renewal reminders")
    expect(reminders).to_have_attribute("aria-checked", "true")
    expect(page.get_by_role("switch", name="Approval outcomes")).to_have_attribute("aria-checked", "true")
    expect(page.get_by_role("switch", name="Approval requests")).to_have_count(0)  # not for his role
    reminders.click()
    expect(page.get_by_text("Renewal reminders: off. Saved.")).to_be_visible()
    page.reload()
    expect(page.get_by_role("switch", name="Renewal reminders")).to_have_attribute("aria-checked", "false")
    no_toasts(page)
    assert axe_violations(page) == []
    page.screenshot(path="screenshots/profile-notifications-1440.png", full_page=True)
    page.get_by_role("switch", name="Renewal reminders").press("Space")  # keyboard works too
    expect(page.get_by_text("Renewal reminders: on. Saved.")).to_be_visible()
    page.reload()
    expect(page.get_by_role("switch", name="Renewal reminders")).to_have_attribute("aria-checked", "true")
    page.set_viewport_size({"width": 390, "height": 844})
    page.emulate_media(color_scheme="dark")
    page.reload()
    expect(page.get_by_role("switch", name="Renewal reminders")).to_be_visible()
    no_toasts(page)
    assert axe_violations(page) == []
    page.screenshot(path="screenshots/profile-notifications-390-dark.png", full_page=True)
    assert console_errors == []


def test_a_big_purchase_in_the_product_catalog_waits_for_approval(browser, base_url):
    """Issue 15: buying 50 x Dynamics 365 Business Central Premium ($6,600 a month) is held, not
    ordered; approved, it is ordered once and shows in My Services."""
    dana_context, dana = signed_in_page(browser, base_url, DANA)
    luis_context, luis = signed_in_page(browser, base_url, LUIS)
    priya_context, priya = signed_in_page(browser, base_url, PRIYA)
    try:
        set_threshold(dana, base_url, "50")
        expect(dana.get_by_text("The approval settings were saved.")).to_be_visible()

        luis.goto(base_url + "/my-services/catalog")
        expect(luis.get_by_role("heading", level=1, name="Product Catalog")).to_be_visible()
        luis.get_by_role("combobox", name="Billing Contract").click()
        luis.get_by_role("option", name="Microsoft 365 Monthly (LDP-2026-002)").click()
        luis.get_by_label("Search products").fill("business central premium")
        card = luis.get_by_role("group", name="Dynamics 365 Business Central Premium")
        card.get_by_role("link", name="Buy Dynamics 365 Business Central Premium, Monthly, billed monthly").click()
        expect(luis.get_by_role("heading", level=1, name="Subscription Create")).to_be_visible()
        luis.get_by_label("Quantity").fill("50")
        luis.get_by_role("button", name="Submit").click()
        expect(luis).to_have_url(re.compile(r"/my-services/approval-requests$"))
        row = luis.get_by_role("row").filter(has_text="Dynamics 365 Business Central Premium")
        expect(row).to_contain_text("Awaiting approval")
        expect(row).to_contain_text("0 → 50")
        luis.goto(base_url + "/my-services")  # nothing was ordered
        luis.get_by_role("combobox", name="Billing Contract").click()
        luis.get_by_role("option", name="Microsoft 365 Monthly (LDP-2026-002)").click()
        expect(luis.get_by_role("table")).to_be_visible()
        expect(luis.get_by_role("link", name="Dynamics 365 Business Central Premium")).to_have_count(0)

        priya.goto(base_url + "/approvals")
        pending = priya.get_by_role("row").filter(has_text="Dynamics 365 Business Central Premium")
        expect(pending).to_contain_text("$6,600.00")
        pending.get_by_role("button", name=re.compile("^Approve request")).click()
        priya.get_by_role("alertdialog").get_by_role("button", name="Approve and apply").click()
        expect(priya.get_by_role("row").filter(has_text="Dynamics 365 Business Central Premium")).to_contain_text(
            "Approved and applied"
        )

        luis.reload()
        luis.get_by_role("combobox", name="Billing Contract").click()
        luis.get_by_role("option", name="Microsoft 365 Monthly (LDP-2026-002)").click()
        expect(luis.get_by_role("link", name="Dynamics 365 Business Central Premium")).to_have_count(1)
    finally:
        set_threshold(dana, base_url, None)
        expect(dana.get_by_text("Approvals are off")).to_be_visible()
        for context in (dana_context, luis_context, priya_context):
            context.close()
