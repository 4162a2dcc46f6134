"""My Agreements: the customer's Microsoft Customer Agreement, accepted and pending.

Administrators and Finance Managers read them; only an Administrator accepts a pending one.
Acceptance is claimed in the database first (a conditional update), so it is recorded once
even when two administrators click at the same moment, then sent to Partner Center; if
Microsoft refuses, the claim is released and the agreement stays pending. Partner Center
accepts this call only App+User with MFA: it goes through services/partner_connection.py.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlmodel import select

from opkalla_portal import clock
from opkalla_portal.db import session_scope
from opkalla_portal.models import Agreement, AuditEvent
from opkalla_portal.roles import ROLE_ADMINISTRATOR
from opkalla_portal.services.access import Capability, Identity, PermissionDenied, require
from opkalla_portal.services.errors import PortalError, microsoft_errors

ACCEPTED, PENDING = "accepted", "pending"
TABS = {ACCEPTED: "Accepted Agreements", PENDING: "Pending Agreements"}


class AgreementNotFound(PortalError, LookupError):
    code_default = "agreement.not_found"

    def __init__(self, agreement_id: object = None) -> None:
        super().__init__("That agreement was not found.")
        self.agreement_id = agreement_id


class AgreementAlreadyAccepted(PortalError):
    code_default = "agreement.already_accepted"

    def __init__(self, agreement_id: object = None) -> None:
        super().__init__("This agreement has already been accepted.")
        self.agreement_id = agreement_id


@dataclass(frozen=True)
class AgreementView:
    id: int
    name: str
    version: str
    status: str
    template_id: str
    accepted_by_name: str
    accepted_by_email: str
    accepted_at: datetime | None
    created_at: datetime


def can_accept(identity: Identity | None) -> bool:
    """Accepting binds the company, so only its Administrators may."""
    return identity is not None and identity.role == ROLE_ADMINISTRATOR


def _view(agreement: Agreement) -> AgreementView:
    return AgreementView(
        agreement.id or 0,
        agreement.name,
        agreement.version,
        agreement.status,
        agreement.template_id,
        agreement.accepted_by_name,
        agreement.accepted_by_email,
        agreement.accepted_at,
        agreement.created_at,
    )


def list_agreements(identity: Identity, status: str = ACCEPTED) -> list[AgreementView]:
    """The customer's agreements with this status, newest version first."""
    require(identity, Capability.AGREEMENTS)
    if status not in TABS:
        status = ACCEPTED
    with session_scope() as db:
        rows = db.exec(
            select(Agreement).where(Agreement.organization_id == identity.organization_id, Agreement.status == status)
        ).all()
        return sorted((_view(row) for row in rows), key=lambda a: (a.version, a.id), reverse=True)


def get_agreement(identity: Identity, agreement_id: object) -> AgreementView:
    require(identity, Capability.AGREEMENTS)
    if not isinstance(agreement_id, int) or isinstance(agreement_id, bool):
        raise AgreementNotFound(agreement_id)
    with session_scope() as db:
        row = db.exec(
            select(Agreement).where(Agreement.id == agreement_id, Agreement.organization_id == identity.organization_id)
        ).first()
        if row is None:
            raise AgreementNotFound(agreement_id)
        return _view(row)


async def accept_agreement(identity: Identity, agreement_id: object) -> AgreementView:
    """Record the acting Administrator's acceptance once and send it to Partner Center."""
    require(identity, Capability.AGREEMENTS)
    if not can_accept(identity):
        raise PermissionDenied("Only a Work365 Administrator can accept an agreement.")
    agreement = get_agreement(identity, agreement_id)
    now = clock.now()
    # The signer is who signed in (the ID token's name and email), never the editable Profile.
    first, _, last = identity.display_name.partition(" ")
    email = identity.email
    with session_scope() as db:
        claimed = db.exec(
            update(Agreement)
            .where(
                Agreement.id == agreement.id,
                Agreement.organization_id == identity.organization_id,
                Agreement.status == PENDING,
            )
            .values(
                status=ACCEPTED,
                accepted_by_name=f"{first} {last}".strip(),
                accepted_by_email=email,
                accepted_by_user_id=identity.user_id,
                accepted_at=now,
            )
        ).rowcount
    if not claimed:
        raise AgreementAlreadyAccepted(agreement.id)
    # App+User only (Partner Center REST reference): sent through the provider's delegated
    # connection, which raises NotConnected (a MicrosoftError with a message) when it is missing;
    # any Microsoft failure leaves as a MicrosoftFailure (its cause chained).
    from opkalla_portal.services.partner_connection import partner_center_as_user

    try:
        with microsoft_errors():
            await partner_center_as_user().confirm_agreement(
                identity.tenant_id,
                first_name=first,
                last_name=last or first,
                email=email,
                template_id=agreement.template_id,
                date_agreed=now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            )
    except BaseException:
        with session_scope() as db:
            db.exec(
                update(Agreement)
                .where(
                    Agreement.id == agreement.id,
                    Agreement.status == ACCEPTED,
                    Agreement.accepted_by_user_id == identity.user_id,
                )
                .values(
                    status=PENDING,
                    accepted_by_name="",
                    accepted_by_email="",
                    accepted_by_user_id=None,
                    accepted_at=None,
                )
            )
        raise
    with session_scope() as db:
        db.add(
            AuditEvent(
                organization_id=identity.organization_id,
                actor_user_id=identity.user_id,
                actor_name=identity.display_name,
                action="agreement.accepted",
                target=f"{agreement.name} {agreement.version}",
                after_json=json.dumps({"accepted_by_email": email, "accepted_at": now.isoformat()}),
            )
        )
    return get_agreement(identity, agreement.id)
