"""The process's Microsoft clients, configured from the environment.

Where they point is the deployment's choice (opkalla_portal/deployment.py): production reads
the OPKALLA_MS_* variables; the demo points them at the emulator served by the portal itself.
One client set per event loop, because an httpx.AsyncClient belongs to the loop it was created on.
"""

from __future__ import annotations

import asyncio

from opkalla_portal import deployment
from opkalla_portal.microsoft import MicrosoftClients, MicrosoftSettings

_clients: dict[int, MicrosoftClients] = {}


def microsoft_settings() -> MicrosoftSettings:
    return deployment.current().microsoft_settings()


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
