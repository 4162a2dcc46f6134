"""Reading an organization within the acting identity's own scope."""

from __future__ import annotations

from opkalla_portal.db import session_scope
from opkalla_portal.models import Organization
from opkalla_portal.services.access import Identity


def organization_name(identity: Identity) -> str:
    if identity.organization_name:  # resolved with the session
        return identity.organization_name
    with session_scope() as db:
        organization = db.get(Organization, identity.organization_id)
        return organization.name if organization else ""
