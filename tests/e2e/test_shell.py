"""The app shell: navigation, user menu, every page reachable, accessible, at two widths."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import axe_violations, sign_in_as

pytestmark = pytest.mark.e2e

MENU = [
    ("Home", "/", "Home"),
    ("My Services", "/my-services", "My Services"),
    ("Approvals", "/approvals", "Approvals"),
    ("My Agreements", "/my-agreements", "My Agreements"),
    ("My Invoices", "/my-invoices", "My Invoices"),
    ("Usage Data", "/usage-data", "Usage Data"),
    ("My Company", "/my-company", "My Company"),
    ("Manage Users", "/manage-users", "Manage Users"),
    ("Manage Licenses", "/manage-licenses", "Manage Licenses"),
    ("Microsoft Support", "/support", "Microsoft Support"),
]
ADMIN = "dana.whitaker@lakesidedental.onmicrosoft.com"


def test_signed_out_visitor_lands_on_sign_in(page, base_url):
    page.goto(f"{base_url}/my-invoices")
    expect(page).to_have_url(re.compile(r"/sign-in\?next=/my-invoices"))
    expect(page.get_by_role("link", name="Sign In")).to_be_visible()


def test_every_menu_item_opens_its_page(page, context, base_url, console_errors):
    sign_in_as(context, base_url, ADMIN)
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(base_url + "/")
    nav = page.get_by_role("navigation", name="Manage My Services")
    for label, route, heading in MENU:
        nav.get_by_role("link", name=label, exact=True).click()
        expect(page).to_have_url(re.compile(re.escape(route) + r"$"))
        expect(page.get_by_role("heading", level=1, name=heading)).to_be_visible()
        violations = axe_violations(page)
        assert violations == [], f"{route}: {violations}"
    assert console_errors == []


def test_user_menu_offers_profile_and_sign_out(page, context, base_url):
    sign_in_as(context, base_url, ADMIN)
    page.goto(base_url + "/")
    page.get_by_role("button", name=re.compile("Account menu")).click()
    page.get_by_role("menuitem", name="Profile").click()
    expect(page).to_have_url(re.compile(r"/profile$"))
    expect(page.get_by_role("heading", level=1, name="Profile")).to_be_visible()
    page.get_by_role("button", name=re.compile("Account menu")).click()
    page.get_by_role("menuitem", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/sign-in"))
    page.goto(base_url + "/my-services")
    expect(page).to_have_url(re.compile(r"/sign-in"))


def test_phone_width_collapses_the_menu(page, context, base_url):
    sign_in_as(context, base_url, ADMIN)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(base_url + "/")
    expect(page.get_by_role("heading", level=1, name="Home")).to_be_visible()
    # The visible name is hidden at this width; the account button still says whose it is.
    expect(page.get_by_role("button", name="Dana Whitaker, Account menu")).to_be_visible()
    page.get_by_role("button", name="Open menu").click()
    page.get_by_role("dialog").get_by_role("link", name="My Invoices").click()
    expect(page.get_by_role("heading", level=1, name="My Invoices")).to_be_visible()
    page.screenshot(path="screenshots/shell-390.png", full_page=True)


def test_menu_follows_the_role(page, context, base_url):
    sign_in_as(context, base_url, "priya.natarajan@lakesidedental.onmicrosoft.com")
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(base_url + "/")
    nav = page.get_by_role("navigation", name="Manage My Services")
    expect(nav.get_by_role("link", name="My Invoices")).to_be_visible()
    expect(nav.get_by_role("link", name="Manage Licenses")).to_have_count(0)
    page.goto(base_url + "/manage-licenses")
    expect(page).to_have_url(re.compile(r"/not-allowed"))
    page.screenshot(path="screenshots/not-allowed.png")


def test_theme_switches_between_light_and_dark(page, context, base_url):
    sign_in_as(context, base_url, ADMIN)
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(base_url + "/my-services")
    html = page.locator("html")
    expect(html).to_have_class(re.compile(r"\blight\b"))
    page.get_by_role("button", name="Switch light or dark theme").click()
    expect(html).to_have_class(re.compile(r"\bdark\b"))
    page.screenshot(path="screenshots/shell-1440-dark.png")
    assert axe_violations(page) == []


def test_current_page_is_marked_in_the_menu(page, context, base_url):
    sign_in_as(context, base_url, ADMIN)
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(base_url + "/usage-data")
    nav = page.get_by_role("navigation", name="Manage My Services")
    expect(nav.get_by_role("link", name="Usage Data")).to_have_attribute("aria-current", "page")
    expect(nav.get_by_role("link", name="Home")).to_have_attribute("aria-current", "false")


def test_every_page_has_exactly_one_main_landmark(page, context, base_url):
    from opkalla_portal.pages import ALL_PAGES

    page.goto(base_url + "/sign-in")
    expect(page.get_by_role("main")).to_have_count(1)
    sign_in_as(context, base_url, ADMIN)
    for route in sorted({p.route for p in ALL_PAGES} - {"/sign-in"}):
        page.goto(base_url + route)
        # Wherever the route leads (a detail page without its id, /not-allowed for provider pages).
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        expect(page.get_by_role("main"), route).to_have_count(1)
