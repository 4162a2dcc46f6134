"""The Alembic history stays one line that PostgreSQL can record."""

import re
from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory

MIGRATIONS = Path(__file__).resolve().parents[2] / "opkalla_portal" / "migrations"


def _script() -> ScriptDirectory:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config)


def test_one_head_and_revision_ids_fit_alembic_version():
    script = _script()
    assert len(script.get_heads()) == 1, script.get_heads()
    # alembic_version.version_num is VARCHAR(32): a longer id migrates on SQLite and fails on PostgreSQL.
    assert [r.revision for r in script.walk_revisions() if len(r.revision) > 32] == []


def test_migration_files_are_numbered_in_the_order_they_apply():
    """0001_..., 0002_...: a file's number is above the numbers of the revisions it follows."""
    revisions = list(_script().walk_revisions())
    names = {r.revision: Path(r.path).name for r in revisions}
    assert [n for n in names.values() if not re.fullmatch(r"\d{4}_[a-z0-9_]+\.py", n)] == []
    number = {rev: int(name[:4]) for rev, name in names.items()}
    assert sorted(number.values()) == list(range(1, len(number) + 1))
    for r in revisions:
        downs = r.down_revision if isinstance(r.down_revision, tuple) else (r.down_revision,)
        assert [d for d in downs if d and number[d] >= number[r.revision]] == [], names[r.revision]
