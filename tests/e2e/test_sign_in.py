"""Sign-in with Microsoft (the emulator's account picker), the return to the asked page,
sessions across reloads and tabs, sign-out, no-access pages and the menu for each role."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import axe_violations

pytestmark = pytest.mark.e2e

ALL_ITEMS = [
    "Home",
    "My Services",
    "Approvals",
    "My Agreements",
    "My Invoices",
    "Usage Data",
    "My Company",
    "Manage Users",
    "Manage Licenses",
    "Microsoft Support",
]
ROLE_MENUS = {
    "Dana Whitaker": ALL_ITEMS,
    "Tom Becker": ALL_ITEMS,
    "Luis Ortega": ["Home", "My Services", "Usage Data", "Manage Licenses", "Microsoft Support"],
    "Priya Natarajan": ["Home", "Approvals", "My Agreements", "My Invoices", "Microsoft Support"],
}


def sign_in_with_microsoft(page, persona: str) -> None:
    """On the sign-in page: Sign In, then pick the persona on Microsoft's account picker."""
    page.get_by_role("link", name="Sign In").click()
    expect(page.get_by_role("heading", name="Pick an account")).to_be_visible()
    page.get_by_role("button", name=persona, exact=True).click()


def test_sign_in_returns_to_the_asked_page_and_survives_reload_and_new_tab(page, context, base_url, console_errors):
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{base_url}/my-invoices")
    expect(page).to_have_url(re.compile(r"/sign-in/?\?next=/my-invoices/?$"))
    expect(page.get_by_role("heading", level=1, name="Sign in to the Customer Portal")).to_be_visible()
    assert axe_violations(page) == []
    page.screenshot(path="screenshots/sign-in-1440.png")
    sign_in_with_microsoft(page, "Dana Whitaker")
    expect(page).to_have_url(re.compile(r"/my-invoices/?$"))
    expect(page.get_by_role("heading", level=1, name="My Invoices")).to_be_visible()
    expect(page.get_by_role("button", name="Account menu")).to_contain_text("Dana Whitaker")
    cookie = next(c for c in context.cookies() if c["name"] == "opkalla_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and cookie["path"] == "/"

    page.reload()
    expect(page.get_by_role("heading", level=1, name="My Invoices")).to_be_visible()
    second = context.new_page()
    second.goto(f"{base_url}/manage-users")
    expect(second.get_by_role("heading", level=1, name="Manage Users")).to_be_visible()
    second.close()

    # Sign out ends the session (here and in every tab) and returns to the sign-in page.
    page.get_by_role("button", name="Account menu").click()
    page.get_by_role("menuitem", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/sign-in/?$"))
    assert not [c for c in context.cookies() if c["name"] == "opkalla_session"]
    page.goto(f"{base_url}/my-services")
    expect(page).to_have_url(re.compile(r"/sign-in/?\?next=/my-services/?$"))
    assert console_errors == []


def test_the_asked_page_keeps_its_query(page, base_url):
    page.goto(f"{base_url}/manage-users/user?id=2")
    expect(page).to_have_url(re.compile(r"/sign-in/?\?next=/manage-users/user/?%3Fid%3D2$"))
    sign_in_with_microsoft(page, "Dana Whitaker")
    expect(page).to_have_url(re.compile(r"/manage-users/user/?\?id=2$"))
    expect(page.get_by_role("heading", level=1, name="User Edit")).to_be_visible()


def test_visiting_sign_in_when_signed_in_goes_on(page, base_url):
    page.goto(f"{base_url}/sign-in")
    sign_in_with_microsoft(page, "Luis Ortega")
    expect(page.get_by_role("heading", level=1, name="Home")).to_be_visible()
    page.goto(f"{base_url}/sign-in?next=/usage-data")
    expect(page).to_have_url(re.compile(r"/usage-data/?$"))


@pytest.mark.parametrize("persona", ["Unknown Visitor", "Marcus Reed"])
def test_no_portal_account_sees_a_clear_no_access_page(page, base_url, persona, console_errors):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{base_url}/")
    sign_in_with_microsoft(page, persona)
    expect(page).to_have_url(re.compile(r"/no-access/?\?reason=no_account$"))
    expect(page.get_by_role("heading", level=1, name="You don't have access to the portal")).to_be_visible()
    expect(page.get_by_text("Ask your administrator for an invitation, or email support@opkalla.com")).to_be_visible()
    assert axe_violations(page) == []
    page.screenshot(path="screenshots/no-access-390.png")
    page.goto(f"{base_url}/")
    expect(page).to_have_url(re.compile(r"/sign-in"))
    assert console_errors == []


def test_cancelling_at_microsoft_says_so(page, base_url):
    page.goto(f"{base_url}/sign-in")
    page.get_by_role("link", name="Sign In").click()
    page.get_by_role("button", name="Cancel").click()
    expect(page.get_by_role("heading", level=1, name="Sign-in was cancelled")).to_be_visible()


def test_a_replayed_callback_is_refused(page, base_url):
    page.goto(f"{base_url}/sign-in")
    page.get_by_role("link", name="Sign In").click()
    expect(page.get_by_role("heading", name="Pick an account")).to_be_visible()
    page.goto(f"{base_url}/auth/callback?state=forged&code=forged")
    expect(page.get_by_role("heading", level=1, name="This sign-in link is not valid")).to_be_visible()


@pytest.mark.parametrize("persona", list(ROLE_MENUS))
def test_menu_per_role_and_pages_refused_by_url(page, base_url, persona):
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{base_url}/")
    sign_in_with_microsoft(page, persona)
    nav = page.get_by_role("navigation", name="Manage My Services")
    expect(nav.get_by_role("link")).to_have_count(len(ROLE_MENUS[persona]))
    for label in ROLE_MENUS[persona]:
        expect(nav.get_by_role("link", name=label, exact=True)).to_be_visible()
    routes = {
        "Manage Users": "/manage-users",
        "Manage Licenses": "/manage-licenses",
        "My Invoices": "/my-invoices",
        "My Company": "/my-company",
        "Approvals": "/approvals",
    }
    for label, route in routes.items():
        if label not in ROLE_MENUS[persona]:
            page.goto(base_url + route)
            expect(page).to_have_url(re.compile(r"/not-allowed"))
            expect(page.get_by_role("heading", level=1, name="You don't have access to this page")).to_be_visible()
