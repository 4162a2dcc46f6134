"""Load figures: N concurrent simulated browser sessions over Reflex's websocket.

    .venv/bin/python bench/load.py [--sessions 10,100,500] [--modes single,redis-2]
                                   [--events 10] [--think-ms 1000]

Each session is a real signed-in tab: a server-side session cookie for a demo persona
(administrators, subscription and finance managers of both customers), a websocket to
/_event with the hydrate event in CONNECT (as the browser sends it), then `--events`
navigations through the menu pages the persona may use (each runs the page guard and the
page's on_load handlers: database reads and state updates), with `--think-ms` between
clicks (randomised ±50%), all sessions at once.

Modes:
- single: one backend worker, SQLite and in-memory state (the default deployment);
- redis-1 / redis-2: one / two backend workers sharing PostgreSQL (127.0.0.1:5432, a fresh
  database, dropped afterwards) and Redis (127.0.0.1:6379, a database claimed for the run
  and flushed afterwards, 12 if free); sessions are spread over the
  workers round-robin, as a load balancer would.

Where Microsoft runs (`--microsoft`):
- in-worker (the default): the demo as `make demo` serves it, the emulator's routes on the
  worker's own port, so the worker also spends CPU answering its own Microsoft calls;
- own-process: the emulator in a process of its own (`python -m opkalla_portal.microsoft.emulator`,
  the same seeded world), the worker pointed at it with the OPKALLA_MS_* settings a production
  deployment uses for Microsoft's endpoints. The worker then does only the portal's work, as it
  does in production where Microsoft answers from elsewhere; the emulator's CPU is not counted.

Reported per run: events per second, event round trip (send → the last state update of
the page's on_load chain, i.e. the page's data has arrived) median and 95th percentile (and
the p95 of the first update, and the four pages with the slowest p95), errors, and server memory
per session (RSS of the worker processes after the sessions connected, minus before, divided by N; for Redis modes the
growth of Redis's used_memory too). Build-free: workers run `reflex run --env prod
--backend-only` (see tests/scaleout/harness.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.scaleout.harness import (  # noqa: E402
    SimulatedBrowser,
    free_port,
    private_redis_database,
    start_emulator_process,
    start_worker,
    worker_env,
)

PG_ADMIN_URL = os.environ.get("OPKALLA_TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("OPKALLA_BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")
PERSONAS = [
    "dana.whitaker@lakesidedental.onmicrosoft.com",
    "luis.ortega@lakesidedental.onmicrosoft.com",
    "priya.natarajan@lakesidedental.onmicrosoft.com",
    "tom.becker@bayviewlogistics.onmicrosoft.com",
]


def _create_database() -> tuple[str, str]:
    import psycopg

    name = f"opkalla_bench_{secrets.token_hex(4)}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return name, f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}"


def _drop_database(name: str) -> None:
    import psycopg

    from opkalla_portal.db import engine_for

    engine_for.cache_clear()
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _sessions(count: int) -> list[tuple[str, list[str]]]:
    """`count` (cookie, routes the persona may open) pairs, personas in rotation."""
    from sqlmodel import select

    from opkalla_portal.db import session_scope
    from opkalla_portal.models import PortalUser
    from opkalla_portal.services.access import Identity, menu_for
    from opkalla_portal.services.sessions import create_session

    result = []
    with session_scope() as db:
        users = [db.exec(select(PortalUser).where(PortalUser.email == email)).one() for email in PERSONAS]
        for index in range(count):
            user = users[index % len(users)]
            identity = Identity(
                user_id=user.id,
                organization_id=user.organization_id,
                role=user.web_role,
                display_name=user.display_name,
                email=user.email,
                tenant_id="",
            )
            result.append((create_session(db, user), [item.route for item in menu_for(identity)]))
    return result


def _redis_used_memory(url: str) -> int:
    import redis

    return int(redis.Redis.from_url(url).info("memory")["used_memory"])


async def _run_session(
    browser: SimulatedBrowser,
    routes: list[str],
    events: int,
    think: float,
    start_gate: asyncio.Event,
    by_route: dict[str, list[float]],
) -> None:
    await start_gate.wait()
    for _ in range(events):
        await asyncio.sleep(random.uniform(0.5 * think, 1.5 * think))
        route = random.choice(routes)
        try:
            # Done = the page's on_load chain finished and no further update came for 150 ms;
            # the completion time excludes that wait.
            await browser.navigate(route, quiet=0.15, timeout=30)
            by_route.setdefault(route, []).append(browser.completions[-1])
        except Exception as error:  # noqa: BLE001 - counted, reported
            browser.errors.append(repr(error))


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[int(0.95 * (len(ordered) - 1))]


async def _measure(workers, count: int, events: int, think: float, origin: str, redis_url: str | None) -> dict:
    redis_mode = redis_url is not None
    sessions = _sessions(count)
    rss_before = sum(w.rss_bytes() for w in workers)
    redis_before = _redis_used_memory(redis_url) if redis_mode else 0
    browsers = [
        SimulatedBrowser(workers[i % len(workers)].url, cookie, origin=origin) for i, (cookie, _) in enumerate(sessions)
    ]
    connect_errors = 0

    async def connect(browser: SimulatedBrowser) -> None:
        nonlocal connect_errors
        try:
            await browser.connect("/", quiet=0.0, timeout=60)
        except Exception as error:  # noqa: BLE001
            connect_errors += 1
            browser.errors.append(repr(error))

    # Open the tabs in waves of 50, as a crowd arriving, not one instant.
    for start in range(0, count, 50):
        await asyncio.gather(*(connect(b) for b in browsers[start : start + 50]))
    connected = [b for b in browsers if b._sio.connected]
    await asyncio.sleep(1)
    rss_after = sum(w.rss_bytes() for w in workers)
    redis_after = _redis_used_memory(redis_url) if redis_mode else 0
    for browser in browsers:
        browser.timings.clear()
        browser.completions.clear()
    gate = asyncio.Event()
    by_route: dict[str, list[float]] = {}
    tasks = [
        asyncio.create_task(_run_session(b, routes, events, think, gate, by_route))
        for b, (_, routes) in zip(connected, sessions, strict=False)
    ]
    cpu_before = sum(w.cpu_seconds() for w in workers)
    started = time.perf_counter()
    gate.set()
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - started
    server_cpu = sum(w.cpu_seconds() for w in workers) - cpu_before
    await asyncio.gather(*(b.close() for b in browsers), return_exceptions=True)
    timings = sorted(t for b in connected for t in b.completions)
    first_updates = sorted(t for b in connected for t in b.timings)
    errors = connect_errors + sum(len(b.errors) for b in connected)
    return {
        # Other processes' load on the machine during the run (1-minute load average).
        "load_average": round(os.getloadavg()[0], 1),
        "bench_cpu_s": round(time.process_time(), 1),  # the simulated browsers' own CPU
        "sessions": count,
        "connected": len(connected),
        "events": len(timings),
        "events_per_second": round(len(timings) / elapsed, 1) if elapsed else 0.0,
        "median_ms": round(statistics.median(timings) * 1000, 1) if timings else None,
        "p95_ms": round(_p95(timings) * 1000, 1) if timings else None,
        "max_ms": round(timings[-1] * 1000, 1) if timings else None,
        "first_update_p95_ms": round(first_updates[int(0.95 * (len(first_updates) - 1))] * 1000, 1)
        if first_updates
        else None,
        "errors": errors,
        # The pages with the slowest 95th percentile (ms), to see where a tail comes from.
        "slowest_routes_p95_ms": dict(
            sorted(
                ((route, round(_p95(values) * 1000, 1)) for route, values in by_route.items()),
                key=lambda item: -item[1],
            )[:4]
        ),
        # Server CPU per navigation: independent of how busy the machine is.
        "server_cpu_ms_per_event": round(server_cpu / max(len(timings), 1) * 1000, 1),
        "worker_rss_mb": round(rss_after / 2**20, 1),
        "rss_per_session_kb": round((rss_after - rss_before) / max(len(connected), 1) / 1024, 1),
        "redis_per_session_kb": round((redis_after - redis_before) / max(len(connected), 1) / 1024, 1)
        if redis_mode
        else None,
    }


def run_mode(mode: str, counts: list[int], events: int, think: float, microsoft: str) -> list[dict]:
    if not mode.startswith("redis"):
        return _run_mode(mode, counts, events, think, None, microsoft)
    with private_redis_database(REDIS_URL) as redis_url:  # claimed for this run, flushed after
        return _run_mode(mode, counts, events, think, redis_url, microsoft)


def _run_mode(
    mode: str, counts: list[int], events: int, think: float, redis_url: str | None, microsoft: str = "in-worker"
) -> list[dict]:
    workdir = Path(tempfile.mkdtemp(prefix=f"opkalla-load-{mode}-"))
    redis_mode = redis_url is not None
    worker_count = int(mode.split("-")[1]) if redis_mode else 1
    database = None
    if redis_mode:
        database, database_url = _create_database()
    else:
        database_url = f"sqlite:///{workdir / 'portal.db'}"
    ports = [free_port() for _ in range(worker_count)]
    origin = f"http://127.0.0.1:{ports[0]}"
    env = worker_env(database_url=database_url, redis_url=redis_url, public_url=origin, workdir=workdir)
    env["OPKALLA_SESSION_IDLE_MINUTES"] = "600"
    subprocess.run(
        [sys.executable, "-m", "opkalla_portal.cli", "prepare"],
        cwd=Path(__file__).resolve().parents[1],
        env=env,
        check=True,
        capture_output=True,
    )
    os.environ["DATABASE_URL"] = database_url
    workers = []
    results = []
    emulator = None
    try:
        if microsoft == "own-process":
            emulator, microsoft_env = start_emulator_process(workdir)
            env.update(microsoft_env)
        for index, port in enumerate(ports):
            workers.append(start_worker(port, env, workdir / f"worker-{index}.log"))
        for count in counts:
            result = asyncio.run(_measure(workers, count, events, think, origin, redis_url))
            result["mode"] = mode if microsoft == "in-worker" else f"{mode}+ms-process"
            print(json.dumps(result), flush=True)
            results.append(result)
    finally:
        for worker in workers:
            worker.kill()
        if emulator is not None:
            os.killpg(emulator.pid, 9)
            emulator.wait()
        if database:
            _drop_database(database)
        if os.environ.get("OPKALLA_BENCH_KEEP"):  # the workers' and emulator's logs, to read after a run
            print(f"kept {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", default="10,100,500")
    parser.add_argument("--modes", default="single,redis-2")
    parser.add_argument("--events", type=int, default=10, help="navigations per session")
    parser.add_argument("--think-ms", type=int, default=1000, help="mean pause between a session's clicks")
    parser.add_argument(
        "--microsoft",
        choices=("in-worker", "own-process"),
        default="in-worker",
        help="the emulator on the worker's port (the demo) or in its own process (as Microsoft is in production)",
    )
    args = parser.parse_args()
    counts = [int(n) for n in args.sessions.split(",")]
    all_results = []
    for mode in args.modes.split(","):
        all_results += run_mode(mode, counts, args.events, args.think_ms / 1000, args.microsoft)
    print(
        "\n| mode | sessions | events/s | median ms | p95 ms | max ms | errors | RSS/session KB | Redis/session KB "
        "| load avg | server CPU ms/event |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in all_results:
        print(
            f"| {r['mode']} | {r['sessions']} | {r['events_per_second']} | {r['median_ms']} | {r['p95_ms']} | "
            f"{r['max_ms']} | {r['errors']} | {r['rss_per_session_kb']} | {r['redis_per_session_kb'] or '-'} | "
            f"{r['load_average']} | {r['server_cpu_ms_per_event']} |"
        )


if __name__ == "__main__":
    main()
