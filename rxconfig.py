"""Reflex configuration: offline-friendly, explicit plugins, settings from the environment."""

import os
import sys

import reflex as rx

from opkalla_portal.settings import ConfigError, load_settings

try:
    settings = load_settings()
except ConfigError as error:  # one clear line naming the setting, not a traceback
    print(f"Configuration error: {error}", file=sys.stderr)
    raise SystemExit(2) from None

_port = int(os.environ.get("PORT", "3000"))
# `reflex run --backend-only` (one scale-out worker per port, see docs/scale-out.md) refuses
# a configured frontend port; the worker's port comes from --backend-port.
_backend_only = "--backend-only" in sys.argv
# Demo mode listens on this machine only unless OPKALLA_HOST says otherwise (its emulator and
# persona picker then ask other machines for the demo passcode; see demo/emulator.py).
_host = os.environ.get("OPKALLA_HOST", "").strip() or ("127.0.0.1" if settings.demo_mode else "0.0.0.0")

# Without Redis, tabs' states live in the worker's memory. Reflex's default keeps them on disk
# too: after every event it pickles the changed states to .states/ and a thread re-lists
# that directory to purge old files, which cost about a quarter of the worker's CPU under
# the load bench (docs/performance.md). A tab whose worker restarted reconnects and loads
# its page again; sign-in sessions are in the database either way. With REDIS_URL, Redis.
_state_manager = {} if settings.redis_url else {"state_manager_mode": rx.constants.StateManagerMode.MEMORY}
# With Redis, a worker keeps a tab's lock and states between its events (Reflex's opportunistic lock): a
# navigation is three events, and without it each locks, loads, saves and unlocks in Redis. p95 at 100
# sessions on two workers 120–340 ms with it, 410–520 ms without (docs/performance.md). Safe since the portal's
# fix for locks stranded by cancelled events (state/redis_lock.py); REFLEX_OPLOCK_ENABLED=0 turns it off.
if settings.redis_url:
    os.environ.setdefault("REFLEX_OPLOCK_ENABLED", "true")

config = rx.Config(
    app_name="opkalla_portal",
    db_url=settings.database_url,
    redis_url=settings.redis_url,
    telemetry_enabled=False,
    show_built_with_reflex=False,
    frontend_port=None if _backend_only else _port,
    backend_port=None if _backend_only else _port,
    backend_host=_host,
    api_url=settings.public_url,
    deploy_url=settings.public_url,
    cors_allowed_origins=[settings.public_url],
    plugins=[rx.plugins.RadixThemesPlugin(theme=rx.theme(accent_color="indigo", gray_color="slate", radius="medium"))],
    disable_plugins=[rx.plugins.SitemapPlugin],
    **_state_manager,
)
