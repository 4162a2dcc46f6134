"""ASGI entry point for process-per-worker servers (granian, uvicorn --workers):

    OPKALLA_EMULATOR_DB=emulator.db granian --interface asgi --workers 2 \\
        opkalla_portal.microsoft.emulator.asgi:app

Every worker opens the same SQLite file; state is shared through it.
"""

from __future__ import annotations

import os

from .app import build_emulator_app
from .store import EmulatorStore

app = build_emulator_app(EmulatorStore(os.environ.get("OPKALLA_EMULATOR_DB", "emulator.db")))
