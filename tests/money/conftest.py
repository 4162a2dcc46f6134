"""Fixtures for the money tests: the seeded portal, an emulator on a free port, identities."""

from __future__ import annotations

import pytest
import pytest_asyncio
from sqlmodel import select

from opkalla_portal.microsoft import MicrosoftClients
from opkalla_portal.microsoft.emulator import EmulatorStore, build_emulator_app
from opkalla_portal.microsoft.emulator.settings import emulator_settings
from opkalla_portal.microsoft.http import RetryPolicy
from tests.microsoft.conftest import ServerThread, free_port

ADMIN = "dana.whitaker@lakesidedental.onmicrosoft.com"
SUBSCRIPTION_MANAGER = "luis.ortega@lakesidedental.onmicrosoft.com"
FINANCE = "priya.natarajan@lakesidedental.onmicrosoft.com"
OTHER_ADMIN = "tom.becker@bayviewlogistics.onmicrosoft.com"


@pytest.fixture(scope="session")
def emulator_store(tmp_path_factory) -> EmulatorStore:
    return EmulatorStore(str(tmp_path_factory.mktemp("money-emulator") / "emulator.db"))


@pytest.fixture(scope="session")
def emulator_server(emulator_store):
    port = free_port()
    thread = ServerThread(build_emulator_app(emulator_store), port)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    thread.stop()


@pytest_asyncio.fixture
async def microsoft(emulator_server, emulator_store):
    """`services.microsoft_clients.microsoft()` answers with clients pointed at the emulator."""
    from opkalla_portal.services.microsoft_clients import use_clients

    emulator_store.clear_faults()
    settings = emulator_settings(emulator_server, timeout_seconds=5.0)
    async with MicrosoftClients(settings, retry=RetryPolicy(max_attempts=1)) as clients:
        use_clients(clients)
        yield emulator_store


@pytest_asyncio.fixture
async def partner_connected(microsoft, seeded):
    """The provider's administrator has connected Partner Center (App+User, MFA) through the
    real flow against the emulator, as `cli prepare` does for the demo."""
    from opkalla_portal.demo.partner_center import connect_demo_provider

    assert await connect_demo_provider()
    return microsoft


@pytest.fixture
def identity_of(seeded):
    """identity_of(email) -> the Identity the server would resolve for that persona."""
    from opkalla_portal.db import session_scope
    from opkalla_portal.models import PortalUser
    from opkalla_portal.services.sessions import create_session, resolve_session

    def resolve(email: str):
        with session_scope() as db:
            user = db.exec(select(PortalUser).where(PortalUser.email == email)).one()
            token = create_session(db, user)
        with session_scope() as db:
            return resolve_session(db, token)

    return resolve


@pytest.fixture
def state_of(monkeypatch, tmp_path):
    """state_of(StateClass, identity) -> an instance whose server-side identity is `identity`."""
    import reflex as rx

    # Importing the app mounts the demo emulator: keep its database out of the project folder.
    monkeypatch.setenv("OPKALLA_EMULATOR_DB", str(tmp_path / "app-emulator.db"))
    import opkalla_portal.opkalla_portal  # noqa: F401  (registers every state)
    from opkalla_portal.state.base import PortalState

    def make(state_class, identity):
        monkeypatch.setattr(PortalState, "_identity", lambda self: identity)
        root = rx.State(_reflex_internal_init=True)
        return root.get_substate(state_class.get_full_name().split(".")[1:])

    return make


def call(state, handler_name: str, *args):
    """Run an event handler's function as the server would (sync or async generators too)."""
    handler = getattr(type(state), handler_name)
    return handler.fn(state, *args)
