"""Fixtures: the seeded portal database plus the emulator on a free port, clients pointed at it."""

from __future__ import annotations

import pytest
import pytest_asyncio
from sqlmodel import select

from tests.microsoft.conftest import clients, emulator_url, fresh, server, settings, store  # noqa: F401

DANA = "dana.whitaker@lakesidedental.onmicrosoft.com"
LUIS = "luis.ortega@lakesidedental.onmicrosoft.com"
PRIYA = "priya.natarajan@lakesidedental.onmicrosoft.com"
TOM = "tom.becker@bayviewlogistics.onmicrosoft.com"


def identity_for(email: str):
    """The Identity the portal would resolve for a persona's session."""
    from opkalla_portal.db import session_scope
    from opkalla_portal.models import Organization, PortalUser
    from opkalla_portal.services.access import Identity

    with session_scope() as db:
        user = db.exec(select(PortalUser).where(PortalUser.email == email)).one()
        organization = db.get(Organization, user.organization_id)
        return Identity(
            user_id=user.id,
            organization_id=organization.id,
            role=user.web_role,
            display_name=user.display_name,
            email=user.email,
            tenant_id=organization.tenant_id,
            is_global_admin=user.is_global_admin,
            is_provider=organization.is_provider,
        )


@pytest_asyncio.fixture
async def ms(clients, fresh):  # noqa: F811
    """`microsoft()` returns clients on a freshly seeded emulator for this test."""
    from opkalla_portal.services.microsoft_clients import use_clients

    use_clients(clients)
    return clients


@pytest.fixture
def portal(seeded):
    return seeded
