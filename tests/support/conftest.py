"""Support fixtures: the Microsoft emulator in-process, the portal's clients pointed at it."""

import httpx
import pytest

from opkalla_portal.microsoft import MicrosoftClients
from opkalla_portal.microsoft.emulator.app import build_emulator_app
from opkalla_portal.microsoft.emulator.settings import emulator_settings
from opkalla_portal.microsoft.emulator.store import EmulatorStore
from opkalla_portal.services.microsoft_clients import use_clients


@pytest.fixture
async def emulator_clients():
    app = build_emulator_app(EmulatorStore(":memory:"))
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://emulator")
    clients = MicrosoftClients(emulator_settings("http://emulator"), http=http)
    use_clients(clients)
    yield clients
    await http.aclose()
