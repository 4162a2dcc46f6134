"""The process's Microsoft clients, configured from the environment.

In demo mode (and unless OPKALLA_MS_GRAPH_URL says otherwise) they point at the emulator
served by the portal itself; in production at Microsoft. One client set per event loop,
because an httpx.AsyncClient belongs to the loop it was created on.
"""

from __future__ import annotations

import asyncio
import os

from opkalla_portal.microsoft import MicrosoftClients, MicrosoftSettings
from opkalla_portal.settings import load_settings

_clients: dict[int, MicrosoftClients] = {}


def microsoft_settings() -> MicrosoftSettings:
    settings = load_settings()
    if settings.demo_mode and not os.environ.get("OPKALLA_MS_GRAPH_URL"):
        return MicrosoftSettings.for_emulator(settings.public_url)
    return MicrosoftSettings.from_env()


def microsoft() -> MicrosoftClients:
    """The clients for the running event loop (created on first use)."""
    loop_id = id(asyncio.get_running_loop())
    clients = _clients.get(loop_id)
    if clients is None:
        clients = _clients[loop_id] = MicrosoftClients(microsoft_settings())
    return clients


def use_clients(clients: MicrosoftClients) -> None:
    """Tests: make `microsoft()` return these clients on the running loop."""
    _clients[id(asyncio.get_running_loop())] = clients
