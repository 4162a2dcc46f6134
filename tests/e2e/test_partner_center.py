"""In the browser: the provider's Partner Center connection (App+User, MFA). Riley Morgan, the
provider's Work365 Administrator, sees it connected out of the box (cli prepare connects the
demo through the real flow), disconnects it (with confirmation, a warning then shows on every
page) and connects it again through Microsoft's (the emulator's) sign-in; a customer's
Administrator cannot reach the page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import sign_in_as

pytestmark = pytest.mark.e2e

RILEY = "riley.morgan@opkalla.onmicrosoft.com"
DANA = "dana.whitaker@lakesidedental.onmicrosoft.com"


def test_riley_sees_disconnects_and_reconnects_partner_center(page, context, base_url, console_errors):
    sign_in_as(context, base_url, RILEY)
    page.goto(base_url + "/")
    page.get_by_role("button", name=re.compile("Account menu")).click()
    page.get_by_role("menuitem", name="Partner Center connection").click()
    expect(page.get_by_role("heading", name="Partner Center connection", level=1)).to_be_visible()
    expect(page.get_by_text("Connected", exact=True)).to_be_visible()
    expect(page.get_by_text("Riley Morgan (riley.morgan@opkalla.onmicrosoft.com)")).to_be_visible()
    expect(page.get_by_text("MFA-backed")).to_be_visible()
    expect(page.get_by_text("Yes", exact=True)).to_be_visible()
    expect(page.get_by_text("Expires on")).to_be_visible()
    expect(page.get_by_role("alert").filter(has_text="Partner Center")).to_have_count(0)
    page.screenshot(path="screenshots/partner-center-1440.png", full_page=True)

    page.get_by_role("button", name="Disconnect").click()
    dialog = page.get_by_role("alertdialog")
    expect(dialog.get_by_text("Disconnect Partner Center?")).to_be_visible()
    dialog.get_by_role("button", name="Disconnect").click()
    expect(page.get_by_text("Not connected", exact=True)).to_be_visible()
    page.goto(base_url + "/my-services")  # the warning follows the administrator around
    expect(page.get_by_role("alert").filter(has_text="Partner Center is not connected")).to_be_visible()

    page.goto(base_url + "/partner-center")
    page.get_by_role("button", name="Connect", exact=True).click()
    expect(page.get_by_role("heading", name="Pick an account")).to_be_visible()
    page.get_by_role("button", name="Riley Morgan").click()
    expect(page).to_have_url(re.compile(r"/partner-center/?\?result=connected"))
    expect(page.get_by_text("Partner Center is connected.")).to_be_visible()
    expect(page.get_by_text("Yes", exact=True)).to_be_visible()
    assert console_errors == []


def test_a_customer_administrator_cannot_reach_it(page, context, base_url):
    sign_in_as(context, base_url, DANA)
    page.goto(base_url + "/")
    page.get_by_role("button", name=re.compile("Account menu")).click()
    expect(page.get_by_role("menuitem", name="Partner Center connection")).to_have_count(0)
    page.keyboard.press("Escape")
    page.goto(base_url + "/partner-center")
    expect(page).to_have_url(re.compile(r"/not-allowed"))
    expect(page.get_by_text("Riley Morgan")).to_have_count(0)
