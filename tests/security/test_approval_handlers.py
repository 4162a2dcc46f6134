"""The approval handlers with a real pending Lakeside request in the database (the generic walk in
test_state_handlers.py runs before any request exists): each role, signed out, and Bayview's
administrator try to decide, withdraw, see or set what they may not."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlmodel import select

from opkalla_portal.db import session_scope
from opkalla_portal.demo import demo_data
from opkalla_portal.models import ApprovalPolicy, ApprovalRequest, Organization, PortalUser
from opkalla_portal.state.approval_requests import MyApprovalRequestsState
from opkalla_portal.state.approvals import ApprovalsState
from tests.security import harness

LAKESIDE = demo_data.CUSTOMERS["lakeside"]


@pytest.fixture
def pending(cookies) -> int:
    """A Lakeside request from Luis, waiting, with a $100 threshold."""
    with session_scope() as db:
        org = db.exec(select(Organization).where(Organization.tenant_id == LAKESIDE.tenant_id)).one()
        luis = db.exec(select(PortalUser).where(PortalUser.first_name == "Luis")).one()
        db.add(ApprovalPolicy(organization_id=org.id, monthly_threshold=Decimal("100.00")))
        request = ApprovalRequest(
            organization_id=org.id,
            subscription_id="sub-1",
            subscription_name="Project Plan 3",
            requested_by_id=luis.id,
            requested_by_name="Luis Ortega",
            old_quantity=3,
            new_quantity=6,
            effective_mode="immediately",
            unit_price=Decimal("36.00"),
            added_monthly_cost=Decimal("108.00"),
            threshold=Decimal("100.00"),
        )
        db.add(request)
        db.flush()
        return request.id


def status(request_id: int) -> str:
    with session_scope() as db:
        return db.get(ApprovalRequest, request_id).status


def threshold() -> Decimal | None:
    with session_scope() as db:
        return db.exec(select(ApprovalPolicy.monthly_threshold)).first()


async def _decide(root, request_id: int, action: str, reason: str = "no"):
    handlers = ApprovalsState.event_handlers
    await harness.call(root, handlers["load"])
    await harness.call(root, handlers["open_decision"], str(request_id), action)
    await harness.call(root, handlers["set_reason"], reason)
    state = harness.substate(root, ApprovalsState)
    # A forged dialog: the browser cannot send it, but even set server-side it must not pass.
    state.decision_action = action
    state.decision_request = {"id": str(request_id)}
    return await harness.call(root, handlers["confirm_decision"])


@pytest.mark.parametrize("who", [None, "luis", "tom"])
@pytest.mark.parametrize("action", ["approve", "deny"])
async def test_only_the_organizations_approvers_decide(cookies, pending, who, action):
    root = harness.build_root(cookies[who] if who else None, "/approvals")
    await _decide(root, pending, action)
    assert status(pending) == "pending"
    published = harness.public_values(root)
    assert "Project Plan 3" not in published and "Luis Ortega" not in published


async def test_priya_sees_and_denies_but_cannot_set_the_threshold(cookies, pending):
    root = harness.build_root(cookies["priya"], "/approvals")
    handlers = ApprovalsState.event_handlers
    await harness.call(root, handlers["set_approvals_on"], False)
    emitted = await harness.call(root, handlers["save_policy"])
    assert "not allow" in harness.describe(emitted) and threshold() == Decimal("100.00")
    await _decide(root, pending, "deny", "Not this quarter.")
    assert status(pending) == "denied"
    assert "Project Plan 3" in harness.public_values(root)  # her own organization's decision


@pytest.mark.parametrize("who", [None, "dana", "priya", "tom"])
async def test_only_the_requester_withdraws(cookies, pending, who):
    root = harness.build_root(cookies[who] if who else None, "/my-services/approval-requests")
    await harness.call(root, MyApprovalRequestsState.event_handlers["withdraw"], str(pending))
    assert status(pending) == "pending"
    root = harness.build_root(cookies["luis"], "/my-services/approval-requests")
    await harness.call(root, MyApprovalRequestsState.event_handlers["withdraw"], str(pending))
    assert status(pending) == "withdrawn"


@pytest.mark.parametrize("who", ["luis", "priya", "tom"])
async def test_only_lakesides_administrator_sets_lakesides_threshold(cookies, pending, who):
    root = harness.build_root(cookies[who], "/approvals")
    handlers = ApprovalsState.event_handlers
    await harness.call(root, handlers["set_approvals_on"], True)
    await harness.call(root, handlers["set_threshold"], "1")
    await harness.call(root, handlers["save_policy"])
    with session_scope() as db:
        lakeside = db.exec(
            select(ApprovalPolicy)
            .join(Organization, Organization.id == ApprovalPolicy.organization_id)
            .where(Organization.tenant_id == LAKESIDE.tenant_id)
        ).one()
    assert lakeside.monthly_threshold == Decimal("100.00")
