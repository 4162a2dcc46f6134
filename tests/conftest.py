"""Shared fixtures: a fresh, migrated, seeded SQLite database per test."""

from __future__ import annotations

import os
from datetime import date

import pytest

os.environ.setdefault("OPKALLA_DEMO", "1")

# The emulator runs on the real clock, so the portal's seed does too (the data is deterministic
# for a given day).
TODAY = date.today()


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
    from opkalla_portal.services import seed

    with session_scope() as db:
        seed.seed_demo(db, today=TODAY)
    return database
