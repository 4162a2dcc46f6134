"""What each page load and event pays for: one query for the session, no repeated import
search in the HTTP client, and no visitor waiting for an expired product catalog."""

from __future__ import annotations

import asyncio
import sys
import time

import pytest
from sqlalchemy import event
from sqlmodel import select

from opkalla_portal.db import get_engine, session_scope
from opkalla_portal.models import PortalUser
from opkalla_portal.services import catalog
from opkalla_portal.services.organizations import organization_name
from opkalla_portal.services.sessions import create_session, resolve_session

DANA = "dana.whitaker@lakesidedental.onmicrosoft.com"


def test_a_session_resolves_with_one_query_including_the_organization_name(seeded):
    with session_scope() as db:
        token = create_session(db, db.exec(select(PortalUser).where(PortalUser.email == DANA)).one())
    statements: list[str] = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731 - (conn, cursor, statement, ...)
    event.listen(get_engine(), "before_cursor_execute", listener)
    try:
        with session_scope() as db:
            identity = resolve_session(db, token)
        assert organization_name(identity) == "Lakeside Dental Partners"
    finally:
        event.remove(get_engine(), "before_cursor_execute", listener)
    assert identity.display_name == "Dana Whitaker"
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 1, statements


def test_the_http_clients_missing_sniffio_is_looked_up_once():
    import importlib.util

    import opkalla_portal.microsoft.http  # noqa: F401 - installs the remembered miss

    if importlib.util.find_spec("sniffio") is not None and sys.modules.get("sniffio") is not None:
        pytest.skip("sniffio is installed: httpcore imports it once, nothing to remember")
    with pytest.raises(ImportError):
        import sniffio  # noqa: F401
    assert sys.modules["sniffio"] is None


@pytest.fixture
def slow_catalog(monkeypatch):
    """Partner Center's catalog fetch, held until the test sets the event: (fetches started, the event)."""
    fetches = []
    release = asyncio.Event()

    async def fetch():
        fetches.append(time.monotonic())
        await release.wait()
        return {"new": "catalog"}

    monkeypatch.setattr(catalog, "_fetch", fetch)
    yield fetches, release
    catalog.clear_cache()


async def test_an_expired_catalog_is_served_while_one_refresh_runs(monkeypatch, slow_catalog):
    fetches, release = slow_catalog
    monkeypatch.setitem(catalog._cache, "catalog", (time.monotonic() - catalog.CACHE_SECONDS - 1, {"old": "catalog"}))
    assert await catalog.load_catalog() == {"old": "catalog"}  # not waiting for Partner Center
    assert await catalog.load_catalog() == {"old": "catalog"}
    await asyncio.sleep(0.01)  # the refresh task starts the fetch task
    assert len(fetches) == 1  # one background refresh, not one per visitor
    release.set()
    await asyncio.sleep(0.01)
    assert await catalog.load_catalog() == {"new": "catalog"}
    # Far too old (Microsoft unreachable for hours): callers wait for fresh prices instead.
    monkeypatch.setitem(catalog._cache, "catalog", (time.monotonic() - catalog.STALE_LIMIT_SECONDS - 1, {"old": 1}))
    assert await catalog.load_catalog() == {"new": "catalog"} and len(fetches) == 2


async def test_a_catalog_fetch_outlives_the_caller_who_started_it(slow_catalog):
    """A page load cancelled while the catalog is being fetched (the visitor navigated away)
    neither stops the fetch nor loses it: the next caller gets its result without a new fetch."""
    fetches, release = slow_catalog
    catalog.clear_cache()
    leaving = asyncio.ensure_future(catalog.load_catalog())
    await asyncio.sleep(0.01)
    leaving.cancel()
    with pytest.raises(asyncio.CancelledError):
        await leaving
    release.set()
    assert await catalog.load_catalog() == {"new": "catalog"} and len(fetches) == 1
