"""LicensesState handlers are a public API: each re-checks the session and validates its arguments."""

from __future__ import annotations

import inspect

import pytest

from opkalla_portal.state.manage_licenses import LicensesState
from opkalla_portal.state.manage_licenses_window import PAGE_SIZE
from tests.licenses.conftest import PRIYA, TOM, identity_for

BUSINESS_PREMIUM = "f245ecc8-75af-4f8e-b61f-27d8114de5f3"


async def call(state, name, *args):
    """Run a handler the way Reflex would (plain, coroutine or async generator)."""
    result = getattr(state, name)(*args)
    if inspect.isasyncgen(result):
        return [item async for item in result]
    if inspect.iscoroutine(result):
        return await result
    return result


@pytest.fixture
def acting(monkeypatch):
    """Make the state resolve a chosen persona instead of reading a session cookie."""
    who = {"identity": None}
    monkeypatch.setattr(LicensesState, "_identity", lambda self: who["identity"])

    def act_as(email):
        who["identity"] = identity_for(email) if email else None

    return act_as


async def _open_window(acting) -> LicensesState:
    acting(TOM)
    state = LicensesState(_reflex_internal_init=True)
    await state._load_products(identity_for(TOM))
    await call(state, "open_manager", BUSINESS_PREMIUM)
    assert state.window_open and not state.window_loading and state.window_error == ""
    return state


async def test_window_publishes_one_page_and_keeps_the_directory_server_side(portal, ms, acting):
    state = await _open_window(acting)
    assert state.total_users == 40 and len(state.rows) <= PAGE_SIZE
    assert (state.available, state.seats_left) == (5, 5)
    public = {name for name in state.get_fields() if not name.startswith("_")}
    assert "_users" not in public and "_pending" not in public


async def test_toggle_ignores_bad_arguments_and_guards_seats(portal, ms, acting):
    state = await _open_window(acting)
    free = [r["id"] for r in state.rows if not r["licensed"]]
    await call(state, "toggle_user", "no-such-user", True)
    await call(state, "toggle_user", free[0], "yes")
    await call(state, "toggle_user", {"id": free[0]}, True)
    assert state._pending == {} and state.seats_left == 5
    for user_id in free[:5]:
        await call(state, "toggle_user", user_id, True)
    assert state.seats_left == 0
    await call(state, "toggle_user", free[5], True)
    assert "No licenses left" in state.guard_message and free[5] not in state._pending
    await call(state, "go_to_page", "2; drop")
    await call(state, "set_status_filter", "<script>")
    assert state.status_filter == "all" and state.page == 1


async def test_signed_out_or_wrong_role_changes_nothing(portal, ms, acting):
    state = await _open_window(acting)
    user_id = next(r["id"] for r in state.rows if not r["licensed"])
    for persona in (PRIYA, None):
        acting(persona)
        await call(state, "toggle_user", user_id, True)
        await call(state, "open_manager", BUSINESS_PREMIUM)
        assert state._pending == {} and state.seats_left == 5
    acting(PRIYA)
    await call(state, "request_approval", {"justification": "I would like to manage licenses please."})
    from sqlmodel import select

    from opkalla_portal.db import session_scope
    from opkalla_portal.models import ConsentRequest

    with session_scope() as db:
        assert db.exec(select(ConsentRequest)).all() == []
