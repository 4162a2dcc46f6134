"""Spark AI answers from the customer's own account, in Chromium: a Finance Manager gets the last
invoice with a link to My Invoices; a Subscription Manager is told why not."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import axe_violations, sign_in_as

pytestmark = pytest.mark.e2e

PRIYA = "priya.natarajan@lakesidedental.onmicrosoft.com"
LUIS = "luis.ortega@lakesidedental.onmicrosoft.com"
DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}


def _ask(page, question: str):
    page.get_by_label("Type your message").fill(question)
    page.get_by_role("button", name="Send").click()
    return page.get_by_role("log", name="Conversation")


def test_finance_manager_asks_for_the_last_invoice_and_follows_the_link(page, context, base_url, console_errors):
    sign_in_as(context, base_url, PRIYA)
    page.set_viewport_size(DESKTOP)
    page.goto(base_url + "/support")
    log = _ask(page, "What was our last invoice total?")
    answer = log.locator(".support-answer").last
    expect(answer).to_contain_text(
        # one invoice per billing contract: the last invoicing day may have one or several
        re.compile(r"Your last invoices?, .*LDP-INV-\d{6}-\d+.* \$[\d,]+\.\d\d"),
        timeout=15_000,
    )
    refs = log.get_by_role("group", name="References")
    expect(refs.get_by_role("link", name="My Invoices")).to_be_visible()
    expect(answer.get_by_role("link", name="[1]")).to_be_visible()
    assert axe_violations(page) == []
    for label, size in (("1440", DESKTOP), ("390", PHONE)):
        page.set_viewport_size(size)
        page.screenshot(path=f"screenshots/support-account-{label}.png", full_page=True)
    page.set_viewport_size(DESKTOP)
    refs.get_by_role("link", name="My Invoices").click()
    expect(page).to_have_url(re.compile(r"/my-invoices"))
    expect(page.get_by_role("heading", level=1, name="My Invoices")).to_be_visible()
    assert console_errors == []


def test_subscription_manager_is_told_why_invoices_are_not_shown(page, context, base_url):
    sign_in_as(context, base_url, LUIS)
    page.set_viewport_size(DESKTOP)
    page.goto(base_url + "/support")
    log = _ask(page, "What was our last invoice total?")
    answer = log.locator(".support-answer").last
    expect(answer).to_contain_text("your role, Work365 Subscription Manager", timeout=15_000)
    expect(answer).to_contain_text("Work365 Administrators and Work365 Finance Managers can see it")
    expect(answer).not_to_contain_text("$")
    expect(log.get_by_role("group", name="References")).to_have_count(0)
    log = _ask(page, "When does our Business Premium renew?")
    expect(log.locator(".support-answer").last).to_contain_text("Microsoft 365 Business Premium", timeout=15_000)
    expect(log.get_by_role("group", name="References").last.get_by_role("link", name="My Services")).to_be_visible()
