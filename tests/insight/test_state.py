"""InsightState handlers are a public API: they re-check the role, ignore bad arguments, act once."""

from __future__ import annotations

import asyncio
import inspect

import pytest
from sqlmodel import select

from opkalla_portal.db import session_scope
from opkalla_portal.demo import demo_data
from opkalla_portal.models import LicenseExclusion, ScheduledChange
from opkalla_portal.state.base import PortalState
from opkalla_portal.state.insight import InsightState
from tests.insight.conftest import DANA, PRIYA, identity_for

SPB = next(s for s in demo_data.SUBSCRIPTIONS if s.customer_key == "lakeside" and s.key == "spb")


async def call(state, name, *args):
    """Run a handler as Reflex would (background ones too, whose `async with self` is a no-op here)."""
    result = InsightState.event_handlers[name].fn(state, *args)
    return await result if inspect.iscoroutine(result) else result


@pytest.fixture
def acting(monkeypatch):
    """The state resolves the chosen persona instead of reading a session cookie."""
    who: dict = {}
    monkeypatch.setattr(PortalState, "_identity", lambda self: who.get("identity"))
    return lambda email: who.update(identity=identity_for(email) if email else None)


async def _loaded(acting, email=DANA) -> InsightState:
    acting(email)
    state = InsightState(_reflex_internal_init=True)
    queued = await call(state, "load")  # at once from the tenant cache, else loading + the background
    if queued is not None:
        assert state.loading and queued.fn.__name__ == "fetch_report"
        await call(state, "fetch_report")
    assert not state.loading and state.error == ""
    return state


async def test_a_second_load_paints_from_the_tenant_cache_until_the_portal_changes_licenses(lakeside, acting, ms):
    from opkalla_portal.services import tenant_cache

    acting(DANA)
    first = InsightState(_reflex_internal_init=True)
    queued = await call(first, "load")  # cold cache: Microsoft's reads go to the background
    assert first.loading and queued.fn.__name__ == "fetch_report"
    await call(first, "fetch_report")
    requests: list[str] = []
    ms.http.event_hooks["request"].append(lambda request: requests.append(str(request.url)))
    second = InsightState(_reflex_internal_init=True)
    assert await call(second, "load") is None  # warm: the report is in the load's own update
    assert not second.loading and second.products == first.products and second.recommendations
    assert requests == []  # nothing was sent to Microsoft
    tenant_cache.invalidate(lakeside.tenant_id, tenant_cache.LICENSES)  # e.g. a license submit
    third = InsightState(_reflex_internal_init=True)
    assert (await call(third, "load")).fn.__name__ == "fetch_report" and third.loading and requests == []


async def test_load_publishes_rows_and_keeps_the_numbers_server_side(lakeside, acting):
    state = await _loaded(acting)
    assert any(r["name"] == "Microsoft 365 Business Premium" and r["purchased"] == 45 for r in state.products)
    [rec] = state.recommendations
    assert (
        rec["headline"] == ("Reduce Microsoft 365 Business Premium from 45 to 41 on renewal, saving $1,056.00 a year")
        and rec["ready"]
    )
    assert "fingerprint" not in rec and state._report.recommendations[0].fingerprint
    await call(state, "set_threshold", "30")
    thirty = state.idle_cost
    await call(state, "set_threshold", "7")  # not a choice: ignored
    assert state.threshold == "30" and state.idle_cost == thirty


async def test_before_consent_the_panel_asks_for_it(portal, ms, acting):
    state = await _loaded(acting)
    assert state.consent_needed and state.products == [] and state.recommendations == []


async def test_a_double_click_schedules_once(lakeside, acting):
    state = await _loaded(acting)
    await asyncio.gather(call(state, "accept", SPB.id), call(state, "accept", SPB.id))
    with session_scope() as db:
        changes = db.exec(select(ScheduledChange)).all()
    assert [(c.subscription_id, c.new_quantity) for c in changes] == [(SPB.id, 41)]
    assert state.busy_id == ""


async def test_bad_arguments_change_nothing(lakeside, acting):
    state = await _loaded(acting)
    for args in (("no-such-subscription",), ({"id": SPB.id},), (None,)):
        await call(state, "accept", *args)
        await call(state, "dismiss", *args)
    await call(state, "set_excluded", "not-a-sku", True)
    await call(state, "set_excluded", SPB.graph_sku_id, "yes")
    with session_scope() as db:
        assert db.exec(select(ScheduledChange)).all() == [] and db.exec(select(LicenseExclusion)).all() == []
    assert len(state.recommendations) == 1


async def test_a_finance_manager_is_refused(lakeside, acting):
    state = await _loaded(acting)
    acting(PRIYA)
    emitted = await call(state, "accept", SPB.id)
    assert "not allow" in repr(emitted)
    await call(state, "set_excluded", SPB.graph_sku_id, True)
    with session_scope() as db:
        assert db.exec(select(ScheduledChange)).all() == [] and db.exec(select(LicenseExclusion)).all() == []
