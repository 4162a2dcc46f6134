"""The demo provider's Partner Center connection, made through the real flow at `make demo`."""

from __future__ import annotations

from sqlmodel import select

from opkalla_portal.db import session_scope
from opkalla_portal.demo import demo_data
from opkalla_portal.microsoft.emulator.automation import sign_in_as
from opkalla_portal.models import Organization, PortalUser
from opkalla_portal.roles import ROLE_ADMINISTRATOR
from opkalla_portal.services.microsoft_clients import microsoft
from opkalla_portal.services.partner_connection import begin_connect, complete_connect, connection_status
from opkalla_portal.services.sessions import create_session, resolve_session, revoke_session


async def connect_demo_provider() -> bool:
    """Connect the demo provider's administrator through the real flow against the emulator
    (its sign-in page is driven as a browser would, choosing that persona, MFA done).
    Returns False when there is nothing to do (already connected, or no provider admin)."""
    with session_scope() as db:
        provider = db.exec(select(Organization).where(Organization.is_provider == True)).first()  # noqa: E712
        admin = (
            provider
            and db.exec(
                select(PortalUser).where(
                    PortalUser.organization_id == provider.id, PortalUser.web_role == ROLE_ADMINISTRATOR
                )
            ).first()
        )
        if not admin:
            return False
        persona = next(p for p in demo_data.PERSONAS if p.email == admin.email)
        token = create_session(db, admin)
    try:
        with session_scope() as db:
            identity = resolve_session(db, token)
        if connection_status(identity).connected:
            return False
        auth_uri = await begin_connect(identity)
        params = await sign_in_as(microsoft().http, auth_uri, persona.display_name)
        return await complete_connect(identity, params) == "connected"
    finally:
        with session_scope() as db:
            revoke_session(db, token)  # the session only existed to act as the administrator
