"""Demo mode exposure (issue 15, item 4 g).

The demo served /emulator/faults, /emulator/reset and /emulator/config (with the demo client
secret) and the persona picker to anyone who could reach the port, and listened on all
interfaces. Now it listens on 127.0.0.1 unless told otherwise, and a request from another
machine needs the demo passcode. "Another machine" is the ASGI scope's client address, as
the server fills it in (httpx's ASGITransport sets it like Granian does).
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from opkalla_portal.demo.emulator import PASSCODE_COOKIE, emulator_routes, emulator_store
from opkalla_portal.microsoft.emulator.settings import EMULATOR_CLIENT_SECRET

PASSCODE = "7f3a-19c2-b04e"
REMOTE = ("203.0.113.9", 51000)
LOOPBACK = ("127.0.0.1", 51000)
PROJECT = Path(__file__).resolve().parents[2]


@pytest.fixture
def demo_app(monkeypatch, tmp_path):
    monkeypatch.setenv("OPKALLA_DEMO", "1")
    monkeypatch.setenv("OPKALLA_EMULATOR_DB", str(tmp_path / "emulator.db"))
    monkeypatch.setenv("OPKALLA_DEMO_PASSCODE", PASSCODE)
    emulator_store.cache_clear()
    from opkalla_portal.services import rate_limit

    rate_limit.reset_local()
    yield Starlette(routes=emulator_routes())
    emulator_store.cache_clear()


def _client(app, address) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=address), base_url="http://demo.test")


def _authorize_url() -> str:
    from opkalla_portal.microsoft.emulator.settings import EMULATOR_CLIENT_ID

    return (
        f"/login/common/oauth2/v2.0/authorize?client_id={EMULATOR_CLIENT_ID}&response_type=code"
        "&redirect_uri=http%3A%2F%2Fdemo.test%2Fauth%2Fcallback&scope=openid&state=s1"
    )


async def test_another_machine_cannot_use_the_emulators_control_routes(demo_app):
    async with _client(demo_app, REMOTE) as remote:
        config = await remote.get("/emulator/config")
        faults = await remote.post("/emulator/faults", json={"fail_rate": 1.0})
        reset = await remote.post("/emulator/reset")
        read_faults = await remote.get("/emulator/faults")
        wrong = await remote.get("/emulator/config", headers={"X-Demo-Passcode": "guess"})
    for response in (config, faults, reset, read_faults, wrong):
        assert response.status_code == 401
        assert EMULATOR_CLIENT_SECRET not in response.text
    assert "X-Demo-Passcode" in config.json()["error"]


async def test_another_machine_with_the_passcode_and_this_machine_without(demo_app):
    async with _client(demo_app, REMOTE) as remote:
        config = await remote.get("/emulator/config", headers={"X-Demo-Passcode": PASSCODE})
    assert config.status_code == 200 and config.json()["client_secret"] == EMULATOR_CLIENT_SECRET
    async with _client(demo_app, LOOPBACK) as local:
        assert (await local.get("/emulator/config")).status_code == 200
        assert (await local.get("/emulator/faults")).status_code == 200


async def test_the_persona_picker_asks_another_machine_for_the_passcode(demo_app):
    async with _client(demo_app, REMOTE) as remote:
        page = await remote.get(_authorize_url())
        assert page.status_code == 401
        assert "Demo passcode" in page.text and "Dana Whitaker" not in page.text
        picked = await remote.post(_authorize_url(), data={"persona": "anything"})
        assert picked.status_code == 401 and "code=" not in picked.headers.get("location", "")

        refused = await remote.post("/demo/passcode", data={"passcode": "0000", "next": _authorize_url()})
        assert refused.status_code == 403 and PASSCODE_COOKIE not in refused.headers.get("set-cookie", "")

        unlocked = await remote.post("/demo/passcode", data={"passcode": PASSCODE, "next": _authorize_url()})
        assert unlocked.status_code == 303 and unlocked.headers["location"] == _authorize_url()
        cookie = unlocked.headers["set-cookie"]
        assert cookie.startswith(f"{PASSCODE_COOKIE}=") and "HttpOnly" in cookie and PASSCODE not in cookie
        remote.cookies.set(PASSCODE_COOKIE, unlocked.cookies[PASSCODE_COOKIE])
        page = await remote.get(_authorize_url())
    assert page.status_code == 200 and "Dana Whitaker" in page.text

    async with _client(demo_app, LOOPBACK) as local:
        page = await local.get(_authorize_url())
    assert page.status_code == 200 and "Dana Whitaker" in page.text


async def test_the_passcode_page_returns_only_to_local_paths(demo_app):
    async with _client(demo_app, REMOTE) as remote:
        response = await remote.post("/demo/passcode", data={"passcode": PASSCODE, "next": "//evil.example/x"})
    assert response.status_code == 303 and response.headers["location"] == "/sign-in"


async def test_the_token_endpoint_stays_open_for_the_portals_own_server(demo_app):
    """The portal's server redeems codes at the emulator's token endpoint, possibly through
    its public address: that is not a persona page and is not gated (it checks its client)."""
    async with _client(demo_app, REMOTE) as remote:
        response = await remote.post("/login/common/oauth2/v2.0/token", data={"grant_type": "authorization_code"})
    assert response.status_code != 401


def test_a_generated_passcode_is_kept_and_printed(monkeypatch, tmp_path):
    monkeypatch.delenv("OPKALLA_DEMO_PASSCODE", raising=False)
    monkeypatch.setenv("OPKALLA_EMULATOR_DB", str(tmp_path / "emulator.db"))
    emulator_store.cache_clear()
    from opkalla_portal.demo.emulator import demo_passcode, passcode_notice

    first = demo_passcode()
    assert len(first) >= 12 and demo_passcode() == first  # one passcode for every worker
    assert (tmp_path / "demo-passcode").stat().st_mode & 0o077 == 0
    assert first in passcode_notice()
    emulator_store.cache_clear()


def test_demo_mode_binds_to_this_machine_unless_told_otherwise(monkeypatch):
    import rxconfig

    monkeypatch.setenv("OPKALLA_DEMO", "1")
    monkeypatch.delenv("OPKALLA_HOST", raising=False)
    assert importlib.reload(rxconfig).config.backend_host == "127.0.0.1"
    monkeypatch.setenv("OPKALLA_HOST", "0.0.0.0")
    assert importlib.reload(rxconfig).config.backend_host == "0.0.0.0"
    monkeypatch.delenv("OPKALLA_HOST")
    monkeypatch.setenv("OPKALLA_DEMO", "0")
    assert importlib.reload(rxconfig).config.backend_host == "0.0.0.0"  # production: behind its proxy
    monkeypatch.setenv("OPKALLA_DEMO", "1")
    importlib.reload(rxconfig)


def _listening_addresses(port: int) -> set[str]:
    """Local addresses with a socket listening on `port` (from /proc/net/tcp and tcp6)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:
                found.add(address)
    return found


def test_the_demo_server_listens_on_loopback_only(tmp_path):
    """A real `reflex run` in demo mode, without a host given: it listens on 127.0.0.1 only."""
    from tests.scaleout.harness import free_port, worker_env

    port = free_port()
    env = worker_env(
        database_url=f"sqlite:///{tmp_path / 'portal.db'}",
        redis_url=None,
        public_url=f"http://127.0.0.1:{port}",
        workdir=tmp_path,
    )
    env.pop("OPKALLA_HOST", None)
    subprocess.run(
        [sys.executable, "-m", "opkalla_portal.cli", "prepare"], cwd=PROJECT, env=env, check=True, capture_output=True
    )
    log = open(tmp_path / "server.log", "w")
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "reflex"),
            "run",
            "--env",
            "prod",
            "--backend-only",
            "--backend-port",
            str(port),
        ],
        cwd=PROJECT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert process.poll() is None, (tmp_path / "server.log").read_text()[-3000:]
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        else:
            pytest.fail("the demo server did not start")
        assert _listening_addresses(port) == {"0100007F"}  # 127.0.0.1, and nothing else
    finally:
        os.killpg(process.pid, 15)
        process.wait(timeout=30)
