"""Every event handler of every state class, called as a browser could call it.

Handlers are found from the app (tests/security/harness.py), so the features' states are
covered as they are merged. Three callers per handler:
- signed out: refused (sent to sign-in), or a pure UI handler (e.g. closing a dialog) that
  publishes no customer's data; the database unchanged either way;
- a role without the page's capability: refused or pure UI, and the database unchanged;
- another customer's administrator, passing the first customer's row ids in every slot:
  the first customer's rows unchanged and none of their data published to the browser.
"""

from __future__ import annotations

import re

import pytest

from opkalla_portal.services.access import capability_for_route
from tests.security import harness

# Handlers that are safe for anyone to call, and why.
HARMLESS = {
    ("PortalState", "guard"): "the page guard: redirects to sign-in, publishes only the caller's own identity",
    ("PortalState", "load_identity"): "publishes only the caller's own identity on public pages",
    ("PortalState", "setvar"): "Reflex's generic setter; tested separately: it sets nothing",
}

LAKESIDE_MARKERS = ("Lakeside", "lakesidedental", "Dana Whitaker", "Luis Ortega", "Priya Natarajan")
BAYVIEW_MARKERS = ("Bayview", "bayviewlogistics", "Tom Becker")


def _handlers():
    for state_cls in harness.portal_state_classes():
        for name, handler in harness.own_handlers(state_cls).items():
            if name == "setvar" or (state_cls.__name__, name) in HARMLESS:
                continue
            yield state_cls, name, handler


HANDLERS = list(_handlers())
IDS = [f"{cls.__name__}.{name}" for cls, name, _ in HANDLERS]


def _route_capabilities() -> dict[str, set]:
    """State class name → the capabilities of the pages whose on_load reaches it."""
    from opkalla_portal.pages import ALL_PAGES

    needed: dict[str, set] = {}
    for page in ALL_PAGES:
        on_load = page.on_load if isinstance(page.on_load, (list, tuple)) else [page.on_load]
        capability = capability_for_route(page.route)
        for handler in on_load:
            if handler is None or capability is None:
                continue
            state_name = handler.state_full_name.rsplit(".", 1)[-1]
            needed.setdefault(state_name, set()).add(capability)
    return needed


def _loads_data(emitted) -> bool:
    """Whether a handler's emitted events look like it served data (downloads, data calls)."""
    return bool(re.search(r"download|\.csv|\.pdf", harness.describe(emitted), re.IGNORECASE))


def _published_only_input(before: str, after: str, args: tuple) -> bool:
    """True when every string that appeared in the public state is one of the arguments."""
    import json

    def leaves(value):
        if isinstance(value, dict):
            for item in value.values():
                yield from leaves(item)
        elif isinstance(value, list):
            for item in value:
                yield from leaves(item)
        elif isinstance(value, str) and len(value) > 3:
            yield value

    new = set(leaves(json.loads(after))) - set(leaves(json.loads(before)))
    allowed = {str(a) for a in args}
    return all(any(a and a in value for a in allowed) for value in new)


def _refused_signed_out(emitted) -> bool:
    return "sign-in" in harness.describe(emitted)


def _refused_for_role(emitted) -> bool:
    text = harness.describe(emitted)
    return bool(re.search(r"not allow|not-allowed|sign-in|permission", text, re.IGNORECASE))


@pytest.mark.skipif(not HANDLERS, reason="no feature handlers registered yet")
@pytest.mark.parametrize(("state_cls", "name", "handler"), HANDLERS, ids=IDS)
async def test_signed_out_calls_are_refused_and_change_nothing(seeded, state_cls, name, handler):
    before = harness.database_digest()
    for args in harness.sample_arguments(handler):
        root = harness.build_root(None, "/")
        emitted = await harness.call(root, handler, *args)
        published = harness.public_values(root)
        leaked = [m for m in LAKESIDE_MARKERS + BAYVIEW_MARKERS if m in published]
        assert not leaked, f"{state_cls.__name__}.{name}{args} signed out published {leaked}"
        if not _refused_signed_out(emitted):
            assert not _loads_data(emitted), f"{state_cls.__name__}.{name}{args} signed out: {emitted!r}"
    assert harness.database_digest() == before, f"{state_cls.__name__}.{name} signed out changed data"


@pytest.mark.skipif(not HANDLERS, reason="no feature handlers registered yet")
@pytest.mark.parametrize(("state_cls", "name", "handler"), HANDLERS, ids=IDS)
async def test_roles_without_the_capability_are_refused(cookies, state_cls, name, handler):
    from opkalla_portal.roles import ROLE_FINANCE_MANAGER, ROLE_SUBSCRIPTION_MANAGER
    from opkalla_portal.services.access import ROLE_CAPABILITIES

    needed = _route_capabilities().get(state_cls.get_name(), set())
    personas = {"luis": ROLE_SUBSCRIPTION_MANAGER, "priya": ROLE_FINANCE_MANAGER}
    lacking = [p for p, role in personas.items() if needed and not needed & ROLE_CAPABILITIES[role]]
    if not lacking:
        pytest.skip(f"every role may use {state_cls.__name__} (pages: {sorted(c.value for c in needed) or 'none'})")
    before = harness.database_digest_without_session_touches()
    for persona in lacking:
        for args in harness.sample_arguments(handler):
            root = harness.build_root(cookies[persona], "/")
            baseline = harness.public_values(harness.build_root(cookies[persona], "/"))
            emitted = await harness.call(root, handler, *args)
            if not _refused_for_role(emitted):
                # Not refused: only acceptable for a UI handler that published nothing new
                # beyond the caller's own input (no rows of the page it may not see).
                assert _published_only_input(baseline, harness.public_values(root), args), (
                    f"{state_cls.__name__}.{name}{args} as {persona} published data: {emitted!r}"
                )
    assert harness.database_digest_without_session_touches() == before, (
        f"{state_cls.__name__}.{name} called by a role without access changed data"
    )


def _lakeside_id() -> int:
    from sqlalchemy import text

    from opkalla_portal.db import get_engine

    with get_engine().connect() as connection:
        return connection.execute(text("SELECT id FROM organization WHERE name LIKE 'Lakeside%'")).scalar_one()


def _lakeside_ids() -> list[int]:
    """Ids of Lakeside's rows (a few per table) to pass where a handler takes an id."""
    from sqlalchemy import inspect as sa_inspect
    from sqlalchemy import text

    from opkalla_portal.db import get_engine

    engine = get_engine()
    ids: set[int] = set()
    with engine.connect() as connection:
        lakeside = connection.execute(text("SELECT id FROM organization WHERE name LIKE 'Lakeside%'")).scalar_one()
        for table in sa_inspect(engine).get_table_names():
            columns = {c["name"] for c in sa_inspect(engine).get_columns(table)}
            if {"id", "organization_id"} <= columns:
                rows = connection.execute(
                    text(f'SELECT id FROM "{table}" WHERE organization_id = :org ORDER BY id LIMIT 3'),
                    {"org": lakeside},
                ).fetchall()
                ids.update(row[0] for row in rows if isinstance(row[0], int))
        ids.add(lakeside)
    return sorted(ids)


@pytest.mark.skipif(not HANDLERS, reason="no feature handlers registered yet")
@pytest.mark.parametrize(("state_cls", "name", "handler"), HANDLERS, ids=IDS)
async def test_another_customer_cannot_reach_lakeside_data(cookies, state_cls, name, handler):
    lakeside = _lakeside_id()
    before = harness.database_digest_without_session_touches(lakeside)
    for args in harness.sample_arguments(handler, _lakeside_ids()):
        root = harness.build_root(cookies["tom"], "/")
        try:
            await harness.call(root, handler, *args)
        except Exception as error:  # a crash is a bug too, but the data check matters most
            pytest.fail(f"{state_cls.__name__}.{name}{args} as Bayview's admin raised {error!r}")
        published = harness.public_values(root)
        leaked = [m for m in LAKESIDE_MARKERS if m in published]
        assert not leaked, f"{state_cls.__name__}.{name}{args} published Lakeside data: {leaked}"
    assert harness.database_digest_without_session_touches(lakeside) == before, (
        f"{state_cls.__name__}.{name} as Bayview's admin changed Lakeside's data"
    )


async def test_setvar_cannot_set_any_public_var(cookies):
    """Reflex's generic setter (state_auto_setters is off) must not write a var from the browser."""
    for state_cls in harness.portal_state_classes():
        setvar = state_cls.event_handlers.get("setvar")
        if setvar is None:
            continue
        for var in harness.public_var_names(state_cls):
            if f"set_{var}" in state_cls.event_handlers:
                continue  # an explicit setter the feature wrote: it has its own tests
            root = harness.build_root(cookies["luis"], "/")
            state = harness.substate(root, state_cls)
            before = getattr(state, var)
            try:
                await harness.call(root, setvar, var, "forged")
            except Exception:
                pass
            assert getattr(state, var) == before, f"setvar changed {state_cls.__name__}.{var}"


async def test_guard_publishes_only_the_callers_identity(cookies):
    from opkalla_portal.state.base import PortalState

    root = harness.build_root(cookies["tom"], "/")
    await harness.call(root, PortalState.event_handlers["guard"])
    state = harness.substate(root, PortalState)
    assert state.user_name == "Tom Becker" and state.organization_name == "Bayview Logistics"
    signed_out = harness.build_root(None, "/manage-users")
    emitted = await harness.call(signed_out, PortalState.event_handlers["guard"])
    assert "sign-in" in harness.describe(emitted)
    assert harness.substate(signed_out, PortalState).menu == []


async def test_a_role_is_sent_away_from_pages_it_may_not_use(cookies):
    from opkalla_portal.state.base import PortalState

    root = harness.build_root(cookies["priya"], "/manage-licenses")
    emitted = await harness.call(root, PortalState.event_handlers["guard"])
    assert "not-allowed" in harness.describe(emitted)


async def test_every_page_loads_without_another_customers_data(cookies):
    """Load every page's on_load chain as Bayview's admin: nothing of Lakeside is published."""
    from opkalla_portal.pages import ALL_PAGES

    for page in ALL_PAGES:
        on_load = page.on_load if isinstance(page.on_load, (list, tuple)) else [page.on_load]
        root = harness.build_root(cookies["tom"], page.route)
        for handler in on_load:
            if handler is not None:
                await harness.call(root, handler)
        published = harness.public_values(root)
        assert not [m for m in LAKESIDE_MARKERS if m in published], page.route
        assert cookies["tom"] not in published, f"{page.route} published the session cookie"
