"""My Services against the emulator: listing, New Commerce rules, scheduling, conflicts, orders."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlmodel import select

from opkalla_portal import clock
from opkalla_portal.db import session_scope
from opkalla_portal.demo import demo_data
from opkalla_portal.models import ChangeLogEntry, ContractSubscription
from opkalla_portal.services import change_logs, orders, quantity_change, subscriptions
from opkalla_portal.services.access import PermissionDenied
from opkalla_portal.services.catalog import load_catalog, search_catalog
from tests.services_subscriptions.conftest import LUIS, PRIYA, TOM, identity_for

LAKESIDE = demo_data.CUSTOMERS["lakeside"].tenant_id


def sub_id(customer: str, key: str) -> str:
    return next(s.id for s in demo_data.SUBSCRIPTIONS if s.customer_key == customer and s.key == key)


def contract_id(identity, number: str) -> int:
    return next(c.id for c in subscriptions.billing_contracts(identity) if number in c.label)


async def test_contract_lists_base_subscriptions_with_addons_and_prices(ms):
    luis = identity_for(LUIS)
    labels = [c.label for c in subscriptions.billing_contracts(luis)]
    assert labels == [
        "Microsoft 365 Annual Commitment (LDP-2026-001)",
        "Microsoft 365 Monthly (LDP-2026-002)",
        "Azure Consumption (LDP-2026-003)",
    ]
    lines = await subscriptions.contract_subscriptions(luis, contract_id(luis, "LDP-2026-001"))
    names = [line.name for line in lines]
    assert names == sorted(names, key=str.lower)
    spb = next(line for line in lines if line.name == "Microsoft 365 Business Premium")
    assert spb.quantity == 45 and spb.unit_price == Decimal("22.00") and spb.term == "Annual"
    assert {a.name for a in spb.addons} == {
        "Microsoft Teams Phone Standard",
        "Microsoft Teams Audio Conferencing",
        "Microsoft Teams Premium",
    }
    assert "Microsoft Teams Premium" not in names  # add-ons only under their base


async def test_other_organizations_contract_and_finance_role_are_refused(ms):
    tom = identity_for(TOM)
    luis = identity_for(LUIS)
    with pytest.raises(subscriptions.ServiceError):
        await subscriptions.contract_subscriptions(tom, contract_id(luis, "LDP-2026-001"))
    with pytest.raises(subscriptions.ServiceError):
        await subscriptions.load_subscription(tom, sub_id("lakeside", "spb"))
    with pytest.raises(PermissionDenied):
        subscriptions.billing_contracts(identity_for(PRIYA))


async def test_immediate_increase_is_applied_and_logged(ms):
    luis = identity_for(LUIS)
    sub = await subscriptions.load_subscription(luis, sub_id("lakeside", "spb"))
    assert sub.assigned is None and "skipped" in sub.assigned_note  # Lakeside has no Graph consent
    outcome = await quantity_change.submit_change(luis, sub.id, "50", "immediately", "", sub.etag)
    assert outcome.status == "succeeded", outcome
    after = await subscriptions.load_subscription(luis, sub.id)
    assert after.quantity == 50
    rows, total = change_logs.change_log_page(luis, change_logs.LogFilter())
    assert total == 1 and rows[0].result == "succeeded" and (rows[0].old_quantity, rows[0].new_quantity) == (45, 50)


async def test_decrease_outside_window_is_refused_and_offers_on_renewal(ms):
    luis = identity_for(LUIS)
    sub = await subscriptions.load_subscription(luis, sub_id("lakeside", "spb"))
    outcome = await quantity_change.submit_change(luis, sub.id, "40", "immediately", "", sub.etag)
    assert outcome.status == "invalid" and "On Renewal" in outcome.errors["mode"]
    assert (await subscriptions.load_subscription(luis, sub.id)).quantity == 45
    with session_scope() as db:
        assert db.exec(select(ChangeLogEntry)).all() == []


async def test_decrease_inside_window_is_allowed(ms):
    luis = identity_for(LUIS)
    sub = await subscriptions.load_subscription(luis, sub_id("lakeside", "copilot"))  # bought 3 days ago
    assert sub.in_window(clock.now())
    outcome = await quantity_change.submit_change(luis, sub.id, "4", "immediately", "", sub.etag)
    assert outcome.status == "succeeded", outcome


async def test_on_renewal_sets_microsoft_instruction_and_future_change(ms):
    luis = identity_for(LUIS)
    sub = await subscriptions.load_subscription(luis, sub_id("lakeside", "spb"))
    outcome = await quantity_change.submit_change(luis, sub.id, "40", "on_renewal", "", sub.etag)
    assert outcome.status == "scheduled", outcome
    raw = await ms.partner_center.get_subscription(LAKESIDE, sub.id)
    assert raw["scheduledNextTermInstructions"]["quantity"] == 40 and raw["quantity"] == 45
    [change] = quantity_change.future_changes(luis)
    assert change.due_date == sub.term_end + timedelta(days=1) and change.effective_mode == "on_renewal"
    await quantity_change.cancel_future_change(luis, change.id)
    raw = await ms.partner_center.get_subscription(LAKESIDE, sub.id)
    assert raw["scheduledNextTermInstructions"] is None
    assert quantity_change.future_changes(luis) == []
    rows, _ = change_logs.change_log_page(luis, change_logs.LogFilter())
    assert [r.result for r in rows] == ["cancelled", "scheduled"]


async def test_custom_date_validation_and_scheduling(ms):
    luis = identity_for(LUIS)
    sub = await subscriptions.load_subscription(luis, sub_id("lakeside", "spb"))
    today = clock.today()
    bad = {
        "": "Choose an Effective Date",
        (today - timedelta(days=1)).isoformat(): "past",
        (sub.term_end + timedelta(days=1)).isoformat(): "end of the current term",
    }
    for text, expected in bad.items():
        outcome = await quantity_change.submit_change(luis, sub.id, "50", "custom", text, sub.etag)
        assert outcome.status == "invalid" and expected in outcome.errors["effective_date"]
    outcome = await quantity_change.submit_change(
        luis, sub.id, "40", "custom", (today + timedelta(days=10)).isoformat(), sub.etag
    )
    assert outcome.status == "invalid" and "On Renewal" in outcome.errors["effective_date"]
    when = today + timedelta(days=10)
    outcome = await quantity_change.submit_change(luis, sub.id, "55", "custom", when.isoformat(), sub.etag)
    assert outcome.status == "scheduled"
    [change] = quantity_change.future_changes(luis)
    assert (change.due_date, change.new_quantity, change.status) == (when, 55, "pending")
    errors, edited = await quantity_change.edit_future_change(luis, change.id, "60", when.isoformat())
    assert errors == {} and edited.new_quantity == 60


@pytest.mark.parametrize(
    "text,expected",
    [("2.5", "whole number"), ("abc", "whole number"), ("0", "at least 1"), ("301", "maximum"), ("45", "already 45")],
)
async def test_bad_quantities_change_nothing(ms, text, expected):
    luis = identity_for(LUIS)
    sub = await subscriptions.load_subscription(luis, sub_id("lakeside", "spb"))
    outcome = await quantity_change.submit_change(luis, sub.id, text, "immediately", "", sub.etag)
    assert outcome.status == "invalid" and expected in outcome.errors["quantity"]
    assert (await subscriptions.load_subscription(luis, sub.id)).etag == sub.etag


async def test_below_assigned_is_refused_when_graph_can_tell(ms):
    tom = identity_for(TOM)
    sub = await subscriptions.load_subscription(tom, sub_id("bayview", "business-standard"))
    assert sub.assigned == 30
    errors, _ = quantity_change.validate_change(sub, "29", "on_renewal", "", now=clock.now())
    assert "Manage Licenses" in errors["quantity"]


async def test_second_editor_sees_conflict_with_fresh_values(ms):
    luis, dana = identity_for(LUIS), identity_for("dana.whitaker@lakesidedental.onmicrosoft.com")
    first = await subscriptions.load_subscription(luis, sub_id("lakeside", "spb"))
    second = await subscriptions.load_subscription(dana, sub_id("lakeside", "spb"))
    assert (
        await quantity_change.submit_change(luis, first.id, "48", "immediately", "", first.etag)
    ).status == "succeeded"
    outcome = await quantity_change.submit_change(dana, second.id, "50", "immediately", "", second.etag)
    assert outcome.status == "conflict" and "changed by someone else" in outcome.message
    assert outcome.subscription.quantity == 48


async def test_catalog_search_and_idempotent_order(ms):
    luis = identity_for(LUIS)
    catalog = await load_catalog()
    assert len(catalog) >= 40
    [visio] = search_catalog(luis, catalog, "visio plan 1")
    assert {t.key for t in visio.terms} >= {"P1M:monthly", "P1Y:annual"}
    contract = contract_id(luis, "LDP-2026-002")
    key = str(uuid.uuid4())
    today = clock.today()
    args = dict(
        contract_id=contract,
        offer_id=visio.offer_id,
        term_key="P1Y:monthly",
        quantity_text="3",
        start_text=today.isoformat(),
        parent_id="",
        request_id=key,
    )
    first = await orders.place_order(luis, **args)
    again = await orders.place_order(luis, **args)
    assert first.status == again.status == "succeeded" and first.subscription_ids == again.subscription_ids
    lines = await subscriptions.contract_subscriptions(luis, contract)
    assert sum(line.name == visio.title for line in lines) == 1
    with session_scope() as db:
        assert len(db.exec(select(ChangeLogEntry).where(ChangeLogEntry.action == "purchase")).all()) == 1
        assert (
            db.exec(
                select(ContractSubscription).where(ContractSubscription.subscription_id == first.subscription_ids[0])
            )
            .one()
            .billing_contract_id
            == contract
        )
    bad = await orders.place_order(luis, **{**args, "quantity_text": "0", "request_id": str(uuid.uuid4())})
    assert bad.status == "invalid" and "at least" in bad.errors["quantity"]


async def test_future_start_date_schedules_the_order_and_the_scheduler_places_it_once(ms):
    from opkalla_portal.services import scheduler

    luis = identity_for(LUIS)
    catalog = await load_catalog()
    [visio] = search_catalog(luis, catalog, "visio plan 1")
    contract = contract_id(luis, "LDP-2026-002")
    today = clock.today()
    key = str(uuid.uuid4())
    args = dict(
        contract_id=contract,
        offer_id=visio.offer_id,
        term_key="P1M:monthly",
        quantity_text="2",
        start_text=(today + timedelta(days=5)).isoformat(),
        parent_id="",
        request_id=key,
    )
    assert (await orders.place_order(luis, **args)).status == "scheduled"
    assert (await orders.place_order(luis, **args)).status == "scheduled"  # the same form twice
    [change] = quantity_change.future_changes(luis)
    assert (change.old_quantity, change.new_quantity, change.subscription_id) == (0, 2, "")
    errors, _ = await quantity_change.edit_future_change(luis, change.id, "0", (today + timedelta(days=5)).isoformat())
    assert "between 1 and" in errors["quantity"]
    errors, edited = await quantity_change.edit_future_change(luis, change.id, "4", today.isoformat())
    assert errors == {} and edited.due_date == today
    assert (await scheduler.run_due_changes("w")).applied == 1
    lines = await subscriptions.contract_subscriptions(luis, contract)
    [bought] = [line for line in lines if line.name == visio.title]
    assert bought.quantity == 4
    rows, _ = change_logs.change_log_page(luis, change_logs.LogFilter())
    assert rows[0].action == "purchase" and rows[0].result == "succeeded" and rows[0].subscription_id == bought.id
    past = await orders.place_order(
        luis, **{**args, "start_text": (today - timedelta(days=1)).isoformat(), "request_id": str(uuid.uuid4())}
    )
    assert "past" in past.errors["start_date"]
