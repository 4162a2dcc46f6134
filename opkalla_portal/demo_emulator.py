"""Demo mode's Microsoft: the emulator's routes served on the portal's own port.

Only the wiring lives here; which URLs the clients call is decided by
`services.microsoft_clients` (settings), never by `if demo:` in domain code.
"""

from __future__ import annotations

import os
from functools import lru_cache

from starlette.routing import BaseRoute

from opkalla_portal.settings import PROJECT_DIR, load_settings


@lru_cache(maxsize=1)
def emulator_store():
    """The demo's emulator state (its own SQLite file, kept across restarts)."""
    from opkalla_portal.microsoft.emulator import EmulatorStore

    path = os.environ.get("OPKALLA_EMULATOR_DB") or str(PROJECT_DIR / "data" / "emulator.db")
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    return EmulatorStore(path)


def emulator_routes() -> list[BaseRoute]:
    """The emulator's routes, when demo mode is on; nothing otherwise."""
    if not load_settings().demo_mode:
        return []
    from opkalla_portal.microsoft.emulator import build_emulator_app

    return list(build_emulator_app(emulator_store()).routes)
