"""Portal settings, read once from the environment and validated with one clear line each."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
DEFAULT_SQLITE_PATH = PROJECT_DIR / "data" / "portal.db"


class ConfigError(RuntimeError):
    """A setting is missing or malformed; the message names the setting."""


@dataclass(frozen=True)
class Settings:
    database_url: str
    demo_mode: bool
    public_url: str  # the portal's own origin, e.g. http://localhost:3000
    session_idle_minutes: int
    redis_url: str | None

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def secure_cookies(self) -> bool:
        """Secure cookies everywhere but plain-http localhost (browsers drop them there)."""
        return not self.public_url.startswith(("http://localhost", "http://127.0.0.1"))


def _database_url() -> str:
    url = os.environ.get("DATABASE_URL", "").strip()
    if not url:
        return f"sqlite:///{DEFAULT_SQLITE_PATH}"
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    if not url.startswith(("sqlite:///", "postgresql+psycopg://")):
        raise ConfigError("DATABASE_URL is not valid: expected sqlite:///PATH or postgresql://USER@HOST:PORT/DB")
    return url


def _int(name: str, default: int, minimum: int = 1) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value}")
    return value


def load_settings() -> Settings:
    """Read the environment; raises ConfigError naming the first bad setting."""
    port = _int("PORT", 3000)
    public_url = os.environ.get("OPKALLA_PUBLIC_URL", f"http://localhost:{port}").rstrip("/")
    if not public_url.startswith(("http://", "https://")):
        raise ConfigError(f"OPKALLA_PUBLIC_URL must start with http:// or https://, got {public_url!r}")
    demo = os.environ.get("OPKALLA_DEMO", "1").strip().lower()
    if demo not in {"0", "1", "true", "false", "yes", "no"}:
        raise ConfigError(f"OPKALLA_DEMO must be 1 or 0, got {demo!r}")
    redis_url = os.environ.get("REDIS_URL", "").strip() or None
    if redis_url and not redis_url.startswith(("redis://", "rediss://")):
        raise ConfigError(f"REDIS_URL must start with redis://, got {redis_url!r}")
    return Settings(
        database_url=_database_url(),
        demo_mode=demo in {"1", "true", "yes"},
        public_url=public_url,
        session_idle_minutes=_int("OPKALLA_SESSION_IDLE_MINUTES", 60),
        redis_url=redis_url,
    )
