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


def test_existing_change_log_entries_are_linked_to_their_approval_request(tmp_path):
    """Entries written before the foreign key belonged to their request only by their text; the
    migration links them once (and leaves other entries, and unknown request numbers, alone)."""
    import sqlalchemy as sa
    from alembic import command

    from opkalla_portal.db import _alembic_config

    url = f"sqlite:///{tmp_path / 'portal.db'}"
    command.upgrade(_alembic_config(url), "billing_runs")
    engine = sa.create_engine(url)

    def insert(connection, table: str, **given) -> int:
        """A row with `given` and a placeholder in every other required column."""
        placeholders = {
            sa.Integer: 1,
            sa.Date: "2026-01-01",
            sa.DateTime: "2026-01-01 00:00:00",
            sa.Boolean: False,
            sa.Numeric: 0,
        }
        values = dict(given)
        for column in sa.inspect(connection).get_columns(table):
            if column["name"] not in values and not column["nullable"] and column["name"] != "id":
                values[column["name"]] = next(
                    (v for t, v in placeholders.items() if isinstance(column["type"], t)), "x"
                )
        names = ", ".join(values)
        marks = ", ".join(f":{name}" for name in values)
        return connection.execute(sa.text(f"INSERT INTO {table} ({names}) VALUES ({marks})"), values).lastrowid

    with engine.begin() as connection:
        org = insert(connection, "organization", name="Lakeside")
        user = insert(connection, "portaluser", organization_id=org, email="luis@example.com")
        request = insert(connection, "approvalrequest", organization_id=org, requested_by_id=user)
        messages = [
            f"Approval request #{request}: adds $108.00 per month.",
            f"Approval request #{request} from Luis Ortega, approved by Priya Natarajan. Done.",
            f"Approval request #{request + 7} from nobody.",
            "Set by hand.",
        ]
        for message in messages:
            insert(connection, "changelogentry", organization_id=org, message=message, result="succeeded")
    command.upgrade(_alembic_config(url), "heads")
    with engine.connect() as connection:
        linked = connection.execute(sa.text("SELECT message, approval_request_id FROM changelogentry ORDER BY id"))
        assert [row[1] for row in linked] == [request, request, None, None]
    engine.dispose()
