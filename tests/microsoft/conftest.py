"""Fixtures: one emulator served on a real localhost port (MSAL needs real HTTP) for the
whole session, reset by tests that change state; clients pointed at it."""

from __future__ import annotations

import asyncio
import socket
import threading
import time

import httpx
import pytest
import pytest_asyncio
import uvicorn

from opkalla_portal.demo import demo_data
from opkalla_portal.microsoft import MicrosoftClients, MicrosoftSettings
from opkalla_portal.microsoft.emulator import EmulatorStore, build_emulator_app
from opkalla_portal.microsoft.emulator.settings import emulator_settings
from opkalla_portal.microsoft.http import RetryPolicy

LAKESIDE = demo_data.CUSTOMERS["lakeside"].tenant_id
BAYVIEW = demo_data.CUSTOMERS["bayview"].tenant_id


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerThread:
    def __init__(self, app, port: int) -> None:
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> None:
        self.thread.start()
        deadline = time.time() + 10
        while not self.server.started:
            if time.time() > deadline:
                raise RuntimeError("emulator did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=5)


@pytest.fixture(scope="session")
def store(tmp_path_factory) -> EmulatorStore:
    return EmulatorStore(str(tmp_path_factory.mktemp("emulator") / "emulator.db"))


@pytest.fixture(scope="session")
def server(store):
    port = free_port()
    thread = ServerThread(build_emulator_app(store), port)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    thread.stop()


@pytest.fixture
def emulator_url(server, store) -> str:
    """The running emulator with faults off (state kept from earlier tests)."""
    store.clear_faults()
    return server


@pytest.fixture
def fresh(emulator_url, store) -> str:
    """The running emulator re-seeded to the demo world."""
    store.reset()
    return emulator_url


@pytest.fixture
def settings(emulator_url) -> MicrosoftSettings:
    return emulator_settings(emulator_url, timeout_seconds=2.0)


async def _no_sleep(seconds: float) -> None:
    _no_sleep.calls.append(seconds)  # type: ignore[attr-defined]
    await asyncio.sleep(0)


@pytest_asyncio.fixture
async def clients(settings):
    """Clients whose retry waits are recorded instead of slept (tests stay fast)."""
    _no_sleep.calls = []  # type: ignore[attr-defined]
    retry = RetryPolicy(max_attempts=4, sleep=_no_sleep)
    async with MicrosoftClients(settings, retry=retry) as c:
        c.sleeps = _no_sleep.calls  # type: ignore[attr-defined]
        yield c


@pytest_asyncio.fixture
async def http():
    async with httpx.AsyncClient(follow_redirects=False) as client:
        yield client


RILEY = next(p for p in demo_data.PERSONAS if p.customer_key == "opkalla" and p.global_admin)
CONNECT_REDIRECT = "http://localhost:3000/partner-center/callback"


async def connect_partner_center(clients: MicrosoftClients, *, mfa: bool = True, name: str = RILEY.display_name):
    """The secure application model's one-time connect, run for real against the emulator:
    MSAL's auth-code flow (PKCE) for Partner Center's user_impersonation, the persona picked on
    the emulator's sign-in page. Returns the DelegatedGrant."""
    from opkalla_portal.microsoft.emulator.automation import sign_in_as

    flow = await clients.partner_delegated.begin_connect(CONNECT_REDIRECT)
    params = await sign_in_as(clients.http, flow["auth_uri"], name, mfa=mfa)
    return await clients.partner_delegated.complete_connect(flow, params)


@pytest_asyncio.fixture
async def app_user_pc(clients):
    """Partner Center with App+User (MFA) tokens from a delegated connection made for the test."""
    grant = await connect_partner_center(clients)

    async def token() -> str:
        return grant.access_token

    return clients.partner_center_as_user(token)
