"""Manage Licenses in Chromium: consent (both paths), toggling and submitting, the seat guard,
partial failure, closing the window, and a 429 storm during a bulk submit."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect
from sqlmodel import select

from tests.e2e.conftest import axe_violations, sign_in_as

pytestmark = pytest.mark.e2e

DANA = "dana.whitaker@lakesidedental.onmicrosoft.com"
LUIS = "luis.ortega@lakesidedental.onmicrosoft.com"
TOM = "tom.becker@bayviewlogistics.onmicrosoft.com"
PRODUCT = "Microsoft 365 Business Standard"  # Bayview's O365_BUSINESS_PREMIUM: 35 purchased, 30 assigned
SKU = "f245ecc8-75af-4f8e-b61f-27d8114de5f3"
SHOTS = Path(__file__).resolve().parents[2] / "screenshots"


def _reset_world(base_url: str) -> None:
    httpx.delete(f"{base_url}/emulator/faults", timeout=10)
    assert httpx.post(f"{base_url}/emulator/reset", timeout=30).status_code == 200
    from opkalla_portal.db import session_scope
    from opkalla_portal.models import AdminConsentAttempt, ConsentRequest, LicenseChange, Organization, OutboundMail

    with session_scope() as db:
        mails = select(OutboundMail).where(OutboundMail.kind.in_(["consent_request", "consent_decision"]))
        for row in [
            *db.exec(select(ConsentRequest)),
            *db.exec(select(AdminConsentAttempt)),
            *db.exec(select(LicenseChange)),
            *db.exec(mails),
        ]:
            db.delete(row)
        lakeside = db.exec(select(Organization).where(Organization.name == "Lakeside Dental Partners")).one()
        lakeside.consent_granted_at = lakeside.consent_granted_by_id = None
        db.add(lakeside)


@pytest.fixture
def world(base_url):
    """The emulator and the portal's consent records as seeded, before and after each test
    (other test files share this portal and expect the demo world)."""
    _reset_world(base_url)
    yield base_url
    _reset_world(base_url)


def _bayview_users():
    from opkalla_portal.demo import demo_data
    from opkalla_portal.demo.emulator import emulator_store

    with emulator_store().read() as tx:
        users = tx.list("user", demo_data.CUSTOMERS["bayview"].tenant_id)
    return sorted(users, key=lambda u: u["displayName"])


def _holds(user: dict) -> bool:
    return any(lic["skuId"].lower() == SKU for lic in user.get("assignedLicenses", []))


def _unlicensed(with_location: bool = True) -> list[dict]:
    return [u for u in _bayview_users() if not _holds(u) and bool(u.get("usageLocation")) == with_location]


def _open_window(page, base_url):
    page.goto(f"{base_url}/manage-licenses")
    page.get_by_role("button", name=f"Manage License for {PRODUCT}").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("heading", name=f"Manage License: {PRODUCT}")).to_be_visible()
    expect(dialog.get_by_role("switch").first).to_be_visible()
    return dialog


def _switch(dialog, name: str):
    dialog.get_by_label("Search users").fill(name)
    # Wait for the (debounced) search to narrow the list, so the click can't land mid-re-render.
    expect(dialog.get_by_role("switch")).to_have_count(1)
    switch = dialog.get_by_role("switch", name=f"License for {name}")
    expect(switch).to_have_count(1)
    return switch


def _row(page, product: str):
    return page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=re.compile(re.escape(product))))


def test_global_admin_consents_through_microsoft(world, page, context):
    sign_in_as(context, world, DANA)
    portal_errors = []  # errors on the portal's pages (Microsoft's consent page has its own favicon 404)
    page.on(
        "console",
        lambda m: portal_errors.append(m.text) if m.type == "error" and "/manage-licenses" in page.url else None,
    )
    page.goto(f"{world}/manage-licenses")
    dialog = page.get_by_role("dialog", name="Permissions requested")
    expect(dialog).to_be_visible()
    page.screenshot(path=str(SHOTS / "licenses-consent-admin.png"))
    assert axe_violations(page) == []
    dialog.get_by_role("button", name="Grant consent").click()
    # Microsoft's (the emulator's) admin-consent page lists the permissions requested.
    expect(page.get_by_text("LicenseAssignment.ReadWrite.All")).to_be_visible()
    page.get_by_role("button", name="Accept").click()
    expect(page).to_have_url(re.compile(r"/manage-licenses/?\?consent=granted"))
    expect(page.get_by_text("Consent granted.")).to_be_visible()
    expect(page.get_by_role("dialog")).to_have_count(0)
    manage = page.get_by_role("button", name=re.compile("^Manage License for Microsoft 365 Business Premium"))
    expect(manage).to_be_visible()
    expect(page.get_by_text("Microsoft 365 Business is the same as Microsoft 365 Business Premium")).to_be_visible()
    assert portal_errors == []


def test_global_admin_declining_leaves_licenses_locked(world, page, context):
    sign_in_as(context, world, DANA)
    page.goto(f"{world}/manage-licenses")
    page.get_by_role("dialog").get_by_role("button", name="Grant consent").click()
    page.get_by_role("button", name="Cancel").click()
    expect(page).to_have_url(re.compile(r"consent=declined"))
    expect(page.get_by_text("Consent was not granted")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("^Manage License for"))).to_have_count(0)


def test_non_admin_requests_approval_and_global_admin_denies(world, page, context, browser):
    sign_in_as(context, world, LUIS)
    page.goto(f"{world}/manage-licenses")
    dialog = page.get_by_role("dialog", name="Approval required")
    dialog.get_by_label("Justification").fill("please")
    dialog.get_by_role("button", name="Request approval").click()
    expect(dialog.get_by_text("at least 10 characters")).to_be_visible()
    page.screenshot(path=str(SHOTS / "licenses-consent-request.png"))
    dialog.get_by_label("Justification").fill("I onboard new hires and need to assign their licenses.")
    dialog.get_by_role("button", name="Request approval").click()
    expect(dialog.get_by_text("Your request is waiting for approval")).to_be_visible()
    violations = axe_violations(page)
    if violations:
        print(
            page.evaluate(
                "async () => JSON.stringify((await axe.run(document, {runOnly: ['color-contrast']}))"
                ".violations.map(v => v.nodes.map(n => n.any.map(a => a.message)))) "
            )
        )
    assert violations == []

    from opkalla_portal.db import session_scope
    from opkalla_portal.models import OutboundMail

    with session_scope() as db:
        mail = db.exec(select(OutboundMail).where(OutboundMail.kind == "consent_request")).one()
    assert mail.to_address == DANA and "onboard new hires" in mail.body_text

    admin_context = browser.new_context()
    admin = admin_context.new_page()
    sign_in_as(admin_context, world, DANA)
    admin.goto(f"{world}/manage-licenses")
    admin.get_by_role("dialog").get_by_role("button", name="Not now").click()
    requests = admin.get_by_role("region", name="Pending approval requests")
    expect(requests.get_by_text("I onboard new hires")).to_be_visible()
    admin.screenshot(path=str(SHOTS / "licenses-pending-requests.png"), full_page=True)
    requests.get_by_role("button", name="Deny request from Luis Ortega").click()
    deny = admin.get_by_role("dialog", name="Deny request")
    deny.get_by_role("button", name="Deny request").click()
    expect(deny.get_by_text("Please give the requester a reason.")).to_be_visible()
    deny.get_by_label("Reason").fill("Licenses are assigned by IT centrally.")
    deny.get_by_role("button", name="Deny request").click()
    expect(admin.get_by_text("Request from Luis Ortega denied")).to_be_visible()
    expect(requests).to_have_count(0)
    admin_context.close()

    page.reload()
    expect(page.get_by_role("dialog").get_by_text("Licenses are assigned by IT centrally.")).to_be_visible()
    with session_scope() as db:
        told = db.exec(select(OutboundMail).where(OutboundMail.kind == "consent_decision")).one()
    assert told.to_address == LUIS


def test_non_admin_request_is_approved_when_admin_consents(world, page, context, browser):
    sign_in_as(context, world, LUIS)
    page.goto(f"{world}/manage-licenses")
    dialog = page.get_by_role("dialog", name="Approval required")
    dialog.get_by_label("Justification").fill("I onboard new hires and need to assign their licenses.")
    dialog.get_by_role("button", name="Request approval").click()
    expect(dialog.get_by_text("Your request is waiting for approval")).to_be_visible()

    admin_context = browser.new_context()
    admin = admin_context.new_page()
    sign_in_as(admin_context, world, DANA)
    admin.goto(f"{world}/manage-licenses")
    admin.get_by_role("dialog").get_by_role("button", name="Not now").click()
    admin.get_by_role("button", name="Approve request from Luis Ortega").click()
    admin.get_by_role("button", name="Accept").click()
    expect(admin.get_by_text("Consent granted.")).to_be_visible()
    admin_context.close()

    page.reload()
    expect(page.get_by_role("button", name=re.compile("^Manage License for"))).not_to_have_count(0)


def test_toggle_submit_and_close_by_clicking_the_grey_area(world, page, context, console_errors):
    sign_in_as(context, world, TOM)
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{world}/manage-licenses")
    expect(_row(page, PRODUCT).get_by_role("cell").nth(1)).to_have_text("30")
    dialog = _open_window(page, world)
    expect(dialog.get_by_text("5 seats left")).to_be_visible()
    first, second = [u["displayName"] for u in _unlicensed()[:2]]
    leaver = next(u for u in _bayview_users() if _holds(u))["displayName"]
    switch = _switch(dialog, first)
    expect(switch).not_to_be_checked()
    switch.click()
    expect(switch).to_be_checked()
    expect(dialog.get_by_text("4 seats left")).to_be_visible()
    expect(dialog.get_by_text("1 unsaved change", exact=True)).to_be_visible()
    _switch(dialog, second).press("Space")  # keyboard works too
    expect(dialog.get_by_text("3 seats left")).to_be_visible()
    off = _switch(dialog, leaver)
    off.click()
    expect(off).not_to_be_checked()
    expect(dialog.get_by_text("Will be unassigned")).to_be_visible()  # the row marks its own pending change
    _switch(dialog, first)
    expect(dialog.get_by_text("Will be assigned")).to_be_visible()
    expect(dialog.get_by_text("Will be unassigned")).to_have_count(0)
    expect(dialog.get_by_text("4 seats left")).to_be_visible()
    expect(dialog.get_by_text("3 unsaved changes")).to_be_visible()
    assert axe_violations(page) == []
    dialog.get_by_role("button", name="Submit").click()
    expect(
        dialog.get_by_role("status").filter(has_text="Licenses updated successfully: 2 assigned, 1 unassigned.")
    ).to_be_visible()
    page.screenshot(path=str(SHOTS / "licenses-window-desktop.png"))
    users = {u["displayName"]: u for u in _bayview_users()}
    assert _holds(users[first]) and _holds(users[second]) and not _holds(users[leaver])
    page.mouse.click(8, 450)  # the grey area
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(_row(page, PRODUCT).get_by_role("cell").nth(1)).to_have_text("31")
    expect(_row(page, PRODUCT).get_by_role("cell").nth(2)).to_have_text("4")
    page.screenshot(path=str(SHOTS / "licenses-page-desktop.png"), full_page=True)
    from opkalla_portal.db import session_scope
    from opkalla_portal.models import LicenseChange

    with session_scope() as db:
        audit = {(r.target_user_name, r.action, r.result, r.actor_name) for r in db.exec(select(LicenseChange))}
    assert audit == {
        (first, "assign", "succeeded", "Tom Becker"),
        (second, "assign", "succeeded", "Tom Becker"),
        (leaver, "unassign", "succeeded", "Tom Becker"),
    }
    assert console_errors == []


def test_over_allocation_is_refused_with_a_link_to_buy_more(world, page, context):
    sign_in_as(context, world, TOM)
    dialog = _open_window(page, world)
    candidates = [u["displayName"] for u in _unlicensed()][:6]
    for name in candidates[:5]:
        switch = _switch(dialog, name)
        switch.click()
        expect(switch).to_be_checked()
    expect(dialog.get_by_text("0 seats left")).to_be_visible()
    sixth = _switch(dialog, candidates[5])
    sixth.click()
    expect(dialog.get_by_role("alert").filter(has_text="No licenses left to assign")).to_be_visible()
    expect(sixth).not_to_be_checked()
    expect(dialog.get_by_role("link", name="Buy more licenses")).to_have_attribute("href", "/my-services/catalog")
    expect(dialog.get_by_text("0 seats left")).to_be_visible()


def test_partial_failure_lists_the_user_and_keeps_the_successes(world, page, context):
    sign_in_as(context, world, TOM)
    dialog = _open_window(page, world)
    fine = _unlicensed()[0]["displayName"]
    stranded = _unlicensed(with_location=False)[0]["displayName"]
    _switch(dialog, fine).click()
    expect(dialog.get_by_text("4 seats left")).to_be_visible()
    switch = _switch(dialog, stranded)
    expect(dialog.get_by_text("No usage location")).to_be_visible()
    switch.click()
    expect(dialog.get_by_text("3 seats left")).to_be_visible()
    dialog.get_by_role("button", name="Submit").click()
    expect(dialog.get_by_role("status").filter(has_text="1 assigned")).to_be_visible()
    failures = dialog.get_by_role("alert").filter(has_text="1 changes could not be made")
    expect(failures).to_contain_text(
        f"{stranded}: License assignment cannot be done for user with invalid usage location."
    )
    users = {u["displayName"]: u for u in _bayview_users()}
    assert _holds(users[fine]) and not _holds(users[stranded])
    expect(_switch(dialog, stranded)).not_to_be_checked()  # the toggle shows Microsoft's state again


def test_filters_and_phone_width(world, page, context):
    sign_in_as(context, world, TOM)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{world}/manage-licenses")
    manage = page.get_by_role("button", name=f"Manage License for {PRODUCT}")
    expect(manage).to_be_visible()
    page.screenshot(path=str(SHOTS / "licenses-page-phone.png"), full_page=True)
    manage.click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("switch").first).to_be_visible()
    dialog.get_by_role("combobox", name="Show").click()
    page.get_by_role("option", name="Unlicensed").click()
    expect(dialog.get_by_text(f"{len([u for u in _bayview_users() if not _holds(u)])} of 40 users")).to_be_visible()
    for switch in dialog.get_by_role("switch").all():
        expect(switch).not_to_be_checked()
    page.screenshot(path=str(SHOTS / "licenses-window-phone.png"))
    assert axe_violations(page) == []
    page.emulate_media(color_scheme="dark")
    dialog.get_by_role("combobox", name="Show").click()
    page.get_by_role("option", name="All users").click()
    expect(dialog.get_by_text("40 of 40 users")).to_be_visible()
    page.screenshot(path=str(SHOTS / "licenses-window-phone-dark.png"))
    assert axe_violations(page) == []
    page.set_viewport_size({"width": 1440, "height": 900})
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_have_count(0)
    page.screenshot(path=str(SHOTS / "licenses-page-desktop-dark.png"))


def test_429_storm_during_bulk_submit_applies_every_change_once(world, page, context):
    sign_in_as(context, world, TOM)
    dialog = _open_window(page, world)
    holders = [u["displayName"] for u in _bayview_users() if _holds(u)][:8]
    for name in holders:
        _switch(dialog, name).click()
    expect(dialog.get_by_text("13 seats left")).to_be_visible()
    response = httpx.post(
        f"{world}/emulator/faults",
        timeout=10,
        json={"throttle_probability": 0.5, "retry_after_seconds": 1, "seed": 3, "services": ["graph"]},
    )
    assert response.status_code == 200
    dialog.get_by_role("button", name="Submit").click()
    expect(dialog.get_by_role("status").filter(has_text="8 unassigned")).to_be_visible(timeout=60_000)
    httpx.delete(f"{world}/emulator/faults", timeout=10)
    users = {u["displayName"]: u for u in _bayview_users()}
    assert not any(_holds(users[name]) for name in holders)
    from opkalla_portal.demo import demo_data
    from opkalla_portal.demo.emulator import emulator_store

    with emulator_store().read() as tx:
        sku = tx.get("sku", f"{demo_data.CUSTOMERS['bayview'].tenant_id}_{SKU}")
    assert sku["consumedUnits"] == 22


def test_a_license_assigned_by_a_group_shows_the_group_and_cannot_be_switched(world, page, context):
    """Bayview licenses Exchange Online (Plan 2) through the group "Exchange Online users":
    Graph cannot remove such a license directly, so the window says so and the switch is off-limits."""
    sign_in_as(context, world, TOM)
    exchange = "Exchange Online (Plan 2)"
    page.goto(f"{world}/manage-licenses")
    page.get_by_role("button", name=f"Manage License for {exchange}").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("heading", name=f"Manage License: {exchange}")).to_be_visible()
    member = next(
        u for u in _bayview_users() if any(s.get("assignedByGroup") for s in u.get("licenseAssignmentStates", []))
    )["displayName"]
    switch = _switch(dialog, member)
    expect(switch).to_be_checked()
    expect(switch).to_be_disabled()
    expect(dialog.get_by_text("via group Exchange Online users")).to_be_visible()
