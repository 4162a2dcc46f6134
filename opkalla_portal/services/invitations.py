"""Registration by invitation: single-use random codes, stored only as their SHA-256.

A code is checked when the link is opened (a clear page for a bad one) and again when the
visitor comes back from Microsoft, where it is redeemed: the Microsoft account must be in
the customer's tenant and carry the invited email; the portal user is then linked by Entra
object id and tenant id and becomes Active.

Guessing is rate-limited per client IP address through `services.rate_limit`: shared by
every worker through Redis when `REDIS_URL` is set, per process otherwise (the 256-bit codes
make guessing hopeless anyway; the limit stops noisy scanning).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, timedelta

from sqlmodel import Session, select

from opkalla_portal.models import Invitation, Organization, PortalUser, utcnow
from opkalla_portal.services import rate_limit
from opkalla_portal.services.access import Identity
from opkalla_portal.services.audit import record_audit
from opkalla_portal.settings import load_settings

INVITATION_LIFETIME = timedelta(days=7)
MAX_FAILED_CHECKS = 10
FAILED_CHECK_WINDOW_SECONDS = 15 * 60


def hash_code(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def invitation_link(code: str) -> str:
    """The link emailed to the invited person."""
    return f"{load_settings().public_url}/register?code={code}"


def create_invitation(db: Session, *, user: PortalUser, created_by: Identity) -> str:
    """A new invitation for `user` (earlier unused ones are revoked); returns the code, shown only once."""
    now = utcnow()
    for earlier in db.exec(
        select(Invitation).where(
            Invitation.user_id == user.id,
            Invitation.used_at == None,  # noqa: E711
            Invitation.revoked_at.is_(None),
        )
    ).all():
        earlier.revoked_at = now
        db.add(earlier)
    code = secrets.token_urlsafe(32)
    db.add(
        Invitation(
            organization_id=user.organization_id,
            user_id=user.id,
            code_hash=hash_code(code),
            created_by_id=created_by.user_id,
            created_at=now,
            expires_at=now + INVITATION_LIFETIME,
        )
    )
    db.flush()
    return code


def revoke_open_invitations(db: Session, user_id: int) -> None:
    """Unused invitations of a user stop working (on deactivation)."""
    for invitation in db.exec(
        select(Invitation).where(
            Invitation.user_id == user_id,
            Invitation.used_at == None,  # noqa: E711
            Invitation.revoked_at.is_(None),
        )
    ).all():
        invitation.revoked_at = utcnow()
        db.add(invitation)


def _aware(moment):

    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class InvitationCheck:
    invitation: Invitation | None
    problem: str | None  # None when the link may be used; else a key of sign_in.PROBLEMS


def check_invitation(db: Session, code: object) -> InvitationCheck:
    """Is this code a live invitation? Changes nothing."""
    if not isinstance(code, str) or not 20 <= len(code) <= 100:
        return InvitationCheck(None, "invitation_invalid")
    invitation = db.exec(select(Invitation).where(Invitation.code_hash == hash_code(code))).first()
    return InvitationCheck(invitation, _problem(db, invitation))


def _problem(db: Session, invitation: Invitation | None) -> str | None:
    if invitation is None:
        return "invitation_invalid"
    if invitation.used_at is not None:
        return "invitation_used"
    if invitation.revoked_at is not None:
        return "invitation_revoked"
    if _aware(invitation.expires_at) <= utcnow():
        return "invitation_expired"
    user = db.get(PortalUser, invitation.user_id)
    if user is None or user.status == "active":
        return "invitation_used"
    return None


def redeem_invitation(
    db: Session, invitation_id: int, *, object_id: str, tenant_id: str, email: str, is_global_admin: bool
) -> tuple[PortalUser | None, str | None]:
    """Link the invited user to this Microsoft account and activate them; (user, None) or (None, problem)."""
    invitation = db.get(Invitation, invitation_id)
    problem = _problem(db, invitation)
    if problem:
        return None, problem
    user = db.get(PortalUser, invitation.user_id)
    organization = db.get(Organization, invitation.organization_id)
    if organization is None or tenant_id.lower() != organization.tenant_id.lower():
        return None, "invitation_foreign_tenant"
    if email.strip().lower() != user.email.strip().lower():
        return None, "invitation_email_mismatch"
    already = db.exec(
        select(PortalUser).where(
            PortalUser.entra_object_id == object_id, PortalUser.entra_tenant_id == tenant_id, PortalUser.id != user.id
        )
    ).first()
    if already is not None:
        return None, "invitation_already_linked"
    before = {"status": user.status, "entra_object_id": user.entra_object_id}
    user.entra_object_id, user.entra_tenant_id = object_id, tenant_id
    user.status = "active"
    user.is_global_admin = is_global_admin
    user.updated_at = utcnow()
    invitation.used_at = utcnow()
    db.add(user)
    db.add(invitation)
    record_audit(
        db,
        None,
        "invitation.redeemed",
        f"user:{user.id} {user.email}",
        before,
        {"status": "active", "entra_object_id": object_id, "entra_tenant_id": tenant_id},
        organization_id=user.organization_id,
        actor_name=user.display_name,
    )
    return user, None


def _guess_key(client: str) -> str:
    return f"invitation-guess:{client}"


def too_many_failed_checks(client: str) -> bool:
    """Has this client address guessed wrong too often lately?"""
    return rate_limit.count(_guess_key(client)) >= MAX_FAILED_CHECKS


def note_failed_check(client: str) -> None:
    rate_limit.hit(_guess_key(client), MAX_FAILED_CHECKS, FAILED_CHECK_WINDOW_SECONDS)


def reset_failed_checks() -> None:
    """Tests: forget every failure counted in this process."""
    rate_limit.reset_local()
