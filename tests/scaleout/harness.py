"""Scale-out tooling: start backend workers, and drive them like a browser does.

Production scale-out needs no code here: set `DATABASE_URL` (PostgreSQL) and `REDIS_URL`
and Reflex keeps every tab's state in Redis, so any worker can serve any event (see
docs/scale-out.md). This module is what the scale-out tests and `bench/load.py` use:

- `start_worker(port, env)`: one backend worker process (`reflex run --env prod
  --backend-only`, one Granian worker) on its own port, without rebuilding the frontend.
- `SimulatedBrowser`: a Socket.IO client speaking the same protocol as Reflex's frontend
  (`/_event`, the tab token in the query string, the hydrate event in the CONNECT packet,
  the session cookie in the handshake headers), so a test can start a session on one worker
  and continue it on another, and the load bench can hold hundreds of sessions.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

PROJECT_DIR = Path(__file__).resolve().parents[2]
ROOT_STATE = "reflex___state____state"
NAMESPACE = "/_event"  # the frontend's io(".../_event") uses the path as the namespace too
HYDRATE_EVENT = f"{ROOT_STATE}.hydrate_and_load"
ON_LOAD_EVENT = f"{ROOT_STATE}.reflex___state____on_load_internal_state.on_load_internal"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


REDIS_CLAIM_KEY = "opkalla:run-claim"


@contextmanager
def private_redis_database(url: str, *, candidates: range = range(8, 16)) -> Iterator[str]:
    """A Redis database used by this run alone: the URL's own, else the first free of `candidates`.

    Test and bench runs in several worktrees share one Redis; each claims an empty database
    with a key (SET NX, expiring in case the run dies) and flushes it when done, so no run
    sees another's tabs, locks or keyspace notifications. Yields the claimed URL.
    """
    import redis

    base, _, wanted = url.rstrip("/").rpartition("/")
    if not wanted.isdigit():  # no database in the URL: redis://host:6379
        base, wanted = url.rstrip("/"), ""
    order = [int(wanted)] + [n for n in candidates if n != int(wanted)] if wanted else list(candidates)
    run_id = uuid.uuid4().hex
    for number in order:
        client = redis.Redis.from_url(f"{base}/{number}")
        if not client.set(REDIS_CLAIM_KEY, run_id, nx=True, ex=4 * 3600):
            continue  # another run holds it
        if client.dbsize() > 1:  # someone's data without a claim: not ours to flush
            client.delete(REDIS_CLAIM_KEY)
            continue
        try:
            yield f"{base}/{number}"
        finally:
            if client.get(REDIS_CLAIM_KEY) == run_id.encode():
                client.flushdb()
        return
    raise RuntimeError(f"No free Redis database among {order} at {base}")


def worker_env(*, database_url: str, redis_url: str | None, public_url: str, workdir: Path) -> dict[str, str]:
    """The environment of a backend worker: shared database and Redis, offline Reflex."""
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        OPKALLA_PUBLIC_URL=public_url,
        OPKALLA_EMULATOR_DB=str(workdir / "emulator.db"),
        OPKALLA_DEMO="1",
        REFLEX_USE_NPM="1",
        REFLEX_TELEMETRY_ENABLED="false",
        REFLEX_CHECK_LATEST_VERSION="false",
        GRANIAN_WORKERS="1",
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    )
    if redis_url:
        env["REDIS_URL"] = redis_url
    else:
        env.pop("REDIS_URL", None)
    return env


@dataclass
class Worker:
    """A running backend worker process."""

    port: int
    process: subprocess.Popen
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Stop the worker and its children (Granian forks its worker)."""
        try:
            os.killpg(self.process.pid, sig)
        except ProcessLookupError:
            return
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def rss_bytes(self) -> int:
        """Resident memory of the worker's whole process group (supervisor and workers)."""
        total = 0
        for pid in _process_group_pids(self.process.pid):
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
            except OSError:
                continue
        return total

    def cpu_seconds(self) -> float:
        """CPU time (user + system) used so far by the worker's process group."""
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0
        for pid in _process_group_pids(self.process.pid):
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])  # utime, stime
            except (OSError, IndexError, ValueError):
                continue
        return total / ticks


def _process_group_pids(pgid: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.getpgid(int(entry.name)) == pgid:
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def start_worker(port: int, env: dict[str, str], log_path: Path, *, workers: int = 1, timeout: float = 120) -> Worker:
    """Start `reflex run --env prod --backend-only` on `port`; returns once /health answers."""
    env = {**env, "GRANIAN_WORKERS": str(workers)}
    log = open(log_path, "w")
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "reflex"),
            "run",
            "--env",
            "prod",
            "--backend-only",
            "--backend-port",
            str(port),
            "--backend-host",
            "127.0.0.1",
        ],
        cwd=PROJECT_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    worker = Worker(port=port, process=process, log_path=log_path)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"Worker on port {port} exited:\n{log_path.read_text()[-4000:]}")
        try:
            if httpx.get(f"{worker.url}/health", timeout=2).status_code == 200:
                return worker
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    worker.kill()
    raise RuntimeError(f"Worker on port {port} did not start in {timeout}s:\n{log_path.read_text()[-4000:]}")


def state_event_name(state_cls: Any, handler: str) -> str:
    """The wire name of `state_cls.handler`, e.g. 'reflex___state____state.….guard'."""
    return f"{state_cls.get_full_name()}.{handler}"


@dataclass
class SimulatedBrowser:
    """One browser tab: a Reflex client token, a session cookie, and a websocket.

    `send` emits an event and waits until the server has sent its state update(s) and
    gone quiet, returning the merged delta; round-trip times are recorded in `timings`.
    """

    base_url: str
    session_cookie: str | None = None
    origin: str | None = None
    token: str = field(default_factory=lambda: str(uuid.uuid4()))
    timings: list[float] = field(default_factory=list)  # send → first state update
    completions: list[float] = field(default_factory=list)  # send → last update of the event
    errors: list[str] = field(default_factory=list)
    state: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        import socketio

        self._sio = socketio.AsyncClient(reconnection=False)
        self._updates: asyncio.Queue = asyncio.Queue()
        self._sio.on("event", self._on_update, namespace=NAMESPACE)
        self._path = "/"

    async def _on_update(self, update: dict) -> None:
        for state_name, values in (update.get("delta") or {}).items():
            self.state.setdefault(state_name, {}).update(values)
        await self._updates.put(update)

    def _router_data(self, path: str) -> dict:
        return {"pathname": path, "asPath": path}

    async def connect(self, path: str = "/", *, quiet: float = 0.3, timeout: float = 15) -> dict:
        """Open the websocket on `path` (the hydrate event rides in CONNECT, as in a browser)."""
        self._path = path
        headers = {}
        if self.session_cookie:
            headers["Cookie"] = f"opkalla_session={self.session_cookie}"
        if self.origin:
            headers["Origin"] = self.origin
        boot = {"name": HYDRATE_EVENT, "payload": {}, "router_data": self._router_data(path)}
        started = time.perf_counter()
        await self._sio.connect(
            f"{self.base_url}?token={self.token}",
            headers=headers,
            auth={"event": boot},
            transports=["websocket"],
            socketio_path="/_event",
            namespaces=[NAMESPACE],
            wait_timeout=timeout,
        )
        delta = await self._collect(quiet=quiet, timeout=timeout)
        # The page is ready once Reflex marks the tab hydrated (after the on_load handlers).
        await self.wait_for(self.hydrated, timeout=timeout)
        self.timings.append(time.perf_counter() - started)
        return delta

    async def wait_for(self, condition, *, timeout: float = 15) -> None:
        """Take further updates until `condition()` holds (raises TimeoutError otherwise)."""
        deadline = time.monotonic() + timeout
        while not condition():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("condition not met")
            update = await asyncio.wait_for(self._updates.get(), remaining)
            del update  # already merged into self.state by _on_update

    def hydrated(self) -> bool:
        """Reflex turns `is_hydrated` off while a page's on_load chain runs, on once it is done."""
        return self.state.get(ROOT_STATE, {}).get("is_hydrated_rx_state_") is True

    async def navigate(self, path: str, **kwargs) -> dict:
        """Client-side navigation: the page's on_load events, as the router sends them.

        Returns once the whole on_load chain has run: the server cancels a page-load chain
        still unfinished when its tab disconnects, so returning on a pause between its
        events would let a caller close the tab before the page's guard ran.
        """
        self._path = path
        return await self.send(ON_LOAD_EVENT, {}, until=self.hydrated, **kwargs)

    async def send(
        self,
        name: str,
        payload: dict | None = None,
        *,
        quiet: float = 0.05,
        timeout: float = 15,
        until: Callable[[], bool] | None = None,
    ) -> dict:
        """Emit an event; wait for its first update, then until no update for `quiet` s
        (and, given `until`, until that holds)."""
        while not self._updates.empty():
            self._updates.get_nowait()
        started = time.perf_counter()
        await self._sio.emit(
            "event",
            {"name": name, "payload": payload or {}, "router_data": self._router_data(self._path)},
            namespace=NAMESPACE,
        )
        return await self._collect(quiet=quiet, timeout=timeout, first_at=started, until=until)

    async def _collect(
        self, *, quiet: float, timeout: float, first_at: float | None = None, until: Callable[[], bool] | None = None
    ) -> dict:
        merged: dict[str, dict] = {}
        deadline = time.monotonic() + timeout
        try:
            update = await asyncio.wait_for(self._updates.get(), timeout)
        except TimeoutError:
            self.errors.append("no update within timeout")
            raise
        if first_at is not None:
            self.timings.append(time.perf_counter() - first_at)
        while True:
            last = time.perf_counter()
            for state_name, values in (update.get("delta") or {}).items():
                merged.setdefault(state_name, {}).update(values)
            done = until is None or until()
            try:
                wait = quiet if done else max(deadline - time.monotonic(), 0.001)
                update = await asyncio.wait_for(self._updates.get(), wait)
            except TimeoutError:
                if not done:
                    self.errors.append("event chain unfinished within timeout")
                    raise
                if first_at is not None:
                    self.completions.append(last - first_at)
                return merged

    def value(self, state_cls: Any, var: str) -> Any:
        """A public var's last value the server sent for `state_cls` (wire name `var_rx_state_`)."""
        values = self.state.get(state_cls.get_full_name(), {})
        return values.get(f"{var}_rx_state_", values.get(var))

    async def close(self) -> None:
        if self._sio.connected:
            await self._sio.disconnect()


def start_emulator_process(workdir: Path) -> tuple[subprocess.Popen, dict[str, str]]:
    """The emulator in its own process on the run's seeded world; the OPKALLA_MS_* settings that
    point a worker at it (as a production deployment points it at Microsoft)."""
    import httpx

    from opkalla_portal.microsoft.emulator.settings import emulator_settings

    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "opkalla_portal.microsoft.emulator",
            "--port",
            str(port),
            "--db",
            str(workdir / "emulator.db"),
        ],
        cwd=Path(__file__).resolve().parents[2],
        stdout=open(workdir / "emulator.log", "w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://localhost:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(f"{base}/emulator/faults", timeout=2)
            break
        except httpx.HTTPError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"emulator did not start: {(workdir / 'emulator.log').read_text()[-2000:]}"
                ) from None
            time.sleep(0.3)
    settings = emulator_settings(base)
    env = {
        "OPKALLA_MS_GRAPH_URL": settings.graph_url,
        "OPKALLA_MS_PARTNER_CENTER_URL": settings.partner_center_url,
        "OPKALLA_MS_LOGIN_URL": settings.login_url,
        "OPKALLA_MS_OPENAI_URL": settings.openai_url,
        "OPKALLA_MS_OPENAI_DEPLOYMENT": settings.openai_deployment,
        "OPKALLA_MS_OPENAI_KEY": settings.openai_key,
        "OPKALLA_MS_OPENAI_EMBEDDINGS_DEPLOYMENT": settings.openai_embeddings_deployment,
        "OPKALLA_MS_CLIENT_ID": settings.client_id,
        "OPKALLA_MS_CLIENT_SECRET": settings.client_secret,
        "OPKALLA_MS_PARTNER_TENANT_ID": settings.partner_tenant_id,
    }
    return process, env
