"""Manage Users in Chromium: Invite User → User Edit (Associate, Enable Portal Access) → the
demo Outbox → the Invitation Link → Microsoft → an Active user; every bad link; access turned
off ends the user's session; the last Administrator stays."""

import re
from datetime import UTC

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from tests.e2e.conftest import axe_violations, sign_in_as

pytestmark = pytest.mark.e2e

DANA = "dana.whitaker@lakesidedental.onmicrosoft.com"
EMILY = "emily.chen@lakesidedental.onmicrosoft.com"


def open_manage_users(page, base_url):
    page.goto(f"{base_url}/manage-users")
    expect(page.get_by_role("heading", level=1, name="Manage Users")).to_be_visible()


def users_table(page, title):
    return page.get_by_role("table", name=title, exact=True)


def open_user_edit(page, base_url, name, table="Inactive Portal Users"):
    open_manage_users(page, base_url)
    users_table(page, table).get_by_role("link", name=name).click()
    expect(page.get_by_role("heading", level=1, name="User Edit")).to_be_visible()
    expect(page.locator("#main").get_by_text(name, exact=True)).to_be_visible()


def send_invitation(page, role):
    page.get_by_role("radio", name=role).click()
    page.get_by_role("button", name="Associate").click()
    expect(page.get_by_text(f"is now {role}.")).to_be_visible()
    page.get_by_role("button", name="Enable Portal Access").click()
    expect(page.get_by_text("Invitation sent to")).to_be_visible()
    expect(page.get_by_text("Invitation sent", exact=True)).to_be_visible()  # the status badge


def newest_invitation_link(page, base_url) -> str:
    page.get_by_role("link", name="Open the outbox (demo)").click()
    expect(page.get_by_role("heading", level=1, name="Outbox")).to_be_visible()
    link = page.get_by_role("link", name="Open Invitation Link").first
    return base_url + link.get_attribute("href")


def remove_emily_from_the_portal():
    """Emily Chen is in Lakeside's directory; start with no portal account for her."""
    from opkalla_portal.db import session_scope
    from opkalla_portal.models import PortalUser

    with session_scope() as db:
        emily = db.exec(select(PortalUser).where(PortalUser.email == EMILY)).first()
        if emily:
            db.delete(emily)


def test_invite_user_to_active_user_and_back(browser, page, context, base_url, console_errors):
    remove_emily_from_the_portal()
    sign_in_as(context, base_url, DANA)
    page.set_viewport_size({"width": 1440, "height": 900})
    open_manage_users(page, base_url)
    expect(users_table(page, "Active Portal Users").get_by_role("link", name="Dana Whitaker")).to_be_visible()
    assert axe_violations(page) == []
    page.screenshot(path="screenshots/manage-users-1440.png", full_page=True)

    page.get_by_role("button", name="Invite User").click()
    dialog = page.get_by_role("dialog", name="Invite User")
    dialog.get_by_label("First Name").fill("Emily")
    dialog.get_by_label("Last Name").fill("Chen")
    dialog.get_by_label("Office 365 Email ID").fill("Emily.Chen@lakesidedental.onmicrosoft.com")
    dialog.get_by_role("button", name="Submit").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_text("Emily Chen was added to Inactive Portal Users")).to_be_visible()
    users_table(page, "Inactive Portal Users").get_by_role("link", name="Emily Chen").click()

    expect(page.get_by_role("heading", level=1, name="User Edit")).to_be_visible()
    assert axe_violations(page) == []
    send_invitation(page, "Work365 Finance Manager")
    page.screenshot(path="screenshots/user-edit-1440.png", full_page=True)
    link = newest_invitation_link(page, base_url)
    assert re.search(r"/register\?code=[A-Za-z0-9_-]{40,}$", link)
    expect(page.get_by_text("To: " + EMILY, exact=False)).to_be_visible()
    assert axe_violations(page) == []
    page.screenshot(path="screenshots/outbox-1440.png", full_page=True)

    # Emily opens the link in her own browser and signs in with Microsoft.
    emily_context = browser.new_context()
    emily = emily_context.new_page()
    emily.goto(link)
    expect(emily.get_by_role("heading", name="Pick an account")).to_be_visible()
    emily.get_by_role("button", name="Emily Chen", exact=True).click()
    expect(emily.get_by_role("heading", level=1, name="Home")).to_be_visible()
    expect(emily.get_by_role("button", name="Account menu")).to_contain_text("Emily Chen")
    nav = emily.get_by_role("navigation", name="Manage My Services")
    expect(nav.get_by_role("link", name="My Invoices")).to_be_visible()
    expect(nav.get_by_role("link", name="Manage Users")).to_have_count(0)

    # The link works once.
    used = emily_context.new_page()
    used.goto(link)
    expect(used.get_by_role("heading", level=1, name="This invitation link has already been used")).to_be_visible()
    used.close()

    # The administrator sees her under Active Portal Users, then turns her access off.
    open_user_edit(page, base_url, "Emily Chen", table="Active Portal Users")
    expect(page.get_by_text("Active", exact=True)).to_be_visible()
    page.get_by_role("button", name="Disable Portal Access").click()
    confirm = page.get_by_role("alertdialog", name="Disable portal access?")
    expect(confirm).to_be_visible()
    confirm.get_by_role("button", name="Disable Portal Access").click()
    expect(page.get_by_text("Emily Chen can no longer sign in.")).to_be_visible()

    # Her open tab is signed out at once: the next page she opens asks her to sign in.
    nav.get_by_role("link", name="My Invoices").click()
    expect(emily).to_have_url(re.compile(r"/sign-in"))
    emily_context.close()
    assert console_errors == []


def test_invite_user_validates_beside_each_field(page, context, base_url):
    sign_in_as(context, base_url, DANA)
    open_manage_users(page, base_url)
    page.get_by_role("button", name="Invite User").click()
    dialog = page.get_by_role("dialog", name="Invite User")
    # Nothing typed, nothing submitted: no field is announced as invalid yet.
    for label in ("First Name", "Last Name", "Office 365 Email ID"):
        expect(dialog.get_by_label(label)).to_have_attribute("aria-invalid", "false")
    dialog.get_by_role("button", name="Submit").click()
    expect(dialog.get_by_text("First Name is required.")).to_be_visible()
    expect(dialog.get_by_text("Last Name is required.")).to_be_visible()
    expect(dialog.get_by_text("Office 365 Email ID is required.")).to_be_visible()
    expect(dialog.get_by_label("First Name")).to_have_attribute("aria-invalid", "true")

    dialog.get_by_label("First Name").fill("Second")
    dialog.get_by_label("Last Name").fill("Dana")
    dialog.get_by_label("Office 365 Email ID").fill("not an email")
    dialog.get_by_role("button", name="Submit").click()
    expect(dialog.get_by_text("Enter an email address like name@example.com.")).to_be_visible()
    expect(dialog.get_by_text("First Name is required.")).to_have_count(0)
    dialog.get_by_label("Office 365 Email ID").fill(DANA.upper())
    dialog.get_by_role("button", name="Submit").click()
    expect(dialog.get_by_text("A portal user with this email already exists.")).to_be_visible()
    assert axe_violations(page) == []
    page.screenshot(path="screenshots/invite-user-errors-1440.png")
    dialog.get_by_role("button", name="Cancel").click()
    expect(users_table(page, "Inactive Portal Users").get_by_role("link", name="Second Dana")).to_have_count(0)


def test_search_filters_both_lists(page, context, base_url):
    sign_in_as(context, base_url, DANA)
    open_manage_users(page, base_url)
    page.get_by_role("searchbox", name="Search users").fill("marcus")
    expect(users_table(page, "Inactive Portal Users").get_by_role("link", name="Marcus Reed")).to_be_visible()
    expect(page.get_by_text("No active portal users")).to_be_visible()
    page.get_by_role("searchbox", name="Search users").fill("")
    expect(users_table(page, "Active Portal Users").get_by_role("link", name="Dana Whitaker")).to_be_visible()


def test_the_last_administrator_keeps_the_role(page, context, base_url):
    sign_in_as(context, base_url, DANA)
    open_user_edit(page, base_url, "Dana Whitaker", table="Active Portal Users")
    expect(page.get_by_role("button", name="Disable Portal Access")).to_have_count(0)  # not for yourself
    page.get_by_role("radio", name="Work365 Finance Manager").click()
    page.get_by_role("button", name="Associate").click()
    expect(page.get_by_text("This is the last Administrator.")).to_be_visible()
    page.reload()
    expect(page.get_by_role("radio", name="Work365 Administrator")).to_be_checked()


def test_bad_invitation_links_each_say_why_and_change_nothing(browser, page, context, base_url):
    from opkalla_portal.db import session_scope
    from opkalla_portal.models import Invitation, PortalUser

    sign_in_as(context, base_url, DANA)
    open_user_edit(page, base_url, "Marcus Reed")
    send_invitation(page, "Work 365 Subscription Manager")
    link = newest_invitation_link(page, base_url)

    visitor = browser.new_context().new_page()
    visitor.set_viewport_size({"width": 390, "height": 844})
    cases = [
        ("Luis Ortega", "This Microsoft account doesn't match the invitation"),
        ("Unknown Visitor", "This Microsoft account belongs to another organization"),
    ]
    for persona, heading in cases:
        visitor.goto(link)
        visitor.get_by_role("button", name=persona, exact=True).click()
        expect(visitor.get_by_role("heading", level=1, name=heading)).to_be_visible()
        expect(visitor.get_by_text("Nothing was changed")).to_be_visible()
    assert axe_violations(visitor) == []
    visitor.screenshot(path="screenshots/invitation-mismatch-390.png")

    visitor.goto(link[:-4] + "AAAA")
    expect(visitor.get_by_role("heading", level=1, name="This invitation link is not valid")).to_be_visible()
    with session_scope() as db:
        marcus = db.exec(select(PortalUser).where(PortalUser.first_name == "Marcus")).one()
        invitation = db.exec(
            select(Invitation).where(Invitation.user_id == marcus.id, Invitation.revoked_at == None)  # noqa: E711
        ).one()
        saved_expiry = invitation.expires_at
        from datetime import datetime

        invitation.expires_at = datetime(2020, 1, 1, tzinfo=UTC)
        db.add(invitation)
    visitor.goto(link)
    expect(visitor.get_by_role("heading", level=1, name="This invitation link has expired")).to_be_visible()
    with session_scope() as db:
        invitation = db.get(Invitation, invitation.id)
        invitation.expires_at = saved_expiry
        db.add(invitation)
        marcus = db.get(PortalUser, marcus.id)
        assert marcus.status == "invited" and marcus.entra_object_id is None
    open_manage_users(page, base_url)
    row = users_table(page, "Inactive Portal Users").get_by_role("row").filter(has_text="Marcus Reed")
    expect(row.get_by_text("Invitation sent")).to_be_visible()


def test_manage_users_at_phone_width_and_dark_theme(page, context, base_url, console_errors):
    sign_in_as(context, base_url, DANA)
    page.set_viewport_size({"width": 390, "height": 844})
    page.emulate_media(color_scheme="dark")
    open_manage_users(page, base_url)
    expect(users_table(page, "Active Portal Users")).to_be_visible()
    page.screenshot(path="screenshots/manage-users-390-dark.png", full_page=True)
    page.get_by_role("button", name="Invite User").click()
    expect(page.get_by_role("dialog", name="Invite User")).to_be_visible()
    page.screenshot(path="screenshots/invite-user-390-dark.png")
    page.keyboard.press("Escape")
    open_user_edit(page, base_url, "Marcus Reed")
    page.screenshot(path="screenshots/user-edit-390-dark.png", full_page=True)
    assert axe_violations(page) == []
    assert console_errors == []


def test_invite_user_by_keyboard_only(page, context, base_url):
    sign_in_as(context, base_url, DANA)
    open_manage_users(page, base_url)
    page.get_by_role("button", name="Invite User").focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Invite User")
    expect(dialog.get_by_label("First Name")).to_be_focused()
    page.keyboard.type("Ada")
    page.keyboard.press("Tab")
    page.keyboard.type("Lovelace")
    page.keyboard.press("Tab")
    page.keyboard.type("ada.lovelace@lakesidedental.onmicrosoft.com")
    page.keyboard.press("Enter")
    expect(dialog).to_be_hidden()
    link = users_table(page, "Inactive Portal Users").get_by_role("link", name="Ada Lovelace")
    link.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1, name="User Edit")).to_be_visible()
    page.get_by_role("radio", name="Work365 Administrator").focus()
    page.keyboard.press("Space")
    expect(page.get_by_role("radio", name="Work365 Administrator")).to_be_checked()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Associate")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_text("Ada Lovelace is now Work365 Administrator.")).to_be_visible()
