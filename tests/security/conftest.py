"""Security fixtures: the seeded demo database and session cookies for each persona."""

from __future__ import annotations

import pytest

PERSONAS = {
    "dana": "dana.whitaker@lakesidedental.onmicrosoft.com",  # Lakeside, Administrator
    "luis": "luis.ortega@lakesidedental.onmicrosoft.com",  # Lakeside, Subscription Manager
    "priya": "priya.natarajan@lakesidedental.onmicrosoft.com",  # Lakeside, Finance Manager
    "tom": "tom.becker@bayviewlogistics.onmicrosoft.com",  # Bayview, Administrator
    "riley": "riley.morgan@opkalla.onmicrosoft.com",  # provider staff
}


@pytest.fixture
def cookies(seeded) -> dict[str, str]:
    """A live session cookie value per persona."""
    from sqlmodel import select

    from opkalla_portal.db import session_scope
    from opkalla_portal.models import PortalUser
    from opkalla_portal.services.sessions import create_session

    tokens = {}
    with session_scope() as db:
        for name, email in PERSONAS.items():
            user = db.exec(select(PortalUser).where(PortalUser.email == email)).first()
            if user is not None:  # the provider's staff arrive with a later seed
                tokens[name] = create_session(db, user)
    return tokens


@pytest.fixture(scope="session")
def _emulator_server(tmp_path_factory):
    """The Microsoft emulator on a real port: handlers that call Microsoft get answers."""
    from opkalla_portal.microsoft.emulator import EmulatorStore, build_emulator_app
    from tests.microsoft.conftest import ServerThread, free_port

    store = EmulatorStore(str(tmp_path_factory.mktemp("emulator") / "emulator.db"))
    store.reset()
    port = free_port()
    thread = ServerThread(build_emulator_app(store), port)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    thread.stop()


@pytest.fixture(autouse=True)
def _microsoft_is_the_emulator(_emulator_server, monkeypatch):
    """In demo mode the clients follow OPKALLA_PUBLIC_URL to the emulator: point it there."""
    monkeypatch.setenv("OPKALLA_PUBLIC_URL", _emulator_server)
    monkeypatch.setenv("OPKALLA_DEMO", "1")
    from opkalla_portal.services import microsoft_clients

    microsoft_clients._clients.clear()
    yield
    microsoft_clients._clients.clear()
