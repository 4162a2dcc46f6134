"""Database engine, sessions and migrations (Alembic, run programmatically)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

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
