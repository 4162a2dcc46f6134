"""The emulator's state: JSON documents in SQLite.

Every object (user, SKU, subscription, order, token grant...) is one row
``(kind, id, tenant, key2, body)``. All state lives in the database so that several OS
processes can serve the same emulator; writes run in ``BEGIN IMMEDIATE`` transactions
(one writer at a time, readers never see half a change). ``path=":memory:"`` keeps a
private in-memory database for tests.

Every write to a user is recorded by SQLite triggers in ``user_changes`` with the user as it
was before (whoever writes it: a Graph route, the seed, a test, another process), for Graph's
``users/delta`` (emulator/delta.py works out from it which properties changed since a token).
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS docs (
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    tenant TEXT NOT NULL DEFAULT '',
    key2 TEXT,
    body TEXT NOT NULL,
    PRIMARY KEY (kind, id)
);
CREATE INDEX IF NOT EXISTS docs_by_tenant ON docs (kind, tenant, id);
CREATE INDEX IF NOT EXISTS docs_by_key2 ON docs (kind, tenant, key2);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS user_changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant TEXT NOT NULL,
    id TEXT NOT NULL,
    old TEXT,  -- the user before this change; NULL: created (or replaced whole)
    removed INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS user_changes_by_tenant ON user_changes (tenant, seq);
CREATE TRIGGER IF NOT EXISTS user_created AFTER INSERT ON docs WHEN NEW.kind = 'user' BEGIN
    INSERT INTO user_changes (tenant, id, old, removed) VALUES (NEW.tenant, NEW.id, NULL, 0);
END;
CREATE TRIGGER IF NOT EXISTS user_updated AFTER UPDATE ON docs
WHEN NEW.kind = 'user' AND NEW.body IS NOT OLD.body BEGIN
    INSERT INTO user_changes (tenant, id, old, removed) VALUES (NEW.tenant, NEW.id, OLD.body, 0);
END;
CREATE TRIGGER IF NOT EXISTS user_deleted AFTER DELETE ON docs WHEN OLD.kind = 'user' BEGIN
    INSERT INTO user_changes (tenant, id, old, removed) VALUES (OLD.tenant, OLD.id, OLD.body, 1);
END;
"""


class Tx:
    """Document operations inside one transaction (see :meth:`EmulatorStore.transaction`)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def get(self, kind: str, id: str, tenant: str | None = None) -> dict | None:
        if tenant is not None:
            row = self.conn.execute(
                "SELECT body FROM docs WHERE kind=? AND id=? AND tenant=?", (kind, id, tenant)
            ).fetchone()
        else:
            row = self.conn.execute("SELECT body FROM docs WHERE kind=? AND id=?", (kind, id)).fetchone()
        return json.loads(row[0]) if row else None

    def get_by_key2(self, kind: str, tenant: str, key2: str) -> dict | None:
        row = self.conn.execute(
            "SELECT body FROM docs WHERE kind=? AND tenant=? AND key2=?", (kind, tenant, key2)
        ).fetchone()
        return json.loads(row[0]) if row else None

    def put(self, kind: str, id: str, body: Any, tenant: str = "", key2: str | None = None) -> None:
        self.conn.execute(
            "INSERT INTO docs (kind, id, tenant, key2, body) VALUES (?,?,?,?,?) "
            "ON CONFLICT(kind, id) DO UPDATE SET tenant=excluded.tenant, key2=excluded.key2, body=excluded.body",
            (kind, id, tenant, key2, json.dumps(body, separators=(",", ":"))),
        )

    def put_many(self, kind: str, rows: list[tuple[str, Any, str, str | None]]) -> None:
        """Bulk insert of (id, body, tenant, key2) rows (seeding)."""
        self.conn.executemany(
            "INSERT OR REPLACE INTO docs (kind, id, tenant, key2, body) VALUES (?,?,?,?,?)",
            [(kind, i, t, k, json.dumps(b, separators=(",", ":"))) for i, b, t, k in rows],
        )

    def delete(self, kind: str, id: str) -> None:
        self.conn.execute("DELETE FROM docs WHERE kind=? AND id=?", (kind, id))

    def list(
        self, kind: str, tenant: str | None = None, *, after_id: str | None = None, limit: int | None = None
    ) -> list[dict]:
        """Documents of a kind (optionally one tenant's), ordered by id; keyset paging."""
        sql, args = "SELECT body FROM docs WHERE kind=?", [kind]
        if tenant is not None:
            sql += " AND tenant=?"
            args.append(tenant)
        if after_id is not None:
            sql += " AND id>?"
            args.append(after_id)
        sql += " ORDER BY id"
        if limit is not None:
            sql += " LIMIT ?"
            args.append(limit)
        return [json.loads(r[0]) for r in self.conn.execute(sql, args)]

    def count(self, kind: str, tenant: str | None = None) -> int:
        if tenant is None:
            return self.conn.execute("SELECT COUNT(*) FROM docs WHERE kind=?", (kind,)).fetchone()[0]
        return self.conn.execute("SELECT COUNT(*) FROM docs WHERE kind=? AND tenant=?", (kind, tenant)).fetchone()[0]

    def meta(self, key: str, default: Any = None) -> Any:
        row = self.conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return json.loads(row[0]) if row else default

    def set_meta(self, key: str, value: Any) -> None:
        self.conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?,?)", (key, json.dumps(value)))


class EmulatorStore:
    """The emulator's database. ``reset()`` re-seeds the demo world from demo_data."""

    def __init__(self, path: str = ":memory:", *, seed: bool = True) -> None:
        self.path = str(path)
        # One connection per store object; the lock serialises its use between threads of
        # this process, SQLite's locking serialises writers across processes.
        self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30)
        self._lock = threading.RLock()
        if self.path != ":memory:":
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute("PRAGMA busy_timeout=30000")
        self._conn.executescript(SCHEMA)
        with self.transaction() as tx:
            if tx.meta("delta_key") is None:  # signs delta tokens; kept by reset()
                tx.set_meta("delta_key", secrets.token_hex(32))
            if tx.meta("delta_epoch") is None:
                tx.set_meta("delta_epoch", secrets.token_hex(8))
        if seed:
            with self.transaction() as tx:
                seeded = tx.meta("seeded_at")
            if not seeded:
                self.reset()

    @contextmanager
    def transaction(self, write: bool = True) -> Iterator[Tx]:
        """A transaction: ``BEGIN IMMEDIATE`` for writes (takes the write lock up front so
        read-modify-write cycles cannot interleave across processes)."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                yield Tx(self._conn)
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            else:
                self._conn.execute("COMMIT")

    def read(self) -> AbstractContextManager[Tx]:
        """A read transaction (consistent snapshot, no write lock)."""
        return self.transaction(write=False)

    def reset(self) -> None:
        """Restore the seeded demo world (keeps the signing key so issued tokens stay valid,
        and the refresh tokens Entra issued: resetting the demo's data does not sign anyone out
        of Microsoft, so the provider's Partner Center connection survives it). Delta tokens issued
        before answer 410 (a synchronization reset): the change history starts again."""
        from .seed import seed_world

        with self.transaction() as tx:
            key, delta_key = tx.meta("signing_key"), tx.meta("delta_key")
            self._conn.execute("DELETE FROM docs WHERE kind != 'refresh_token'")
            self._conn.execute("DELETE FROM meta")
            if key:
                tx.set_meta("signing_key", key)
            tx.set_meta("delta_key", delta_key or secrets.token_hex(32))
            seed_world(tx)
            self._conn.execute("DELETE FROM user_changes")
            tx.set_meta("delta_epoch", secrets.token_hex(8))

    def revoke_refresh_tokens(self, oid: str | None = None) -> int:
        """Tests/demo: revoke a user's refresh tokens (all users' when ``oid`` is None), as an
        administrator revoking sessions in Entra does; redeeming one then fails with
        invalid_grant. Returns how many were revoked."""
        with self.transaction() as tx:
            rows = self._conn.execute("SELECT id, body FROM docs WHERE kind = 'refresh_token'").fetchall()
            doomed = [row[0] for row in rows if oid is None or json.loads(row[1]).get("oid") == oid]
            for doc_id in doomed:
                tx.delete("refresh_token", doc_id)
        return len(doomed)

    # ---------------------------------------------------------------- faults
    def set_faults(self, **faults: Any) -> dict:
        """Switch faults on for every process serving this store (see faults.FaultConfig)."""
        from .faults import FaultConfig

        config = FaultConfig(**faults).to_dict()
        with self.transaction() as tx:
            config["version"] = int(tx.meta("faults", {}).get("version", 0)) + 1
            tx.set_meta("faults", config)
        return config

    def clear_faults(self) -> dict:
        return self.set_faults()

    def close(self) -> None:
        self._conn.close()
