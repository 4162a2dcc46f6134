"""Issue 15 item 2: approvals cannot be bypassed. With "Require approval for quantity increases"
at $50 a month, every path that raises the monthly cost goes through the one hold rule
(services/approvals.gate_increase), which adds up a user's increases over APPROVAL_WINDOW:

(a) a Future Change (12 -> 13, not held) edited to 300 and moved to today is held, on a Custom
    date and On Renewal alike, and the scheduler / Microsoft never see 300 until approved;
(b) 12 -> 15 -> 18 (each +$42) is held from the second step;
(c) 50 x Dynamics 365 Business Central Premium bought in the Product Catalog is held, and placed
    once, through the order path with its own idempotency key, when approved;
and an approval whose price went up since it was asked for is not applied.
"""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import update
from sqlmodel import select

from opkalla_portal import clock
from opkalla_portal.db import session_scope
from opkalla_portal.demo import demo_data
from opkalla_portal.models import ApprovalRequest, ContractSubscription, CostIncrease, ScheduledChange
from opkalla_portal.services import approvals, orders, quantity_change, scheduler, subscriptions
from opkalla_portal.services.catalog import load_catalog, search_catalog
from tests.services_subscriptions.conftest import DANA, LUIS, PRIYA, identity_for

LAKESIDE = demo_data.CUSTOMERS["lakeside"]
PBI = next(s for s in demo_data.SUBSCRIPTIONS if s.customer_key == "lakeside" and s.key == "pbi-pro")  # 12 x $14


def threshold(amount: str) -> None:
    approvals.set_threshold(identity_for(DANA), True, amount)


async def at_microsoft(ms) -> dict:
    return await ms.partner_center.get_subscription(LAKESIDE.tenant_id, PBI.id)


async def submit(quantity: int, mode: str = "immediately", date_text: str = ""):
    luis = identity_for(LUIS)
    sub = await subscriptions.load_subscription(luis, PBI.id)
    return await quantity_change.submit_change(luis, PBI.id, str(quantity), mode, date_text, sub.etag)


def requests() -> list[ApprovalRequest]:
    with session_scope() as db:
        return list(db.exec(select(ApprovalRequest).order_by(ApprovalRequest.id)).all())


def today():
    return clock.today()


# ------------------------------------------------------------------------- (a)
async def test_a_custom_future_change_edited_to_300_for_today_is_held_not_applied(ms):
    threshold("50")
    tomorrow = today() + timedelta(days=1)
    assert (await submit(13, "custom", tomorrow.isoformat())).status == "scheduled"  # +$14: not held
    [change] = quantity_change.future_changes(identity_for(LUIS))

    errors, edited = await quantity_change.edit_future_change(identity_for(LUIS), change.id, "300", today().isoformat())
    assert edited is None and "$4,032.00" in errors["held"] and "$50.00" in errors["held"]
    [kept] = quantity_change.future_changes(identity_for(LUIS))
    assert (kept.new_quantity, kept.due_date) == (13, tomorrow)  # the change stays as it was
    report = await scheduler.run_due_changes("w")  # nothing is due today
    assert report.applied == 0 and (await at_microsoft(ms))["quantity"] == 12
    [request] = requests()
    assert (request.status, request.old_quantity, request.new_quantity) == ("pending", 12, 300)
    assert request.added_monthly_cost == Decimal("4032.00") and request.replaces_change_id == change.id

    # Approved (by the Finance Manager): the Future Change itself becomes 300 today, and the
    # scheduler applies it once.
    decided = await quantity_change.approve(identity_for(PRIYA), request.id)
    assert decided.status == "applied", decided.outcome
    [now_due] = quantity_change.future_changes(identity_for(LUIS))
    assert (now_due.id, now_due.new_quantity, now_due.due_date) == (change.id, 300, today())
    assert (await scheduler.run_due_changes("w")).applied == 1
    assert (await at_microsoft(ms))["quantity"] == 300


async def test_a_on_renewal_future_change_edited_to_300_never_reaches_microsoft(ms):
    threshold("50")
    assert (await submit(13, "on_renewal")).status == "scheduled"
    assert (await at_microsoft(ms))["scheduledNextTermInstructions"]["quantity"] == 13
    [change] = quantity_change.future_changes(identity_for(LUIS))
    errors, edited = await quantity_change.edit_future_change(identity_for(LUIS), change.id, "300", "")
    assert edited is None and "held" in errors
    assert (await at_microsoft(ms))["scheduledNextTermInstructions"]["quantity"] == 13  # not 300
    assert [r.new_quantity for r in requests()] == [300]
    # Lowering the planned change is not an increase: it goes ahead without approval.
    errors, lowered = await quantity_change.edit_future_change(identity_for(LUIS), change.id, "12", "")
    assert errors == {} and lowered.new_quantity == 12


# ------------------------------------------------------------------------- (b)
async def test_b_small_steps_add_up_over_the_window(ms):
    threshold("50")
    assert (await submit(15)).status == "succeeded"  # +$42
    held = await submit(18)  # +$42 again: $84 in the window
    assert held.status == "held" and "$84.00" in held.message
    assert (await at_microsoft(ms))["quantity"] == 15
    # Once the first increase is older than the window, a new one stands alone again.
    with session_scope() as db:
        db.exec(update(CostIncrease).values(counted_at=clock.now() - approvals.APPROVAL_WINDOW - timedelta(minutes=1)))
    approvals.withdraw(identity_for(LUIS), requests()[0].id)
    assert (await submit(18)).status == "succeeded"


async def test_b_a_cancelled_future_change_no_longer_counts(ms):
    threshold("50")
    tomorrow = today() + timedelta(days=1)
    assert (await submit(15, "custom", tomorrow.isoformat())).status == "scheduled"  # +$42
    [change] = quantity_change.future_changes(identity_for(LUIS))
    await quantity_change.cancel_future_change(identity_for(LUIS), change.id)
    assert (await submit(15)).status == "succeeded"  # +$42 alone: not held


# ------------------------------------------------------------------------- (c)
async def business_central():
    catalog = await load_catalog()
    [product] = search_catalog(identity_for(LUIS), catalog, "business central premium")
    return product


def monthly_contract() -> int:
    return next(c.id for c in subscriptions.billing_contracts(identity_for(LUIS)) if "LDP-2026-002" in c.label)


async def test_c_a_big_purchase_is_held_and_placed_once_when_approved(ms):
    threshold("50")
    product = await business_central()
    orders_before = len(await ms.partner_center.list_orders(LAKESIDE.tenant_id))
    args = dict(
        contract_id=monthly_contract(),
        offer_id=product.offer_id,
        term_key="P1M:monthly",
        quantity_text="50",
        start_text=today().isoformat(),
        parent_id="",
        request_id=str(uuid.uuid4()),
    )
    outcome = await orders.place_order(identity_for(LUIS), **args)
    assert outcome.status == "held" and "$6,600.00" in outcome.message
    assert len(await ms.partner_center.list_orders(LAKESIDE.tenant_id)) == orders_before  # nothing bought
    [request] = requests()
    assert (request.action, request.new_quantity, request.added_monthly_cost) == ("purchase", 50, Decimal("6600.00"))

    # Priya is a Finance Manager: she approves purchases though she cannot buy herself.
    decided = await quantity_change.approve(identity_for(PRIYA), request.id)
    assert decided.status == "applied", decided.outcome
    placed = await ms.partner_center.list_orders(LAKESIDE.tenant_id)
    assert len(placed) == orders_before + 1
    new_ids = orders.order_subscription_ids(placed[-1])
    with session_scope() as db:  # mapped to the contract: My Services shows it
        assert (
            db.exec(select(ContractSubscription).where(ContractSubscription.subscription_id == new_ids[0]))
            .one()
            .billing_contract_id
            == args["contract_id"]
        )
    # Placing the approved order again (a worker resuming it) returns the same order.
    again = await orders.place_approved_order(
        identity_for(PRIYA), json.loads(request.order_json), approved=request.added_monthly_cost, note=""
    )
    assert again.status == "succeeded" and again.subscription_ids == new_ids
    assert len(await ms.partner_center.list_orders(LAKESIDE.tenant_id)) == orders_before + 1


async def test_c_a_future_dated_purchase_is_held_too(ms):
    threshold("50")
    product = await business_central()
    outcome = await orders.place_order(
        identity_for(LUIS),
        contract_id=monthly_contract(),
        offer_id=product.offer_id,
        term_key="P1M:monthly",
        quantity_text="50",
        start_text=(today() + timedelta(days=3)).isoformat(),
        parent_id="",
        request_id=str(uuid.uuid4()),
    )
    assert outcome.status == "held"
    with session_scope() as db:
        assert db.exec(select(ScheduledChange)).all() == []


# ------------------------------------------------------------------ stale approval
async def test_an_approval_whose_price_went_up_is_not_applied(ms, emulator_store):
    threshold("50")
    assert (await submit(300)).status == "held"  # 12 -> 300: +$4,032
    [request] = requests()
    # Meanwhile the subscription went down to 10 at Microsoft: 300 now adds $4,060.
    with emulator_store.transaction() as tx:
        doc = tx.get("subscription", PBI.id)
        tx.put("subscription", PBI.id, {**doc, "quantity": 10}, tenant=LAKESIDE.tenant_id)
    decided = await quantity_change.approve(identity_for(DANA), request.id)
    assert decided.status == "failed" and "$4,060.00" in decided.outcome and "$4,032.00" in decided.outcome
    assert (await at_microsoft(ms))["quantity"] == 10
