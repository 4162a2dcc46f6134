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


def admin_of_large_tenant(store, users: int, email: str, seats: int | None = None) -> tuple[dict, object]:
    """A generated tenant of `users` users (as many seats unless told), with a portal organization that has
    consented and a Global Admin `email`: (the tenant, that admin's identity)."""
    from opkalla_portal.db import session_scope
    from opkalla_portal.microsoft.emulator.large_tenant import generate_large_tenant
    from opkalla_portal.models import Organization, PortalUser

    tenant = generate_large_tenant(store, users=users, seats=users if seats is None else seats)
    with session_scope() as db:
        organization = Organization(
            name=f"Large {users}",
            tenant_id=tenant["tenant_id"],
            consent_granted_at=Organization.model_fields["created_at"].default_factory(),
        )
        db.add(organization)
        db.flush()
        db.add(
            PortalUser(
                organization_id=organization.id,
                first_name="Ada",
                last_name="Admin",
                email=email,
                web_role="Work365 Administrator",
                status="active",
                is_global_admin=True,
            )
        )
    return tenant, identity_for(email)
