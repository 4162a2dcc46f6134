"""Database engine, sessions and migrations (Alembic, run programmatically)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

from opkalla_portal.settings import ConfigError, load_settings

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


@cache
def engine_for(url: str) -> Engine:
    if url.startswith("sqlite:///"):
        Path(url[len("sqlite:///") :]).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            # WAL lets readers run beside the one writer; foreign keys are off by default.
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def get_engine() -> Engine:
    return engine_for(load_settings().database_url)


class _HeldConnection(threading.local):
    engine: Engine | None = None
    connection: Any = None  # the DBAPI connection, in autocommit


_held = _HeldConnection()


@cache
def _compiled(statement: Any, engine: Engine) -> tuple[str, tuple[str, ...] | None, list]:
    """The statement's SQL for this database, its parameter order, and each column's
    conversion from the driver's value (as SQLAlchemy applies it: SQLite's text datetimes,
    0/1 booleans, the models' own column types)."""
    dialect = engine.dialect
    compiled = statement.compile(dialect=dialect)
    processors = [
        column.type.dialect_impl(dialect).result_processor(dialect, None) for column in statement.selected_columns
    ]
    return str(compiled), tuple(compiled.positiontup) if compiled.positional else None, processors


def read_row(statement: Any, params: dict[str, Any]) -> tuple | None:
    """The first row of a read-only `statement`, over a DBAPI connection this thread keeps open.

    For the one query every Reflex event runs (the session lookup): checking a pooled
    connection out and back in costs about ten times the query itself (measured on SQLite:
    220 µs a lookup through the pool, about 20 µs here). Each read sees what is committed
    (autocommit; SQLite in WAL mode); values are converted as SQLAlchemy converts them. A
    failure drops the connection and the next call opens another.
    """
    engine = get_engine()
    if _held.engine is not engine or _held.connection is None:
        _forget_held()
        connection = engine.raw_connection()
        if engine.dialect.name != "sqlite":  # a plain SELECT must not leave a transaction open
            connection.driver_connection.autocommit = True
        _held.engine, _held.connection = engine, connection
    sql, positions, processors = _compiled(statement, engine)
    arguments = tuple(params[name] for name in positions) if positions is not None else params
    try:
        cursor = _held.connection.cursor()
        try:
            cursor.execute(sql, arguments)
            row = cursor.fetchone()
        finally:
            cursor.close()
    except Exception:
        _forget_held()
        raise
    if row is None:
        return None
    return tuple(value if convert is None else convert(value) for convert, value in zip(processors, row, strict=True))


def _forget_held() -> None:
    connection, _held.engine, _held.connection = _held.connection, None, None
    if connection is not None:
        try:
            connection.invalidate()  # not back to the pool: its autocommit setting is ours
        except Exception:  # noqa: BLE001 - already broken: nothing to release
            pass


@contextmanager
def session_scope() -> Iterator[Session]:
    """A session that commits on success and rolls back on any error."""
    with Session(get_engine(), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def _alembic_config(url: str) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head_revisions() -> set[str]:
    """Every head: features may add migrations on parallel branches off the same parent."""
    return set(ScriptDirectory.from_config(_alembic_config("sqlite://")).get_heads())


def current_revisions(url: str | None = None) -> set[str]:
    url = url or load_settings().database_url
    with engine_for(url).connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads())


def migrate(url: str | None = None) -> None:
    """Bring the schema to the newest revision; existing data is kept (never recreated)."""
    url = url or load_settings().database_url
    try:
        with engine_for(url).connect():
            pass
    except Exception as error:  # a wrong host, a refused connection, bad credentials
        reason = f"{error.__class__.__name__}: {error}".splitlines()[0]
        raise ConfigError(f"DATABASE_URL cannot be reached: {reason}") from None
    command.upgrade(_alembic_config(url), "heads")
