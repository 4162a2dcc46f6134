"""Two backend workers behind PostgreSQL and Redis: sessions move, nothing committed is lost."""

from __future__ import annotations

import asyncio
import signal

import httpx
from sqlmodel import select

from opkalla_portal.state.base import PortalState
from tests.scaleout.conftest import new_session_token
from tests.scaleout.harness import SimulatedBrowser, state_event_name

DANA = "dana.whitaker@lakesidedental.onmicrosoft.com"
TOM = "tom.becker@bayviewlogistics.onmicrosoft.com"


async def test_a_tab_started_on_one_worker_continues_on_the_other(cluster):
    worker_a, worker_b = cluster["workers"]
    cookie = new_session_token(DANA)
    tab = SimulatedBrowser(worker_a.url, cookie, origin=cluster["public_url"])
    await tab.connect("/my-company")
    assert tab.value(PortalState, "user_name") == "Dana Whitaker"
    assert tab.value(PortalState, "current_route") == "/my-company"
    await tab.close()

    # The same tab (same Reflex token) reconnects to the other worker on a page without the
    # guard: the state it hydrates with is the one worker A saved in Redis.
    moved = SimulatedBrowser(worker_b.url, cookie, origin=cluster["public_url"], token=tab.token)
    await moved.connect("/sign-in")
    assert moved.value(PortalState, "current_route") == "/my-company"
    # ... and events on worker B run as the same signed-in user.
    await moved.send(state_event_name(PortalState, "guard"))
    assert moved.value(PortalState, "organization_name") == "Lakeside Dental Partners"
    await moved.close()


async def test_tabs_of_different_customers_stay_apart_across_workers(cluster):
    worker_a, worker_b = cluster["workers"]
    dana = SimulatedBrowser(worker_a.url, new_session_token(DANA), origin=cluster["public_url"])
    tom = SimulatedBrowser(worker_b.url, new_session_token(TOM), origin=cluster["public_url"])
    await asyncio.gather(dana.connect("/"), tom.connect("/"))
    assert dana.value(PortalState, "organization_name") == "Lakeside Dental Partners"
    assert tom.value(PortalState, "organization_name") == "Bayview Logistics"
    await asyncio.gather(dana.close(), tom.close())


async def test_a_signed_out_tab_is_sent_to_sign_in_on_either_worker(cluster):
    for worker in cluster["workers"]:
        tab = SimulatedBrowser(worker.url, None, origin=cluster["public_url"])
        await tab.connect("/manage-users")
        assert tab.value(PortalState, "user_name") in ("", None)
        assert tab.value(PortalState, "is_admin") in (False, None)
        await tab.close()


def test_a_worker_killed_mid_request_loses_no_committed_data(cluster, tmp_path):
    """Sign-outs stream at worker A while it is SIGKILLed: every acknowledged sign-out is
    in the database, nothing is half-written, and worker B serves the rest."""
    from opkalla_portal.db import session_scope
    from opkalla_portal.models import PortalSession
    from opkalla_portal.services.sessions import hash_token
    from tests.scaleout.harness import free_port, start_worker

    worker_a, worker_b = cluster["workers"]
    tokens = [new_session_token(DANA) for _ in range(120)]
    acknowledged: list[str] = []

    async def sign_out_all() -> None:
        async with httpx.AsyncClient(timeout=10) as client:

            async def one(index: int, token: str) -> None:
                if index == 40:
                    worker_a.kill(signal.SIGKILL)
                try:
                    response = await client.post(
                        f"{worker_a.url}/auth/sign-out",
                        cookies={"opkalla_session": token},
                        headers={"Origin": cluster["public_url"]},
                    )
                except httpx.HTTPError:
                    return
                if response.status_code == 303:
                    acknowledged.append(token)

            for start in range(0, len(tokens), 10):
                await asyncio.gather(*(one(i, t) for i, t in enumerate(tokens[start : start + 10], start)))

    asyncio.run(sign_out_all())
    assert 0 < len(acknowledged) < len(tokens), "the kill should land mid-stream"

    with session_scope() as db:
        revoked = {row.token_hash for row in db.exec(select(PortalSession).where(PortalSession.revoked_at != None))}  # noqa: E711
    assert {hash_token(t) for t in acknowledged} <= revoked

    # The surviving worker finishes the job; the restarted worker serves again.
    remaining = [t for t in tokens if t not in acknowledged]
    for token in remaining:
        assert (
            httpx.post(
                f"{worker_b.url}/auth/sign-out",
                cookies={"opkalla_session": token},
                headers={"Origin": cluster["public_url"]},
            ).status_code
            == 303
        )
    with session_scope() as db:
        live = db.exec(
            select(PortalSession).where(
                PortalSession.token_hash.in_([hash_token(t) for t in tokens]), PortalSession.revoked_at.is_(None)
            )
        ).all()  # noqa: E711
    assert live == []
    restarted = start_worker(free_port(), cluster["env"], tmp_path / "restarted.log")
    cluster["workers"][0] = restarted  # the fixture stops it at the end
    assert httpx.get(f"{restarted.url}/health").status_code == 200


def test_sqlite_and_in_memory_state_stay_the_default(monkeypatch):
    """Without DATABASE_URL and REDIS_URL: SQLite, and no Redis for Reflex's state."""
    import importlib

    from opkalla_portal.settings import load_settings

    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    settings = load_settings()
    assert settings.is_sqlite and settings.redis_url is None
    import rxconfig

    config = importlib.reload(rxconfig).config
    assert config.redis_url is None and config.db_url.startswith("sqlite:///")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    assert importlib.reload(rxconfig).config.redis_url == "redis://127.0.0.1:6379/0"


async def test_two_granian_workers_behind_one_address(cluster, tmp_path):
    """The production shape: one port, GRANIAN_WORKERS=2, state in Redis. Twenty tabs of
    both customers connect, navigate and reconnect through the one address."""
    from tests.scaleout.harness import free_port, start_worker

    server = start_worker(free_port(), cluster["env"], tmp_path / "one-address.log", workers=2)
    try:
        assert len(_children(server.process.pid)) >= 2, "expected two Granian worker processes"
        tabs = [
            SimulatedBrowser(server.url, new_session_token(DANA if i % 2 else TOM), origin=cluster["public_url"])
            for i in range(20)
        ]
        await asyncio.gather(*(tab.connect("/") for tab in tabs))
        await asyncio.gather(*(tab.navigate("/my-company") for tab in tabs))
        for i, tab in enumerate(tabs):
            expected = "Lakeside Dental Partners" if i % 2 else "Bayview Logistics"
            assert tab.value(PortalState, "organization_name") == expected
        await asyncio.gather(*(tab.close() for tab in tabs))
        # Reconnecting (to whichever worker the kernel picks) finds each tab's state in Redis
        # (with the tab's session cookie: without it the state is reset, see test_tab_state_session).
        again = [
            SimulatedBrowser(server.url, tab.session_cookie, origin=cluster["public_url"], token=tab.token)
            for tab in tabs
        ]
        await asyncio.gather(*(tab.connect("/sign-in") for tab in again))
        assert all(tab.value(PortalState, "current_route") == "/my-company" for tab in again)
        await asyncio.gather(*(tab.close() for tab in again))
    finally:
        server.kill()


def _children(pid: int) -> list[int]:
    from pathlib import Path

    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(stat[1]) == pid or (int(stat[1]) in found):
                found.append(int(entry.name))
    return found
