"""Browser tests: the built portal, started once per test session, driven in Chromium."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
AXE_PATH = VENV_BIN.parent / "axe" / "node_modules" / "axe-core" / "axe.min.js"  # where make test installs it
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_up(base_url: str, process: subprocess.Popen, log_path: Path, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"The portal exited during start-up:\n{log_path.read_text()[-4000:]}")
        try:
            if (
                httpx.get(f"{base_url}/health", timeout=2).status_code == 200
                and httpx.get(f"{base_url}/sign-in", timeout=5, follow_redirects=True).status_code == 200
            ):
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    raise RuntimeError(f"The portal did not start in {timeout}s:\n{log_path.read_text()[-4000:]}")


@pytest.fixture(scope="session")
def portal_env() -> dict[str, str]:
    """Environment of the portal under test: its own database and port."""
    workdir = Path(tempfile.mkdtemp(prefix="opkalla-e2e-"))
    port = _free_port()
    env = dict(os.environ)
    env.update(
        DATABASE_URL=f"sqlite:///{workdir / 'portal.db'}",
        OPKALLA_EMULATOR_DB=str(workdir / "emulator.db"),
        PORT=str(port),
        OPKALLA_DEMO="1",
        REFLEX_USE_NPM="1",
        REFLEX_TELEMETRY_ENABLED="false",
        REFLEX_CHECK_LATEST_VERSION="false",
        PATH=f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}",
    )
    env.pop("OPKALLA_PUBLIC_URL", None)
    # The test process reads and writes the same database as the portal.
    os.environ["DATABASE_URL"] = env["DATABASE_URL"]
    os.environ["OPKALLA_EMULATOR_DB"] = env["OPKALLA_EMULATOR_DB"]
    env["_WORKDIR"] = str(workdir)
    return env


@pytest.fixture(scope="session")
def base_url(portal_env: dict[str, str]) -> str:
    """Prepare the database, build the portal in production mode and serve it on one port."""
    port = portal_env["PORT"]
    url = f"http://localhost:{port}"
    subprocess.run([sys.executable, "-m", "opkalla_portal.cli", "prepare"], cwd=ROOT, env=portal_env, check=True)
    log_path = Path(portal_env["_WORKDIR"]) / "portal.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [
                str(VENV_BIN / "reflex"),
                "run",
                "--env",
                "prod",
                "--single-port",
                "--frontend-port",
                port,
                "--backend-port",
                port,
            ],
            cwd=ROOT,
            env=portal_env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_until_up(url, process, log_path)
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        shutil.rmtree(portal_env["_WORKDIR"], ignore_errors=True)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Debian's Chromium where it is installed; Playwright's own browser elsewhere."""
    args = dict(browser_type_launch_args)
    if os.path.exists(CHROMIUM):
        args["executable_path"] = CHROMIUM
    args["args"] = [*args.get("args", []), *CHROMIUM_ARGS]
    return args


@pytest.fixture
def console_errors(page):
    """Collects the page's console errors and uncaught exceptions."""
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def sign_in_as(context, base_url: str, email: str) -> None:
    """Give the browser a server-side session for a demo persona (the SSO flow has its own tests)."""
    from sqlmodel import select

    from opkalla_portal.db import session_scope
    from opkalla_portal.models import PortalUser
    from opkalla_portal.services.sessions import SESSION_COOKIE, create_session

    with session_scope() as db:
        user = db.exec(select(PortalUser).where(PortalUser.email == email)).one()
        token = create_session(db, user)
    context.add_cookies(
        [{"name": SESSION_COOKIE, "value": token, "url": base_url, "httpOnly": True, "sameSite": "Lax"}]
    )


def axe_violations(page, impacts=("serious", "critical")) -> list[dict]:
    """Runs axe-core in the page; returns the violations at the given impacts."""
    # The Content-Security-Policy blocks inline <script> tags (add_script_tag), but allows
    # eval for rx.call_script: load axe-core through it.
    page.evaluate("source => { if (!window.axe) (0, eval)(source); }", AXE_PATH.read_text())
    # A toast or dialog still fading in has a partial opacity, which axe reports as low
    # contrast: let finite animations and transitions end first (spinners loop forever).
    page.evaluate("""async () => {
        await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
        const finite = document.getAnimations().filter(a => {
            const timing = a.effect && a.effect.getComputedTiming();
            return timing && Number.isFinite(timing.endTime);
        });
        await Promise.all(finite.map(a => a.finished.catch(() => null)));
    }""")
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        {"id": v["id"], "impact": v["impact"], "help": v["help"], "targets": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
        if v["impact"] in impacts
    ]
