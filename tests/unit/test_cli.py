"""The `prepare` and `reset-demo` commands, and a bad setting stopping them with one line."""

import subprocess
import sys

from sqlmodel import func, select

from opkalla_portal import cli
from opkalla_portal.db import session_scope
from opkalla_portal.models import Organization, PortalUser


def _count(model) -> int:
    with session_scope() as db:
        return db.exec(select(func.count()).select_from(model)).one()


def test_prepare_seeds_once_and_reset_restores(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'portal.db'}")
    monkeypatch.setenv("OPKALLA_EMULATOR_DB", str(tmp_path / "emulator.db"))
    assert cli.main(["prepare"]) == 0
    organizations = _count(Organization)
    assert organizations == 3
    assert cli.main(["prepare"]) == 0  # an existing database is kept, not re-seeded
    assert _count(Organization) == organizations

    with session_scope() as db:
        dana = db.exec(select(PortalUser).where(PortalUser.first_name == "Dana")).one()
        dana.title = "Changed during the demo"
        db.add(dana)
    assert cli.main(["reset-demo"]) == 0
    with session_scope() as db:
        dana = db.exec(select(PortalUser).where(PortalUser.first_name == "Dana")).one()
        assert dana.title == "IT Director"
    assert _count(Organization) == organizations


def test_bad_setting_stops_with_one_line(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "opkalla_portal.cli", "prepare"],
        env={"PATH": "/usr/bin:/bin", "DATABASE_URL": "oracle://db"},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "Configuration error: DATABASE_URL is not valid: expected sqlite:///PATH or postgresql://USER@HOST:PORT/DB"
    ]
