"""Admin consent for Manage Licenses: who may grant it, approval requests, the Microsoft round trip.

Until `Organization.consent_granted_at` is set, the portal makes no Graph call for the
organization. A Global Admin grants consent on Microsoft's admin-consent page; anyone else
with the Licenses capability asks the organization's Global Admins through a ConsentRequest,
which they approve (by granting consent) or deny with a reason. Every step is emailed
through the OutboundMail table.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, select

from opkalla_portal.models import AdminConsentAttempt, ConsentRequest, Organization, PortalUser, utcnow
from opkalla_portal.services.access import Capability, Identity, PermissionDenied, require
from opkalla_portal.services.errors import PortalError
from opkalla_portal.services.mail import queue_mail

CONSENT_CALLBACK_PATH = "/auth/admin-consent"
ATTEMPT_LIFETIME = timedelta(minutes=30)
MAX_JUSTIFICATION = 2000
MAX_REASON = 2000


class ConsentError(PortalError):
    """Bad input or a request that cannot be decided; the message is safe to show."""

    code_default = "consent.refused"


@dataclass(frozen=True)
class PendingRequest:
    id: int
    requester_name: str
    requester_email: str
    justification: str
    created_at: datetime


@dataclass(frozen=True)
class ConsentStatus:
    """What the Manage Licenses page shows about consent for the acting user."""

    granted: bool
    granted_at: datetime | None
    can_grant: bool  # the acting user is a Global Admin
    my_request_status: str  # "" | pending | approved | denied (the user's latest request)
    my_request_reason: str
    pending_requests: tuple[PendingRequest, ...]  # only for Global Admins


def _aware(moment: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes; every stored timestamp is UTC.
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


def _organization(db: Session, identity: Identity) -> Organization:
    organization = db.get(Organization, identity.organization_id)
    if organization is None:
        raise PermissionDenied("Your organization could not be found.")
    return organization


def is_consented(db: Session, identity: Identity) -> bool:
    """Whether the organization granted the portal's Microsoft permissions."""
    require(identity, Capability.LICENSES)
    return _organization(db, identity).consent_granted_at is not None


def consent_status(db: Session, identity: Identity) -> ConsentStatus:
    """Consent, the user's own latest request, and (for Global Admins) the pending requests."""
    require(identity, Capability.LICENSES)
    organization = _organization(db, identity)
    mine = db.exec(
        select(ConsentRequest)
        .where(
            ConsentRequest.organization_id == identity.organization_id,
            ConsentRequest.requested_by_id == identity.user_id,
        )
        .order_by(ConsentRequest.id.desc())
    ).first()
    pending: tuple[PendingRequest, ...] = ()
    if identity.is_global_admin:
        rows = db.exec(
            select(ConsentRequest, PortalUser)
            .join(PortalUser, PortalUser.id == ConsentRequest.requested_by_id)
            .where(ConsentRequest.organization_id == identity.organization_id, ConsentRequest.status == "pending")
            .order_by(ConsentRequest.created_at)
        ).all()
        pending = tuple(
            PendingRequest(r.id, u.display_name, u.email, r.justification, _aware(r.created_at)) for r, u in rows
        )
    return ConsentStatus(
        granted=organization.consent_granted_at is not None,
        granted_at=_aware(organization.consent_granted_at),
        can_grant=identity.is_global_admin,
        my_request_status=mine.status if mine else "",
        my_request_reason=mine.decision_reason if mine else "",
        pending_requests=pending,
    )


def _global_admins(db: Session, organization_id: int) -> list[PortalUser]:
    return list(
        db.exec(
            select(PortalUser).where(
                PortalUser.organization_id == organization_id,
                PortalUser.is_global_admin == True,  # noqa: E712
                PortalUser.status == "active",
            )
        ).all()
    )


def _mail(db: Session, organization_id: int, to: str, subject: str, body: str, kind: str) -> None:
    queue_mail(db, organization_id=organization_id, to=to, subject=subject, body=body, kind=kind)


def request_approval(db: Session, identity: Identity, justification: str, *, portal_url: str) -> ConsentRequest:
    """A non-Global-Admin asks the Global Admins to grant consent; they are emailed."""
    require(identity, Capability.LICENSES)
    text = (justification or "").strip() if isinstance(justification, str) else ""
    if len(text) < 10:
        raise ConsentError("Please explain in a sentence or two why you need access (at least 10 characters).")
    if len(text) > MAX_JUSTIFICATION:
        raise ConsentError(f"Please keep the justification under {MAX_JUSTIFICATION} characters.")
    organization = _organization(db, identity)
    if organization.consent_granted_at is not None:
        raise ConsentError("Consent has already been granted for your organization.")
    already = db.exec(
        select(ConsentRequest).where(
            ConsentRequest.organization_id == identity.organization_id,
            ConsentRequest.requested_by_id == identity.user_id,
            ConsentRequest.status == "pending",
        )
    ).first()
    if already is not None:
        raise ConsentError("Your request is already waiting for your Global Admin.")
    admins = _global_admins(db, identity.organization_id)
    if not admins:
        raise ConsentError("Your organization has no Global Admin in the portal. Contact Opkalla support.")
    record = ConsentRequest(
        organization_id=identity.organization_id, requested_by_id=identity.user_id, justification=text
    )
    db.add(record)
    db.flush()
    for admin in admins:
        _mail(
            db,
            identity.organization_id,
            admin.email,
            f"{identity.display_name} asks you to approve Manage Licenses",
            f"Hello {admin.first_name},\n\n{identity.display_name} ({identity.email}) asks you to grant the "
            f"Opkalla Customer Portal permission to manage licenses for {organization.name}.\n\n"
            f"Justification:\n{text}\n\nApprove or deny the request on the Manage Licenses page:\n"
            f"{portal_url}/manage-licenses\n",
            "consent_request",
        )
    return record


def _pending_request(db: Session, identity: Identity, request_id: object) -> ConsentRequest:
    if not isinstance(request_id, int) or isinstance(request_id, bool):
        raise ConsentError("That request could not be found.")
    record = db.get(ConsentRequest, request_id)
    # Load under the identity's organization: an id from the browser proves nothing.
    if record is None or record.organization_id != identity.organization_id:
        raise ConsentError("That request could not be found.")
    if record.status != "pending":
        raise ConsentError("That request has already been decided.")
    return record


def deny_request(db: Session, identity: Identity, request_id: object, reason: str) -> None:
    """A Global Admin denies a pending request with a reason; the requester is emailed."""
    require(identity, Capability.LICENSES)
    if not identity.is_global_admin:
        raise PermissionDenied("Only a Global Admin can decide consent requests.")
    text = (reason or "").strip() if isinstance(reason, str) else ""
    if not text:
        raise ConsentError("Please give the requester a reason.")
    if len(text) > MAX_REASON:
        raise ConsentError(f"Please keep the reason under {MAX_REASON} characters.")
    record = _pending_request(db, identity, request_id)
    record.status, record.decision_reason = "denied", text
    record.decided_by_id, record.decided_at = identity.user_id, utcnow()
    db.add(record)
    requester = db.get(PortalUser, record.requested_by_id)
    if requester is not None:
        _mail(
            db,
            identity.organization_id,
            requester.email,
            "Your Manage Licenses request was denied",
            f"Hello {requester.first_name},\n\n{identity.display_name} denied your request to grant the "
            f"Opkalla Customer Portal access to manage licenses.\n\nReason:\n{text}\n",
            "consent_decision",
        )


def _hash(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


def begin_admin_consent(db: Session, identity: Identity, *, public_url: str) -> str:
    """Start a Global Admin's trip to Microsoft: the admin-consent URL with a random,
    single-use `state` stored (hashed) for this organization and user. Call on an event loop."""
    from opkalla_portal.services.microsoft_clients import microsoft

    require(identity, Capability.LICENSES)
    if not identity.is_global_admin:
        raise PermissionDenied("Only a Global Admin can grant consent for your organization.")
    state = secrets.token_urlsafe(32)
    db.add(
        AdminConsentAttempt(
            organization_id=identity.organization_id,
            user_id=identity.user_id,
            state_hash=_hash(state),
            expires_at=utcnow() + ATTEMPT_LIFETIME,
        )
    )
    return microsoft().identity.admin_consent_url(identity.tenant_id, public_url + CONSENT_CALLBACK_PATH, state)


@dataclass(frozen=True)
class ConsentOutcome:
    result: str  # granted | declined | invalid
    message: str


def complete_admin_consent(
    db: Session, *, state: str | None, params: dict[str, str], signed_in_user_id: int | None
) -> ConsentOutcome:
    """Microsoft sent the admin back: check the single-use state, then record consent.

    Authorization comes from the stored attempt (organization and user), never from the
    `tenant` Microsoft returns; a tenant that differs from the organization's is refused.
    """
    invalid = ConsentOutcome("invalid", "This consent link is no longer valid. Please start again.")
    if not state or not isinstance(state, str) or len(state) > 200:
        return invalid
    attempt = db.exec(select(AdminConsentAttempt).where(AdminConsentAttempt.state_hash == _hash(state))).first()
    now = utcnow()
    if attempt is None or attempt.used_at is not None:
        return invalid
    attempt.used_at = now
    db.add(attempt)
    if _aware(attempt.expires_at) < now:
        attempt.outcome = "expired"
        return invalid
    if signed_in_user_id != attempt.user_id:
        attempt.outcome = "mismatch"
        return ConsentOutcome("invalid", "Please sign in as the Global Admin who started granting consent.")
    organization = db.get(Organization, attempt.organization_id)
    if params.get("error") or params.get("admin_consent", "").lower() != "true":
        attempt.outcome = "declined"
        return ConsentOutcome("declined", "Consent was not granted, so licenses cannot be managed yet.")
    if organization is None or (params.get("tenant") or "").lower() != organization.tenant_id.lower():
        attempt.outcome = "mismatch"
        return ConsentOutcome(
            "invalid",
            "Consent was granted for a different organization. "
            "Sign in to Microsoft with your organization's Global Admin account.",
        )
    attempt.outcome = "granted"
    organization.consent_granted_at, organization.consent_granted_by_id = now, attempt.user_id
    db.add(organization)
    admin = db.get(PortalUser, attempt.user_id)
    admin_name = admin.display_name if admin else "Your Global Admin"
    pending = db.exec(
        select(ConsentRequest).where(
            ConsentRequest.organization_id == organization.id, ConsentRequest.status == "pending"
        )
    ).all()
    for record in pending:  # consent covers the whole organization: every waiting request is answered
        record.status, record.decided_by_id, record.decided_at = "approved", attempt.user_id, now
        db.add(record)
        requester = db.get(PortalUser, record.requested_by_id)
        if requester is not None:
            _mail(
                db,
                organization.id,
                requester.email,
                "Your Manage Licenses request was approved",
                f"Hello {requester.first_name},\n\n{admin_name} granted consent. You can now assign and "
                "unassign licenses on the Manage Licenses page.\n",
                "consent_decision",
            )
    return ConsentOutcome("granted", "Consent granted. You can now manage your organization's licenses.")


def revoke_recorded_consent(db: Session, identity: Identity) -> None:
    """Microsoft says consent is gone (revoked in Entra): forget it so the pop-up shows again."""
    require(identity, Capability.LICENSES)
    organization = _organization(db, identity)
    organization.consent_granted_at, organization.consent_granted_by_id = None, None
    db.add(organization)
