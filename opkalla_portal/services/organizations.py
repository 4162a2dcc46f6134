"""Reading an organization within the acting identity's own scope."""

from __future__ import annotations

from sqlmodel import select

from opkalla_portal.db import session_scope
from opkalla_portal.models import Organization
from opkalla_portal.services.access import Identity


def organization_name(identity: Identity) -> str:
    if identity.organization_name:  # resolved with the session
        return identity.organization_name
    with session_scope() as db:
        organization = db.get(Organization, identity.organization_id)
        return organization.name if organization else ""


def owned_row(db, model, raw_id: object, identity: Identity):
    """The `model` row with this id if it belongs to the identity's organization, else None.

    Ids arrive from the browser as anything: a non-number is simply not found.
    """
    try:
        wanted = int(str(raw_id))
    except ValueError:
        return None
    return db.exec(select(model).where(model.id == wanted, model.organization_id == identity.organization_id)).first()
