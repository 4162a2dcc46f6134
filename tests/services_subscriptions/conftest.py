"""Fixtures: the seeded portal database, an emulator on a free port, clients pointed at it,
and identities for the demo personas."""

from __future__ import annotations

import pytest
import pytest_asyncio
from sqlmodel import select

from opkalla_portal.microsoft import MicrosoftClients
from opkalla_portal.microsoft.emulator import EmulatorStore, build_emulator_app
from opkalla_portal.microsoft.emulator.settings import emulator_settings
from opkalla_portal.microsoft.http import RetryPolicy
from opkalla_portal.services.access import Identity
from opkalla_portal.services.microsoft_clients import use_clients
from tests.microsoft.conftest import ServerThread, free_port

LUIS = "luis.ortega@lakesidedental.onmicrosoft.com"
DANA = "dana.whitaker@lakesidedental.onmicrosoft.com"
TOM = "tom.becker@bayviewlogistics.onmicrosoft.com"
PRIYA = "priya.natarajan@lakesidedental.onmicrosoft.com"


@pytest.fixture(scope="session")
def emulator_store(tmp_path_factory) -> EmulatorStore:
    return EmulatorStore(str(tmp_path_factory.mktemp("emulator") / "emulator.db"))


@pytest.fixture(scope="session")
def emulator_server(emulator_store):
    port = free_port()
    thread = ServerThread(build_emulator_app(emulator_store), port)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    thread.stop()


async def _no_sleep(seconds: float) -> None:
    return None


@pytest_asyncio.fixture
async def ms(emulator_server, emulator_store, seeded):
    """Clients on a freshly reset emulator, installed as the portal's `microsoft()`."""
    emulator_store.clear_faults()
    emulator_store.reset()
    settings = emulator_settings(emulator_server, timeout_seconds=5.0)
    async with MicrosoftClients(settings, retry=RetryPolicy(max_attempts=2, sleep=_no_sleep)) as clients:
        use_clients(clients)
        yield clients


def identity_for(email: str) -> Identity:
    from opkalla_portal.db import session_scope
    from opkalla_portal.models import Organization, PortalUser

    with session_scope() as db:
        user = db.exec(select(PortalUser).where(PortalUser.email == email)).one()
        org = db.get(Organization, user.organization_id)
        return Identity(
            user_id=user.id,
            organization_id=org.id,
            role=user.web_role,
            display_name=user.display_name,
            email=user.email,
            tenant_id=org.tenant_id,
            is_global_admin=user.is_global_admin,
        )
