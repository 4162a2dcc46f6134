"""Customer-side approvals: the threshold, holding a Subscription Manager's increase, and the state
machine pending -> approving -> applied | failed, pending -> denied | withdrawn (nothing else, once)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlmodel import select

from opkalla_portal import clock
from opkalla_portal.db import session_scope
from opkalla_portal.demo import demo_data
from opkalla_portal.models import ApprovalRequest, ChangeLogEntry, OutboundMail
from opkalla_portal.services import approvals, notifications, quantity_change, subscriptions
from opkalla_portal.services.access import PermissionDenied
from opkalla_portal.services.validation import ValidationFailed
from tests.services_subscriptions.conftest import DANA, LUIS, PRIYA, TOM, identity_for

LAKESIDE = demo_data.CUSTOMERS["lakeside"]
VISIO = next(s for s in demo_data.SUBSCRIPTIONS if s.customer_key == "lakeside" and s.key == "visio-p2")  # $18, 4


async def quantity(ms, sub=VISIO) -> int:
    return (await ms.partner_center.get_subscription(LAKESIDE.tenant_id, sub.id))["quantity"]


async def submit(who: str, new_quantity: int, mode: str = "immediately", date_text: str = ""):
    identity = identity_for(who)
    sub = await subscriptions.load_subscription(identity, VISIO.id)
    return await quantity_change.submit_change(identity, VISIO.id, str(new_quantity), mode, date_text, sub.etag)


def threshold(amount: str | None) -> None:
    approvals.set_threshold(identity_for(DANA), amount is not None, amount or "")


def the_request() -> ApprovalRequest:
    with session_scope() as db:
        return db.exec(select(ApprovalRequest).order_by(ApprovalRequest.id.desc())).first()


def log_results() -> list[str]:
    with session_scope() as db:
        return [
            e.result
            for e in db.exec(
                select(ChangeLogEntry).where(ChangeLogEntry.subscription_id == VISIO.id).order_by(ChangeLogEntry.id)
            ).all()
        ]


def mails(kind: str) -> list[OutboundMail]:
    with session_scope() as db:
        return list(db.exec(select(OutboundMail).where(OutboundMail.kind == kind)).all())


# ----------------------------------------------------------------- threshold
@pytest.mark.parametrize(("text", "expected"), [("100", "100.00"), ("$1,250.5", "1250.50"), (" 0 ", "0.00")])
def test_threshold_parses_money_as_decimal(text, expected):
    assert approvals.parse_threshold(text) == Decimal(expected)


@pytest.mark.parametrize("text", ["", "abc", "-5", "10.005", "2000000", "NaN", "1e3x"])
def test_bad_threshold_is_refused_with_a_message(text):
    with pytest.raises(ValueError) as error:
        approvals.parse_threshold(text)
    assert str(error.value)


def test_only_an_administrator_sets_the_threshold_and_bad_input_changes_nothing(seeded):
    threshold("100")
    assert approvals.get_threshold(identity_for(PRIYA)) == Decimal("100.00")
    with pytest.raises(PermissionDenied):
        approvals.set_threshold(identity_for(PRIYA), True, "5")
    with pytest.raises(PermissionDenied):
        approvals.set_threshold(identity_for(LUIS), False, "")
    with pytest.raises(ValidationFailed) as failed:
        approvals.set_threshold(identity_for(DANA), True, "-1")
    assert "negative" in failed.value.errors["threshold"]
    assert approvals.get_threshold(identity_for(DANA)) == Decimal("100.00")
    assert approvals.get_threshold(identity_for(TOM)) is None  # another customer: its own policy
    threshold(None)
    assert approvals.get_threshold(identity_for(DANA)) is None


# ----------------------------------------------------------------------- hold
async def test_increase_above_threshold_is_held_logged_and_mailed(ms):
    threshold("100")
    outcome = await submit(LUIS, 10)  # 6 seats x $18 = $108 > $100
    assert outcome.status == "held" and "$108.00" in outcome.message and "$100.00" in outcome.message
    assert await quantity(ms) == 4  # Microsoft untouched
    request = the_request()
    assert (request.status, request.old_quantity, request.new_quantity) == ("pending", 4, 10)
    assert request.added_monthly_cost == Decimal("108.00") and request.threshold == Decimal("100.00")
    assert log_results() == ["awaiting_approval"]
    assert sorted(m.to_address for m in mails(notifications.APPROVAL_REQUESTS)) == [DANA, PRIYA]
    # A second request for the same subscription waits for the first.
    again = await submit(LUIS, 12)
    assert again.status == "invalid" and "already awaiting approval" in again.message


async def test_not_held_at_or_below_threshold_for_decreases_admins_or_when_off(ms):
    threshold("108")
    assert (await submit(LUIS, 10)).status == "succeeded"  # exactly $108: not above
    threshold("1")
    assert (await submit(DANA, 12)).status == "succeeded"  # Administrators' own changes
    assert (await submit(LUIS, 11, "on_renewal")).status == "scheduled"  # a decrease
    threshold(None)
    assert (await submit(LUIS, 20)).status == "succeeded"
    assert the_request() is None


async def test_approvers_who_opted_out_get_no_mail(ms):
    notifications.set_preference(identity_for(PRIYA), notifications.APPROVAL_REQUESTS, False)
    threshold("0")
    assert (await submit(LUIS, 5)).status == "held"
    assert [m.to_address for m in mails(notifications.APPROVAL_REQUESTS)] == [DANA]


# --------------------------------------------------------------- state machine
async def test_approve_applies_once_logs_and_tells_the_requester(ms):
    threshold("100")
    await submit(LUIS, 10)
    request = the_request()
    decided = await quantity_change.approve(identity_for(PRIYA), request.id)
    assert decided.status == "applied" and decided.decided_by_name == "Priya Natarajan"
    assert await quantity(ms) == 10
    assert log_results() == ["awaiting_approval", "succeeded"]
    with pytest.raises(approvals.ApprovalError, match="no longer awaiting"):
        await quantity_change.approve(identity_for(DANA), request.id)
    with pytest.raises(approvals.ApprovalError):
        approvals.deny(identity_for(DANA), request.id, "late")
    with pytest.raises(approvals.ApprovalError):
        approvals.withdraw(identity_for(LUIS), request.id)
    assert [m.to_address for m in mails(notifications.APPROVAL_OUTCOMES)] == [LUIS]


async def test_two_approvers_at_once_apply_it_once(ms):
    threshold("100")
    await submit(LUIS, 10)
    request = the_request()
    results = await asyncio.gather(
        quantity_change.approve(identity_for(PRIYA), request.id),
        quantity_change.approve(identity_for(DANA), request.id),
        return_exceptions=True,
    )
    assert sum(isinstance(r, ApprovalRequest) for r in results) == 1
    assert sum(isinstance(r, approvals.ApprovalError) for r in results) == 1
    assert log_results().count("succeeded") == 1 and await quantity(ms) == 10


def edit_visio(store, **changes) -> None:
    """A change made outside the portal, straight in the emulator's copy of the subscription."""
    with store.transaction() as tx:
        doc = tx.get("subscription", VISIO.id)
        tx.put("subscription", VISIO.id, {**doc, **changes}, tenant=LAKESIDE.tenant_id)


async def test_approval_revalidates_and_records_a_failure(ms, emulator_store):
    threshold("100")
    await submit(LUIS, 10)
    request = the_request()
    # Meanwhile the subscription was suspended at Microsoft: the approval cannot apply it.
    edit_visio(emulator_store, status="suspended")
    decided = await quantity_change.approve(identity_for(DANA), request.id)
    assert decided.status == "failed" and "suspended" in decided.outcome
    assert log_results() == ["awaiting_approval", "failed"]
    assert await quantity(ms) == 4


async def test_a_custom_date_that_has_passed_fails_on_approval(ms):
    threshold("100")
    tomorrow = clock.today() + timedelta(days=1)
    await submit(LUIS, 10, "custom", tomorrow.isoformat())
    request = the_request()
    decided = await quantity_change.approve(identity_for(DANA), request.id, now=clock.now() + timedelta(days=3))
    assert decided.status == "failed" and "past" in decided.outcome


async def test_deny_needs_a_reason_and_withdraw_only_by_the_requester(ms):
    threshold("100")
    await submit(LUIS, 10)
    request = the_request()
    with pytest.raises(ValidationFailed):
        approvals.deny(identity_for(DANA), request.id, "   ")
    assert the_request().status == "pending"
    with pytest.raises(approvals.ApprovalError):
        approvals.withdraw(identity_for(DANA), request.id)  # not the requester (and no such request for her)
    denied = approvals.deny(identity_for(DANA), request.id, "Budget is frozen until July.")
    assert denied.status == "denied" and denied.reason == "Budget is frozen until July."
    assert log_results() == ["awaiting_approval", "denied"]
    assert await quantity(ms) == 4

    await submit(LUIS, 11)
    second = the_request()
    assert approvals.withdraw(identity_for(LUIS), second.id).status == "withdrawn"
    with pytest.raises(approvals.ApprovalError):
        await quantity_change.approve(identity_for(DANA), second.id)
    assert log_results()[-1] == "withdrawn"


def test_transitions_outside_the_state_machine_are_refused(seeded):
    allowed = {(a, b) for a, targets in approvals.TRANSITIONS.items() for b in targets}
    assert allowed == {
        ("pending", "approving"),
        ("pending", "denied"),
        ("pending", "withdrawn"),
        ("approving", "applied"),
        ("approving", "failed"),
    }
    statuses = list(approvals.STATUS_LABELS)
    with session_scope() as db:
        for current in statuses:
            for new in statuses:
                if (current, new) not in allowed:
                    with pytest.raises(approvals.ApprovalError):
                        approvals.transition(db, 1, 1, current, new)


async def test_other_customers_and_roles_cannot_decide(ms):
    threshold("100")
    await submit(LUIS, 10)
    request = the_request()
    with pytest.raises(approvals.ApprovalError, match="not found"):
        await quantity_change.approve(identity_for(TOM), request.id)
    with pytest.raises(approvals.ApprovalError, match="not found"):
        approvals.deny(identity_for(TOM), request.id, "no")
    with pytest.raises(PermissionDenied):
        await quantity_change.approve(identity_for(LUIS), request.id)
    assert approvals.open_requests(identity_for(TOM)) == []
    assert [r.id for r in approvals.my_requests(identity_for(LUIS))] == [request.id]
    assert the_request().status == "pending"


# ------------------------------------------------- a worker stopped mid-approval
def interrupted_approval(minutes_ago: int = 20) -> ApprovalRequest:
    """Priya's Approve claimed the request, then the worker stopped before recording anything."""
    request = the_request()
    priya = identity_for(PRIYA)
    with session_scope() as db:
        assert approvals.transition(
            db,
            request.id,
            request.organization_id,
            "pending",
            "approving",
            decided_by_id=priya.user_id,
            decided_by_name=priya.display_name,
            decided_at=clock.now() - timedelta(minutes=minutes_ago),
        )
    return request


async def test_resume_records_a_change_microsoft_made_before_the_stop_without_buying_again(ms, emulator_store):
    threshold("100")
    await submit(LUIS, 10)
    request = interrupted_approval()
    edit_visio(emulator_store, quantity=10)  # the PATCH had reached Microsoft
    assert await quantity_change.resume_interrupted() == 1
    with session_scope() as db:
        finished = db.get(ApprovalRequest, request.id)
    assert finished.status == "applied" and await quantity(ms) == 10
    assert log_results() == ["awaiting_approval", "succeeded"]
    with session_scope() as db:
        last = db.exec(select(ChangeLogEntry).order_by(ChangeLogEntry.id.desc())).first()
    assert "before the portal was interrupted" in last.message
    assert [m.to_address for m in mails(notifications.APPROVAL_OUTCOMES)] == [LUIS]
    assert await quantity_change.resume_interrupted() == 0  # finished once


async def test_resume_applies_a_change_the_stop_cut_off_and_leaves_recent_claims_alone(ms):
    threshold("100")
    await submit(LUIS, 10)
    request = interrupted_approval(minutes_ago=2)
    assert await quantity_change.resume_interrupted() == 0  # Priya's Approve may still be running
    assert await quantity(ms) == 4
    later = clock.now() + approvals.APPLY_TIMEOUT
    assert await quantity_change.resume_interrupted(later) == 1
    with session_scope() as db:
        assert db.get(ApprovalRequest, request.id).status == "applied"
    assert await quantity(ms) == 10 and log_results() == ["awaiting_approval", "succeeded"]


async def test_resume_finishes_from_the_change_log_when_the_outcome_was_recorded(ms):
    threshold("100")
    await submit(LUIS, 10, "on_renewal")
    request = interrupted_approval()
    with session_scope() as db:  # the Future Change and its log were written; the status was not
        approvals.log(
            db,
            identity_for(PRIYA),
            request,
            "scheduled",
            approvals.note(request, "Priya Natarajan") + "Scheduled for renewal.",
        )
    results = await asyncio.gather(quantity_change.resume_interrupted(), quantity_change.resume_interrupted())
    assert sorted(results) == [0, 1]  # two workers: one finishes it
    with session_scope() as db:
        assert db.get(ApprovalRequest, request.id).status == "applied"
    assert log_results() == ["awaiting_approval", "scheduled"]  # not scheduled a second time
