"""Microsoft carried a change out but its answer was lost (a timeout; the retry then meets
the new etag): Change Logs and Future Changes record what Microsoft actually holds."""

from __future__ import annotations

from sqlmodel import select

from opkalla_portal.db import session_scope
from opkalla_portal.demo import demo_data
from opkalla_portal.microsoft.errors import ConflictError, UnavailableError
from opkalla_portal.models import ChangeLogEntry, ScheduledChange
from opkalla_portal.services import quantity_change, subscriptions
from tests.services_subscriptions.conftest import DANA, LUIS, identity_for

SPB = next(s.id for s in demo_data.SUBSCRIPTIONS if s.customer_key == "lakeside" and s.key == "spb")
LOST = UnavailableError("Microsoft did not answer in time. Please try again.")


def _logged() -> list[tuple[str, int, str]]:
    with session_scope() as db:
        return [
            (e.effective_mode, e.new_quantity, e.result)
            for e in db.exec(select(ChangeLogEntry).order_by(ChangeLogEntry.id)).all()
        ]


def _answer_lost(patched, error: Exception) -> None:
    """Partner Center's PATCH is carried out, then the portal sees `error` instead of the answer."""
    pc = subscriptions.microsoft().partner_center
    real = pc.request

    async def request(method, path, **kwargs):
        response = await real(method, path, **kwargs)
        if method == "PATCH":
            raise error
        return response

    patched.setattr(pc, "request", request)


async def test_an_immediate_change_whose_answer_was_lost_is_logged_as_done(ms, monkeypatch):
    luis = identity_for(LUIS)
    sub = await subscriptions.load_subscription(luis, SPB)
    for error, quantity in ((LOST, 50), (ConflictError("Precondition failed", status=412), 52)):
        with monkeypatch.context() as patched:
            _answer_lost(patched, error)
            outcome = await quantity_change.submit_change(luis, SPB, str(quantity), "immediately", "", sub.etag)
        assert outcome.status == "succeeded", outcome
        sub = await subscriptions.load_subscription(luis, SPB)
        assert sub.quantity == quantity
    assert _logged() == [("immediately", 50, "succeeded"), ("immediately", 52, "succeeded")]


async def test_a_real_conflict_is_still_a_conflict(ms):
    luis, dana = identity_for(LUIS), identity_for(DANA)
    stale = await subscriptions.load_subscription(luis, SPB)
    assert (await quantity_change.submit_change(dana, SPB, "48", "immediately", "", stale.etag)).status == "succeeded"
    outcome = await quantity_change.submit_change(luis, SPB, "50", "immediately", "", stale.etag)
    assert outcome.status == "conflict" and outcome.subscription.quantity == 48
    assert _logged() == [("immediately", 48, "succeeded")]


async def test_a_renewal_change_whose_answer_was_lost_becomes_a_future_change(ms, monkeypatch):
    luis = identity_for(LUIS)
    sub = await subscriptions.load_subscription(luis, SPB)
    with monkeypatch.context() as patched:
        _answer_lost(patched, LOST)
        outcome = await quantity_change.submit_change(luis, SPB, "40", "on_renewal", "", sub.etag)
        assert outcome.status == "scheduled", outcome
        [change] = quantity_change.future_changes(luis)
        assert (change.new_quantity, change.status) == (40, "pending")
        # Withdrawing it: Microsoft clears the instruction, the answer is lost; the change is cancelled.
        await quantity_change.cancel_future_change(luis, change.id)
    assert quantity_change.future_changes(luis) == []
    assert (await subscriptions.load_subscription(luis, SPB)).renewal_quantity is None
    with session_scope() as db:
        assert db.get(ScheduledChange, change.id).status == "cancelled"
    assert _logged() == [("on_renewal", 40, "scheduled"), ("on_renewal", 40, "cancelled")]
