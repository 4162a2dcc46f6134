"""Fixtures for sign-in, users, profile and company: the seeded portal database, identities
for each persona, and the Microsoft emulator on a real port (MSAL needs real HTTP)."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import pytest_asyncio
from sqlmodel import select

from opkalla_portal.microsoft import MicrosoftClients
from opkalla_portal.microsoft.emulator import EmulatorStore, build_emulator_app
from opkalla_portal.microsoft.emulator.settings import emulator_settings
from tests.microsoft.conftest import ServerThread, free_port

DANA = "dana.whitaker@lakesidedental.onmicrosoft.com"
LUIS = "luis.ortega@lakesidedental.onmicrosoft.com"
PRIYA = "priya.natarajan@lakesidedental.onmicrosoft.com"
MARCUS = "marcus.reed@lakesidedental.onmicrosoft.com"
EMILY = "emily.chen@lakesidedental.onmicrosoft.com"
TOM = "tom.becker@bayviewlogistics.onmicrosoft.com"


def identity_for(email: str):
    """The Identity a session of this persona resolves to."""
    from opkalla_portal.db import session_scope
    from opkalla_portal.models import PortalUser
    from opkalla_portal.services.sessions import create_session, resolve_session

    with session_scope() as db:
        user = db.exec(select(PortalUser).where(PortalUser.email == email)).one()
        token = create_session(db, user)
    with session_scope() as db:
        return resolve_session(db, token)


def user_row(email: str):
    from opkalla_portal.db import session_scope
    from opkalla_portal.models import PortalUser

    with session_scope() as db:
        return db.exec(select(PortalUser).where(PortalUser.email == email)).one()


@pytest.fixture(scope="session")
def emulator_store(tmp_path_factory) -> EmulatorStore:
    return EmulatorStore(str(tmp_path_factory.mktemp("emulator5") / "emulator.db"))


@pytest.fixture(scope="session")
def emulator_server(emulator_store):
    port = free_port()
    thread = ServerThread(build_emulator_app(emulator_store), port)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    thread.stop()


@pytest_asyncio.fixture
async def ms(emulator_server):
    """The portal's Microsoft clients for this test's event loop, pointed at the emulator."""
    from opkalla_portal.services.invitations import reset_failed_checks
    from opkalla_portal.services.microsoft_clients import use_clients

    reset_failed_checks()
    async with MicrosoftClients(emulator_settings(emulator_server, timeout_seconds=5.0)) as clients:
        use_clients(clients)
        yield clients


def form_fields(page: str) -> dict[str, str]:
    return {m[0]: unescape(m[1]) for m in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page)}


async def pick_persona(auth_uri: str, name: str | None, *, cancel: bool = False) -> dict[str, str]:
    """Click a persona (or Cancel) on the emulator's account picker; returns what it posts back."""
    async with httpx.AsyncClient() as http:
        page = await http.get(auth_uri)
        assert page.status_code == 200, page.text
        buttons = {
            unescape(label): value
            for value, label in re.findall(r'name="persona" value="([^"]+)" aria-label="([^"]+)"', page.text)
        }
        data = form_fields(page.text)
        data.update({"action": "cancel"} if cancel else {"persona": buttons[name]})
        response = await http.post(auth_uri.split("?")[0], data=data)
    if response.status_code == 302:
        return {k: v[0] for k, v in parse_qs(urlsplit(response.headers["location"]).query).items()}
    return form_fields(response.text)  # form_post: the auto-submitting form's fields
