"""Shared fixtures: a fresh, migrated, seeded SQLite database per test (copied from one built
once per run: migrating and seeding, with its twelve billing runs, cost seconds each time)."""

from __future__ import annotations

import os
import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from opkalla_portal import clock

os.environ.setdefault("OPKALLA_DEMO", "1")

# The portal, its seed and the emulator read one clock (opkalla_portal.clock): expected values
# come from the same clock. OPKALLA_TODAY moves it for the whole run (make test runs the
# date-sensitive suites on other days too).
TODAY = clock.today()


def long_date(day) -> str:
    """How the portal writes a date in prose: "March 1, 2028"."""
    return f"{day:%B} {day.day}, {day.year}"


@pytest.fixture(autouse=True)
def _clock_restored():
    """A test that moves or freezes the clock leaves it as the run set it."""
    yield
    clock.reset()


def _sqlite_path(url: str) -> Path:
    return Path(url[len("sqlite:///") :])


@pytest.fixture(scope="session")
def _migrated_template(tmp_path_factory) -> Path:
    """Migrated once per run (Alembic from nothing); each test gets a copy of the file."""
    from opkalla_portal.db import engine_for, migrate

    url = f"sqlite:///{tmp_path_factory.mktemp('templates') / 'migrated.db'}"
    migrate(url)
    engine_for(url).dispose()  # the last connection closed: the WAL is checkpointed into the file
    return _sqlite_path(url)


@pytest.fixture(scope="session")
def _seeded_template(_migrated_template) -> Path:
    """The demo data loaded once per run for TODAY; each test that asks for it gets a copy."""
    from opkalla_portal.db import engine_for, session_scope
    from opkalla_portal.demo import seed

    path = _migrated_template.with_name("seeded.db")
    shutil.copyfile(_migrated_template, path)
    url = f"sqlite:///{path}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DATABASE_URL", url)
        with session_scope() as db:
            seed.seed_demo(db, today=TODAY)
    engine_for(url).dispose()
    return path


@pytest.fixture
def database(tmp_path, monkeypatch, _migrated_template):
    """A migrated, empty database; returns its URL."""
    from opkalla_portal.services import rate_limit

    path = tmp_path / "portal.db"
    shutil.copyfile(_migrated_template, path)
    url = f"sqlite:///{path}"
    monkeypatch.setenv("DATABASE_URL", url)
    rate_limit.reset_local()  # each test starts with no questions asked and no guesses counted
    return url


@pytest.fixture
def seeded(database, _seeded_template):
    """The demo data loaded for TODAY."""
    # SQLite's backup API: safe even if this test's engine already has the file open.
    with (
        closing(sqlite3.connect(_seeded_template)) as source,
        closing(sqlite3.connect(_sqlite_path(database))) as target,
    ):
        source.backup(target)
    return database
