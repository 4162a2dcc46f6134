"""Issue 11 in Chromium: Lakeside (after consent) sees idle seats and a right-size recommendation with
its saving; one click makes it a Future Change and a Change Logs entry; the dashboard; reclaiming a
disabled account's seat in the Manage License window."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from opkalla_portal.demo import demo_data
from tests.e2e.conftest import axe_violations, sign_in_as
from tests.e2e.test_manage_licenses import _reset_world

pytestmark = pytest.mark.e2e

DANA = "dana.whitaker@lakesidedental.onmicrosoft.com"
SPB = next(s for s in demo_data.SUBSCRIPTIONS if s.customer_key == "lakeside" and s.key == "spb")
SHOTS = Path(__file__).resolve().parents[2] / "screenshots"
HEADLINE = "Reduce Microsoft 365 Business Premium from 45 to 41 on renewal, saving $1,056.00 a year"


def _forget_insight_rows() -> None:
    """Other browser tests expect the seeded demo: drop what these tests scheduled, logged or remembered."""
    from opkalla_portal.db import session_scope
    from opkalla_portal.models import ChangeLogEntry, LicenseExclusion, RecommendationDismissal, ScheduledChange

    with session_scope() as db:
        for model in (ChangeLogEntry, ScheduledChange, LicenseExclusion, RecommendationDismissal):
            query = select(model)
            if model in (ChangeLogEntry, ScheduledChange):
                query = query.where(model.subscription_id == SPB.id)
            for row in db.exec(query).all():
                db.delete(row)
            db.flush()


@pytest.fixture
def consented(base_url, page, context):
    """Lakeside as seeded, Dana signed in, consent granted through Microsoft's page (as a customer would)."""
    _reset_world(base_url)
    _forget_insight_rows()
    sign_in_as(context, base_url, DANA)
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{base_url}/manage-licenses")
    page.get_by_role("dialog", name="Permissions requested").get_by_role("button", name="Grant consent").click()
    expect(page.get_by_text("AuditLog.Read.All")).to_be_visible()  # sign-in activity is asked for
    page.get_by_role("button", name="Accept").click()
    expect(page).to_have_url(re.compile(r"/manage-licenses/?\?consent=granted"))
    yield base_url
    _forget_insight_rows()
    _reset_world(base_url)


def _no_toasts(page):
    expect(page.locator("[data-sonner-toast]")).to_have_count(0, timeout=15000)


def test_idle_seats_and_one_click_recommendation_become_a_future_change(consented, page, console_errors):
    insight = page.get_by_role("region", name="License insight")
    expect(insight.get_by_role("heading", name="License insight")).to_be_visible()
    table = insight.get_by_role("table", name="License insight by product")
    premium = table.get_by_role("row").filter(has_text="Microsoft 365 Business Premium")
    expect(premium).to_contain_text("45")
    expect(insight.get_by_test_id("idle-seats")).not_to_have_text("0")
    expect(insight.get_by_text(HEADLINE)).to_be_visible()
    # 30 days counts more users idle than 90, and the cost follows the choice.
    ninety = insight.get_by_test_id("idle-cost").inner_text()
    insight.get_by_label("30 days").click()
    expect(insight.get_by_test_id("idle-cost")).not_to_have_text(ninety)
    insight.get_by_label("90 days").click()
    expect(insight.get_by_test_id("idle-cost")).to_have_text(ninety)
    _no_toasts(page)
    assert axe_violations(page) == []
    insight.screenshot(path=str(SHOTS / "insight-manage-licenses-1440.png"))

    # Excluding a product takes it out of the totals and the recommendations, and is remembered.
    insight.get_by_role("switch", name="Exclude Microsoft 365 Business Premium from idle totals").click()
    expect(premium).to_contain_text("Excluded")
    expect(insight.get_by_text(HEADLINE)).to_have_count(0)
    page.reload()
    insight.get_by_role("switch", name="Exclude Microsoft 365 Business Premium from idle totals").click()
    expect(insight.get_by_text(HEADLINE)).to_be_visible()

    # The dashboard on My Services.
    page.goto(f"{consented}/my-services")
    dashboard = page.get_by_role("region", name="Dashboard")
    expect(dashboard.get_by_role("heading", name="Upcoming renewals (60 days)")).to_be_visible()
    renewals = dashboard.get_by_role("listitem").filter(has_text="Microsoft 365 Business Premium").first
    expect(renewals).to_contain_text("45 licenses")
    expect(dashboard.get_by_role("heading", name="Billing trend (12 months)")).to_be_visible()
    expect(dashboard.get_by_text("Total invoiced: $")).to_be_visible()
    expect(dashboard.get_by_text(HEADLINE)).to_be_visible()
    _no_toasts(page)
    assert axe_violations(page) == []
    page.screenshot(path=str(SHOTS / "dashboard-my-services-1440.png"), full_page=True)

    # One click: an On Renewal change through Subscription Edit's path.
    accept = dashboard.get_by_role("button", name="Accept recommendation for Microsoft 365 Business Premium")
    accept.dblclick()  # a double-click acts once
    expect(
        page.get_by_text(re.compile(r"Microsoft 365 Business Premium will change to 41 licenses at renewal")).first
    ).to_be_visible()
    pending = dashboard.get_by_role("listitem").filter(has_text="45 → 41 licenses").first
    expect(pending).to_contain_text("On Renewal")
    expect(dashboard.get_by_text(HEADLINE)).to_have_count(0)
    expect(
        dashboard.get_by_text("Reclaim idle seats of Microsoft 365 Business Premium before it renews")
    ).to_be_visible()

    page.goto(f"{consented}/my-services/future-changes")
    row = page.get_by_role("row").filter(has_text="Microsoft 365 Business Premium")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("41")
    page.goto(f"{consented}/my-services/change-logs")
    logged = page.get_by_role("row").filter(has_text="Microsoft 365 Business Premium")
    expect(logged).to_have_count(1)
    expect(logged).to_contain_text("Scheduled")
    expect(logged).to_contain_text("Dana Whitaker")
    assert console_errors == []


def test_dashboard_at_phone_width_in_dark_theme(consented, page):
    page.set_viewport_size({"width": 390, "height": 844})
    page.emulate_media(color_scheme="dark")
    page.goto(f"{consented}/my-services")
    expect(page.get_by_role("region", name="Dashboard").get_by_text(HEADLINE)).to_be_visible()
    _no_toasts(page)
    assert axe_violations(page) == []
    page.screenshot(path=str(SHOTS / "dashboard-my-services-390-dark.png"), full_page=True)
    page.goto(f"{consented}/manage-licenses")
    insight = page.get_by_role("region", name="License insight")
    expect(insight.get_by_text(HEADLINE)).to_be_visible()
    assert axe_violations(page) == []
    insight.screenshot(path=str(SHOTS / "insight-manage-licenses-390-dark.png"))


def _disabled_premium_holder() -> str:
    from opkalla_portal.demo.emulator import emulator_store

    with emulator_store().read() as tx:
        users = tx.list("user", demo_data.CUSTOMERS["lakeside"].tenant_id)
    return next(
        u["displayName"]
        for u in users
        if not u["accountEnabled"] and any(lic["skuId"] == SPB.graph_sku_id for lic in u["assignedLicenses"])
    )


def test_reclaim_a_disabled_accounts_seat_by_reassigning_it(consented, page):
    leaver = _disabled_premium_holder()
    page.get_by_role("button", name="Manage License for Microsoft 365 Business Premium").click()
    dialog = page.get_by_role("dialog")
    reclaim = dialog.get_by_role("region", name="Seats to reclaim")
    expect(reclaim).to_contain_text(leaver)
    expect(reclaim).to_contain_text("Account disabled")
    reclaim.get_by_role("button", name=f"Reassign the seat of {leaver}").click()
    reclaim.get_by_role("button", name="Reassign", exact=True).click()
    expect(reclaim.get_by_text("Choose who gets the seat.")).to_be_visible()  # nothing chosen: nothing done
    reclaim.get_by_role("combobox", name="Reassign to").click()
    page.get_by_role("option").first.click()
    dialog.screenshot(path=str(SHOTS / "reclaim-window-1440.png"))
    reclaim.get_by_role("button", name="Reassign", exact=True).click()
    expect(page.get_by_text(re.compile(f"The seat of {leaver} now belongs to")).first).to_be_visible()
    expect(dialog.get_by_role("region", name="Seats to reclaim")).to_have_count(0)
    from opkalla_portal.demo.emulator import emulator_store

    with emulator_store().read() as tx:
        users = tx.list("user", demo_data.CUSTOMERS["lakeside"].tenant_id)
    holder = next(u for u in users if u["displayName"] == leaver)
    assert all(lic["skuId"] != SPB.graph_sku_id for lic in holder["assignedLicenses"])
