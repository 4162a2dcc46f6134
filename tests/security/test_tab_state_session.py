"""A tab's state belongs to one session (issue 15, item 1), over the real websocket.

Reflex keeps each tab's state on the server under a token the tab holds (sessionStorage)
and sends every page's data back when the tab (re)connects. These tests drive a real
backend worker with a Socket.IO client speaking the browser's protocol
(`tests/scaleout/harness.SimulatedBrowser`) and read every frame the server sends:

- after Dana signs out, the frames to the sign-in page in the same tab carry none of
  Lakeside's users and none of her Spark AI conversation;
- Tom signing in in that tab never receives Lakeside data, and gets his own;
- after Dana closes her tab, connecting with her tab token and no cookie gets nothing of
  hers (her last invoice's address and lines).

Run against both state managers: in memory (one worker) and Redis (which loads only the
branch of the state tree an event touches, so the reset must fetch the rest).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from opkalla_portal.state.base import PortalState
from opkalla_portal.state.invoice_detail import InvoiceDetailState
from opkalla_portal.state.manage_users import UsersState
from opkalla_portal.state.my_invoices import InvoicesState
from opkalla_portal.state.support import SupportState
from tests.scaleout.harness import SimulatedBrowser, state_event_name

DANA = "dana.whitaker@lakesidedental.onmicrosoft.com"
TOM = "tom.becker@bayviewlogistics.onmicrosoft.com"
QUESTION = "How do I move our hygienist Marisol Quintero to a Business Premium license?"
PROJECT = Path(__file__).resolve().parents[2]


@dataclass
class RecordingTab(SimulatedBrowser):
    """A browser tab that also keeps every raw state update the server sent it."""

    frames: list[str] = field(default_factory=list)

    async def _on_update(self, update: dict) -> None:
        self.frames.append(json.dumps(update))
        await super()._on_update(update)

    def received(self) -> str:
        return "\n".join(self.frames)


@pytest.fixture(scope="module", params=["memory", "redis"])
def worker(request, tmp_path_factory):
    """One backend worker (demo data, its own SQLite database), in-memory or Redis state."""
    from tests.scaleout.harness import free_port, private_redis_database, start_worker, worker_env

    workdir = tmp_path_factory.mktemp(f"tab-state-{request.param}")
    port = free_port()
    public_url = f"http://127.0.0.1:{port}"
    database_url = f"sqlite:///{workdir / 'portal.db'}"
    with (
        private_redis_database(os.environ.get("OPKALLA_TEST_REDIS_URL", "redis://127.0.0.1:6379/11"))
        if request.param == "redis"
        else _nothing()
    ) as redis_url:
        env = worker_env(database_url=database_url, redis_url=redis_url, public_url=public_url, workdir=workdir)
        subprocess.run(
            [sys.executable, "-m", "opkalla_portal.cli", "prepare"],
            cwd=PROJECT,
            env=env,
            check=True,
            capture_output=True,
        )
        previous = os.environ.get("DATABASE_URL")
        os.environ["DATABASE_URL"] = database_url  # the test reads and writes the worker's database
        process = start_worker(port, env, workdir / "worker.log")
        try:
            yield process
        finally:
            process.kill()
            from opkalla_portal.db import engine_for

            engine_for.cache_clear()
            if previous is None:
                os.environ.pop("DATABASE_URL", None)
            else:
                os.environ["DATABASE_URL"] = previous


class _nothing:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


def _session_cookie(email: str) -> str:
    from tests.scaleout.conftest import new_session_token

    return new_session_token(email)


def _lakeside_emails() -> list[str]:
    from sqlmodel import select

    from opkalla_portal.db import session_scope
    from opkalla_portal.models import Organization, PortalUser

    with session_scope() as db:
        lakeside = db.exec(select(Organization).where(Organization.name == "Lakeside Dental Partners")).one()
        return [u.email for u in db.exec(select(PortalUser).where(PortalUser.organization_id == lakeside.id))]


async def _sign_out(base_url: str, cookie: str) -> None:
    """The browser's sign-out: the form's POST, from the portal's own pages."""
    async with httpx.AsyncClient(base_url=base_url) as client:
        response = await client.post(
            "/auth/sign-out", cookies={"opkalla_session": cookie}, headers={"Origin": base_url}
        )
    assert response.status_code == 303


async def _dana_fills_her_tab(worker) -> RecordingTab:
    """Dana opens Manage Users and asks Spark AI a question; the tab holds both."""
    tab = RecordingTab(worker.url, _session_cookie(DANA), origin=worker.url)
    await tab.connect("/manage-users")
    emails = [row["email"] for row in tab.value(UsersState, "active_users")]
    assert DANA in emails  # the page really showed Lakeside's users
    await tab.navigate("/support")
    await tab.send(
        state_event_name(SupportState, "submit"),
        {"form_data": {"question": QUESTION}},
        until=lambda: tab.value(SupportState, "streaming") is False,
        timeout=60,
    )
    assert QUESTION in json.dumps(tab.value(SupportState, "messages"))
    assert tab.value(SupportState, "conversations")
    return tab


def _assert_nothing_of_lakeside(frames: str, emails: list[str]) -> None:
    leaked = [email for email in emails if email in frames]
    assert not leaked, f"Lakeside users sent to the tab: {leaked}"
    assert QUESTION not in frames and "Marisol Quintero" not in frames
    assert "Dana Whitaker" not in frames and "Lakeside Dental Partners" not in frames


async def test_after_sign_out_the_same_tab_gets_no_users_and_no_conversation(worker):
    dana = await _dana_fills_her_tab(worker)
    await dana.close()
    await _sign_out(worker.url, dana.session_cookie)

    # The browser follows the sign-out to /sign-in: a page load in the same tab (same token).
    signed_out = RecordingTab(worker.url, None, origin=worker.url, token=dana.token)
    await signed_out.connect("/sign-in")
    await asyncio.sleep(0.3)
    await signed_out.close()
    assert signed_out.frames
    _assert_nothing_of_lakeside(signed_out.received(), _lakeside_emails())


async def test_another_user_signing_in_in_the_same_tab_never_gets_lakeside_data(worker):
    dana = await _dana_fills_her_tab(worker)
    await dana.close()
    await _sign_out(worker.url, dana.session_cookie)

    tom = RecordingTab(worker.url, _session_cookie(TOM), origin=worker.url, token=dana.token)
    await tom.connect("/manage-users")
    await tom.navigate("/support")
    await tom.navigate("/manage-users")
    await tom.close()
    _assert_nothing_of_lakeside(tom.received(), _lakeside_emails())
    # ... and Tom's own pages were loaded for him.
    assert tom.value(PortalState, "organization_name") == "Bayview Logistics"
    assert TOM in [row["email"] for row in tom.value(UsersState, "active_users")]
    assert tom.value(SupportState, "messages") == []


async def test_a_closed_tabs_token_without_the_cookie_reads_nothing(worker):
    dana = RecordingTab(worker.url, _session_cookie(DANA), origin=worker.url)
    await dana.connect("/my-invoices")
    rows = dana.value(InvoicesState, "rows")
    assert rows, "Lakeside has invoices in the demo"
    invoice_id = rows[0]["invoice_id"]
    await dana.navigate(f"/my-invoices/invoice?id={invoice_id}")
    bill_to = dana.value(InvoiceDetailState, "bill_to")
    lines = dana.value(InvoiceDetailState, "lines")
    assert bill_to and lines  # her invoice's billing address and lines were on the page
    await dana.close()  # she closes the tab; her session is still live

    stranger = RecordingTab(worker.url, None, origin=worker.url, token=dana.token)
    await stranger.connect("/sign-in")
    await asyncio.sleep(0.3)
    await stranger.close()
    frames = stranger.received()
    assert stranger.frames
    for address_line in bill_to:
        assert address_line not in frames
    for line in lines:
        assert line["product"] not in frames
    assert invoice_id not in frames
    assert "Dana Whitaker" not in frames


async def test_an_open_tab_is_refused_at_its_next_event_after_its_session_ends(worker):
    """Each event resolves the session afresh (the guard reuses only its own event's lookup):
    a tab that stays connected with the old cookie after its session is signed out elsewhere
    gets no page data at its very next event, even one sent at once."""
    tab = RecordingTab(worker.url, _session_cookie(DANA), origin=worker.url)
    await tab.connect("/manage-users")
    assert tab.value(UsersState, "active_users")
    await _sign_out(worker.url, tab.session_cookie)  # e.g. "Sign out" in another tab
    before = len(tab.frames)
    await tab.navigate("/manage-users", timeout=30)
    after = "\n".join(tab.frames[before:])
    await tab.close()
    assert "/sign-in" in after  # sent to sign in again
    _assert_nothing_of_lakeside(after, _lakeside_emails())
    assert tab.value(UsersState, "active_users") == []  # the tab's copy was reset, not refreshed
