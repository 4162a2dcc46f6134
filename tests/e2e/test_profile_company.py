"""Profile (from the drop-down beside the name) and My Company: Update / Submit save and
confirm; bad input shows a message beside the field and changes nothing."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import axe_violations, sign_in_as

pytestmark = pytest.mark.e2e

TOM = "tom.becker@bayviewlogistics.onmicrosoft.com"


def test_profile_update_validates_and_saves(page, context, base_url, console_errors):
    sign_in_as(context, base_url, TOM)
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(base_url + "/")
    page.get_by_role("button", name="Account menu").click()
    page.get_by_role("menuitem", name="Profile").click()
    expect(page.get_by_role("heading", level=1, name="Profile")).to_be_visible()
    expect(page.get_by_label("First Name")).to_have_value("Tom")
    expect(page.get_by_role("textbox", name="Email")).to_have_value(TOM)
    expect(page.get_by_label("Business Phone")).to_have_value("+1 (206) 555-0189")
    expect(page.get_by_role("radio", name="Email")).to_be_checked()
    assert axe_violations(page) == []

    # Bad input: the messages sit beside their fields and nothing is saved.
    page.get_by_label("Title").fill("Director of IT")
    page.get_by_role("textbox", name="Email").fill("tom@")
    page.get_by_label("Business Phone").fill("call me maybe")
    page.get_by_label("First Name").fill("")
    page.get_by_role("button", name="Update").click()
    expect(page.get_by_text("Enter an email address like name@example.com.")).to_be_visible()
    expect(page.get_by_text("Enter a phone number like +1 (612) 555-0100.")).to_be_visible()
    expect(page.get_by_text("First Name is required.")).to_be_visible()
    expect(page.get_by_role("textbox", name="Email")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Title")).to_have_attribute("aria-invalid", "false")
    page.screenshot(path="screenshots/profile-errors-1440.png", full_page=True)
    page.reload()
    expect(page.get_by_label("Title")).to_have_value("Head of IT")
    expect(page.get_by_label("First Name")).to_have_value("Tom")

    # Good input saves, confirms, and survives a reload.
    page.get_by_label("Title").fill("  Director of IT ")
    page.get_by_label("Business Phone").fill("+1 (206) 555-0190")
    page.get_by_role("radio", name="Microsoft Teams").click()
    page.get_by_role("button", name="Update").click()
    expect(page.get_by_text("Your profile was updated.")).to_be_visible()
    page.reload()
    expect(page.get_by_label("Title")).to_have_value("Director of IT")
    expect(page.get_by_label("Business Phone")).to_have_value("+1 (206) 555-0190")
    expect(page.get_by_role("radio", name="Microsoft Teams")).to_be_checked()
    assert console_errors == []


def test_my_company_validates_and_submits(page, context, base_url, console_errors):
    sign_in_as(context, base_url, TOM)
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(base_url + "/my-company")
    expect(page.get_by_role("heading", level=1, name="My Company")).to_be_visible()
    expect(page.get_by_text("This is your company profile.")).to_be_visible()
    expect(page.get_by_role("heading", name="Bayview Logistics")).to_be_visible()
    website = page.get_by_label("Website")
    original_website = website.input_value()
    assert axe_violations(page) == []
    page.screenshot(path="screenshots/my-company-1440.png", full_page=True)

    website.fill("bayview dot com")
    page.get_by_label("Phone Number").fill("")
    page.get_by_label("City").fill("")
    page.get_by_label("Email Address").fill("Fleet@Bayview.example")
    page.get_by_role("button", name="Submit").click()
    expect(
        page.get_by_text("Enter a web address starting with https://, like https://www.example.com.")
    ).to_be_visible()
    expect(page.get_by_text("Phone Number is required.")).to_be_visible()
    expect(page.get_by_text("City is required.")).to_be_visible()
    expect(page.get_by_text("The company profile was not saved.")).to_be_visible()
    page.reload()
    expect(page.get_by_label("Website")).to_have_value(original_website)
    expect(page.get_by_label("City")).not_to_have_value("")

    page.get_by_label("Website").fill("https://www.bayviewlogistics.example/fleet")
    page.get_by_label("Email Address").fill("Fleet@Bayview.example")
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_text("The company profile was saved.")).to_be_visible()
    expect(page.get_by_label("Email Address")).to_have_value("fleet@bayview.example")
    page.reload()
    expect(page.get_by_label("Website")).to_have_value("https://www.bayviewlogistics.example/fleet")
    assert console_errors == []


def test_forms_at_phone_width_in_dark_theme(page, context, base_url):
    sign_in_as(context, base_url, TOM)
    page.set_viewport_size({"width": 390, "height": 844})
    page.emulate_media(color_scheme="dark")
    page.goto(base_url + "/profile")
    expect(page.get_by_label("Last Name")).to_have_value("Becker")
    assert axe_violations(page) == []
    page.screenshot(path="screenshots/profile-390-dark.png", full_page=True)
    page.goto(base_url + "/my-company")
    expect(page.get_by_label("Postal Code")).to_be_visible()
    page.get_by_label("Country").fill("U1")
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_text("Use the two-letter country code, like US.")).to_be_visible()
    # Check the toast's contrast once it has faded in (mid-fade its text is as pale as its background).
    expect(page.locator("[data-sonner-toast]").first).to_have_css("opacity", "1")
    assert axe_violations(page) == []
    page.screenshot(path="screenshots/my-company-390-dark.png", full_page=True)


def test_company_profile_is_for_administrators_only(page, context, base_url):
    sign_in_as(context, base_url, "luis.ortega@lakesidedental.onmicrosoft.com")
    page.goto(base_url + "/my-company")
    expect(page).to_have_url(re.compile(r"/not-allowed"))
    page.goto(base_url + "/profile")
    expect(page.get_by_label("First Name")).to_have_value("Luis")
