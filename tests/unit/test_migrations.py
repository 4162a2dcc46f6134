"""The Alembic history stays one line that PostgreSQL can record."""

from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory

MIGRATIONS = Path(__file__).resolve().parents[2] / "opkalla_portal" / "migrations"


def test_one_head_and_revision_ids_fit_alembic_version():
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    script = ScriptDirectory.from_config(config)
    assert len(script.get_heads()) == 1, script.get_heads()
    # alembic_version.version_num is VARCHAR(32): a longer id migrates on SQLite and fails on PostgreSQL.
    assert [r.revision for r in script.walk_revisions() if len(r.revision) > 32] == []
