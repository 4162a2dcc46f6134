"""Shared fixtures: a fresh, migrated, seeded SQLite database per test."""

from __future__ import annotations

import os

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


@pytest.fixture
def database(tmp_path, monkeypatch):
    """A migrated, empty database; returns its URL."""
    from opkalla_portal.db import migrate
    from opkalla_portal.services import rate_limit

    url = f"sqlite:///{tmp_path / 'portal.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    rate_limit.reset_local()  # each test starts with no questions asked and no guesses counted
    migrate(url)
    return url


@pytest.fixture
def seeded(database):
    """The demo data loaded for TODAY."""
    from opkalla_portal.db import session_scope
    from opkalla_portal.demo import seed

    with session_scope() as db:
        seed.seed_demo(db, today=TODAY)
    return database
