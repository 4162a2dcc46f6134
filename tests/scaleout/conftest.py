"""Scale-out fixtures: a fresh PostgreSQL database, Redis, and two backend workers.

Skipped (with the reason shown) when PostgreSQL on 127.0.0.1:5432 or Redis on
127.0.0.1:6379 does not answer; CI on this machine has both.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

PG_ADMIN_URL = os.environ.get("OPKALLA_TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("OPKALLA_TEST_REDIS_URL", "redis://127.0.0.1:6379/11")


def _postgres_available() -> str | None:
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3):
            return None
    except Exception as error:  # refused, unknown user, no driver
        return f"PostgreSQL not reachable at {PG_ADMIN_URL}: {error.__class__.__name__}"


def _redis_available() -> str | None:
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
        return None
    except Exception as error:
        return f"Redis not reachable at {REDIS_URL}: {error.__class__.__name__}"


@pytest.fixture(scope="session")
def postgres_url():
    """A new, empty PostgreSQL database for this test run, dropped afterwards."""
    if reason := _postgres_available():
        pytest.skip(reason)
    import psycopg

    name = f"opkalla_test_{secrets.token_hex(6)}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        from opkalla_portal.db import engine_for

        engine_for.cache_clear()  # close the test process's pooled connections first
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def redis_url():
    """A Redis database of this run alone (claimed, flushed afterwards): runs in other
    worktrees may use the same Redis at the same time."""
    if reason := _redis_available():
        pytest.skip(reason)
    from tests.scaleout.harness import private_redis_database

    with private_redis_database(REDIS_URL) as url:
        yield url


@pytest.fixture(scope="session")
def cluster(postgres_url, redis_url, tmp_path_factory):
    """Two backend workers on their own ports sharing PostgreSQL and Redis, demo loaded."""
    from tests.scaleout.harness import free_port, start_worker, worker_env

    workdir = tmp_path_factory.mktemp("scaleout")
    ports = [free_port(), free_port()]
    public_url = f"http://127.0.0.1:{ports[0]}"
    env = worker_env(database_url=postgres_url, redis_url=redis_url, public_url=public_url, workdir=workdir)
    subprocess.run(
        [sys.executable, "-m", "opkalla_portal.cli", "prepare"],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        check=True,
        capture_output=True,
    )
    previous = os.environ.get("DATABASE_URL")
    os.environ["DATABASE_URL"] = env["DATABASE_URL"]  # the test process reads the same database
    workers = []
    try:
        for index, port in enumerate(ports):
            workers.append(start_worker(port, env, workdir / f"worker-{index}.log"))
        yield {"workers": workers, "env": env, "public_url": public_url, "workdir": workdir}
    finally:
        for worker in workers:
            worker.kill()
        if previous is None:
            os.environ.pop("DATABASE_URL", None)
        else:
            os.environ["DATABASE_URL"] = previous


def new_session_token(email: str) -> str:
    """A server-side sign-in session for a demo persona; returns the cookie value."""
    from sqlmodel import select

    from opkalla_portal.db import session_scope
    from opkalla_portal.models import PortalUser
    from opkalla_portal.services.sessions import create_session

    with session_scope() as db:
        user = db.exec(select(PortalUser).where(PortalUser.email == email)).one()
        return create_session(db, user)


ROOT = Path(__file__).resolve().parents[2]


def race(module: str, names: tuple[str, ...], *args: str, env: dict[str, str], timeout: float = 120) -> list[dict]:
    """Start one `python -m module NAME *args` per name, release them together once each has
    printed "ready", and return the JSON report each prints last."""
    import json
    import subprocess
    import sys

    racers = [
        subprocess.Popen(
            [sys.executable, "-m", module, name, *args],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for name in names
    ]
    try:
        for racer in racers:
            assert racer.stdout.readline().strip() == "ready"
        for racer in racers:  # both start together
            racer.stdin.write("go\n")
            racer.stdin.flush()
        return [json.loads(racer.communicate(timeout=timeout)[0].strip().splitlines()[-1]) for racer in racers]
    finally:
        for racer in racers:
            if racer.poll() is None:
                racer.kill()
