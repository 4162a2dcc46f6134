"""Manage Users: the customer's portal users, invitations, web roles and access.

Every function takes the acting identity, requires Capability.USERS and works only inside
the identity's own organization (a user id from another customer is simply "not found").
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from sqlalchemy import func, or_
from sqlmodel import Session, select

from opkalla_portal import deployment
from opkalla_portal.db import session_scope
from opkalla_portal.models import Organization, OutboundMail, PortalUser, utcnow
from opkalla_portal.roles import ROLE_ADMINISTRATOR
from opkalla_portal.services.access import WEB_ROLES, Capability, Identity, require
from opkalla_portal.services.audit import record_audit
from opkalla_portal.services.errors import PortalError
from opkalla_portal.services.invitations import (
    INVITATION_LIFETIME,
    create_invitation,
    invitation_link,
    revoke_open_invitations,
)
from opkalla_portal.services.mail import queue_mail
from opkalla_portal.services.sessions import revoke_user_sessions
from opkalla_portal.services.validation import check_email, check_text, clean, is_ascii_digits, raise_if_any
from opkalla_portal.settings import load_settings

LIST_LIMIT = 200  # rows per list sent to the browser; search narrows beyond that


class UserNotFound(PortalError, LookupError):
    """No such user in the acting identity's organization."""

    code_default = "user.not_found"


class NotAllowed(PortalError, ValueError):
    """A rule forbids this change (e.g. removing the last Administrator); the message is safe to show."""

    code_default = "user.not_allowed"


@dataclass(frozen=True)
class UserSummary:
    id: int
    name: str
    email: str
    role: str
    status: str  # Active | Inactive | Invitation sent


def _status_label(user: PortalUser) -> str:
    return {"active": "Active", "invited": "Invitation sent"}.get(user.status, "Inactive")


def _summary(user: PortalUser) -> dict:
    return asdict(UserSummary(user.id, user.display_name, user.email, user.web_role or "", _status_label(user)))


def _load(db: Session, identity: Identity, user_id: object) -> PortalUser:
    """A user of the identity's organization by id (raw from the browser), or UserNotFound."""
    if is_ascii_digits(user_id) and len(user_id) <= 18:
        user_id = int(user_id)
    if not isinstance(user_id, int) or isinstance(user_id, bool) or user_id <= 0:
        raise UserNotFound("That user was not found.")
    user = db.get(PortalUser, user_id)
    if user is None or user.organization_id != identity.organization_id:
        raise UserNotFound("That user was not found.")
    return user


def list_users(identity: Identity, search: object = "") -> dict[str, list[dict]]:
    """Active and Inactive Portal Users (invited users count as inactive until they register)."""
    require(identity, Capability.USERS)
    text = clean(search)[:100].lower()
    with session_scope() as db:
        query = select(PortalUser).where(PortalUser.organization_id == identity.organization_id)
        if text:
            like = f"%{text.replace('%', '').replace('_', '')}%"
            full_name = func.lower(PortalUser.first_name + " " + PortalUser.last_name)
            query = query.where(
                or_(
                    full_name.like(like),
                    func.lower(PortalUser.email).like(like),
                    func.lower(func.coalesce(PortalUser.web_role, "")).like(like),
                )
            )
        users = db.exec(query.order_by(PortalUser.first_name, PortalUser.last_name)).all()
    active = [_summary(u) for u in users if u.status == "active"]
    inactive = [_summary(u) for u in users if u.status != "active"]
    return {"active": active[:LIST_LIMIT], "inactive": inactive[:LIST_LIMIT]}


def invite_user(identity: Identity, first_name: object, last_name: object, email: object) -> int:
    """Create an inactive user account (Invite User); returns its id. Raises ValidationFailed."""
    require(identity, Capability.USERS)
    first, last, address = clean(first_name), clean(last_name), clean(email).lower()
    errors = {
        "first_name": check_text(first, "First Name", max_length=100, required=True),
        "last_name": check_text(last, "Last Name", max_length=100, required=True),
        "email": check_email(address, "Office 365 Email ID"),
    }
    with session_scope() as db:
        if (
            not errors["email"]
            and db.exec(
                select(PortalUser.id).where(
                    PortalUser.organization_id == identity.organization_id, func.lower(PortalUser.email) == address
                )
            ).first()
            is not None
        ):
            errors["email"] = "A portal user with this email already exists."
        raise_if_any(errors)
        organization = db.get(Organization, identity.organization_id)
        user = PortalUser(
            organization_id=identity.organization_id,
            first_name=first,
            last_name=last,
            email=address,
            organization_name=organization.name if organization else "",
            status="inactive",
        )
        db.add(user)
        db.flush()
        record_audit(
            db,
            identity,
            "user.invited",
            f"user:{user.id} {address}",
            None,
            {"first_name": first, "last_name": last, "email": address, "status": "inactive"},
        )
        return user.id


def get_user(identity: Identity, user_id: object) -> dict:
    """What User Edit shows about one user."""
    require(identity, Capability.USERS)
    with session_scope() as db:
        user = _load(db, identity, user_id)
        return {
            **_summary(user),
            "first_name": user.first_name,
            "last_name": user.last_name,
            "title": user.title,
            "business_phone": user.business_phone,
            "is_self": user.id == identity.user_id,
            "last_sign_in": user.last_sign_in_at.strftime("%b %d, %Y %H:%M UTC") if user.last_sign_in_at else "",
        }


def _active_admins(db: Session, organization_id: int) -> int:
    return len(
        db.exec(
            select(PortalUser.id).where(
                PortalUser.organization_id == organization_id,
                PortalUser.status == "active",
                PortalUser.web_role == ROLE_ADMINISTRATOR,
            )
        ).all()
    )


def _is_last_admin(db: Session, user: PortalUser) -> bool:
    return (
        user.status == "active"
        and user.web_role == ROLE_ADMINISTRATOR
        and _active_admins(db, user.organization_id) <= 1
    )


def associate_role(identity: Identity, user_id: object, role: object) -> None:
    """Assign one web role (Associate). Refuses to take the role away from the last Administrator."""
    require(identity, Capability.USERS)
    if role not in WEB_ROLES:
        raise NotAllowed("Choose one of the web roles.")
    with session_scope() as db:
        user = _load(db, identity, user_id)
        if user.web_role == role:
            return
        if role != ROLE_ADMINISTRATOR and _is_last_admin(db, user):
            raise NotAllowed("This is the last Administrator. Make someone else a Work365 Administrator first.")
        before = {"web_role": user.web_role}
        user.web_role = role
        user.updated_at = utcnow()
        db.add(user)
        record_audit(db, identity, "user.role_changed", f"user:{user.id} {user.email}", before, {"web_role": role})


def enable_portal_access(identity: Identity, user_id: object) -> str:
    """Send the invitation email (Enable Portal Access); returns the address it went to."""
    require(identity, Capability.USERS)
    with session_scope() as db:
        user = _load(db, identity, user_id)
        if user.status == "active":
            raise NotAllowed(f"{user.display_name} already has portal access.")
        if user.web_role not in WEB_ROLES:
            raise NotAllowed("Associate a web role first, then select Enable Portal Access.")
        code = create_invitation(db, user=user, created_by=identity)
        organization = db.get(Organization, identity.organization_id)
        link = invitation_link(code)
        days = INVITATION_LIFETIME.days
        body = (
            f"Hello {user.first_name},\n\n{identity.display_name} invited you to the Opkalla Customer Portal "
            f"for {organization.name if organization else 'your company'} as {user.web_role}.\n\n"
            f"Register with this Invitation Link (it works once, for {days} days):\n{link}\n\n"
            "Sign in with your Office 365 account "
            f"{user.email}. After registering, go to {load_settings().public_url} and select Sign In.\n\n"
            "Questions? Email support@opkalla.com.\n"
        )
        # Once delivered, the sender replaces the live code in the stored copy (services/mail.py).
        queue_mail(
            db,
            organization_id=user.organization_id,
            to=user.email,
            subject="Your invitation to the Opkalla Customer Portal",
            body=body,
            kind="invitation",
        )
        before = {"status": user.status}
        user.status = "invited"
        user.updated_at = utcnow()
        db.add(user)
        record_audit(
            db,
            identity,
            "user.access_enabled",
            f"user:{user.id} {user.email}",
            before,
            {"status": "invited", "invitation_sent_to": user.email},
        )
        return user.email


def deactivate_user(identity: Identity, user_id: object) -> int:
    """Turn off portal access: sessions revoked at once, open invitations withdrawn; returns sessions revoked."""
    require(identity, Capability.USERS)
    with session_scope() as db:
        user = _load(db, identity, user_id)
        if user.id == identity.user_id:
            raise NotAllowed("You can't turn off your own access. Ask another Administrator.")
        if _is_last_admin(db, user):
            raise NotAllowed("This is the last Administrator. Make someone else a Work365 Administrator first.")
        if user.status == "inactive":
            return 0
        before = {"status": user.status}
        user.status = "inactive"
        user.updated_at = utcnow()
        db.add(user)
        revoked = revoke_user_sessions(db, user.id)
        revoke_open_invitations(db, user.id)
        record_audit(
            db,
            identity,
            "user.access_disabled",
            f"user:{user.id} {user.email}",
            before,
            {"status": "inactive", "sessions_revoked": revoked},
        )
        return revoked


_LINK = re.compile(r"https?://\S+/register\?code=[A-Za-z0-9_-]+")


_STATUS = {
    "sent": "Sent",
    "queued": "Waiting to be sent",
    "sending": "Sending",
    "failed": "Not delivered",
    "held": "In outbox",
}


def outbox(identity: Identity) -> list[dict]:
    """The organization's newest outbound emails, with the link each carries; only where the
    deployment has a held-mail viewer (the demo), since they hold live invitation links."""
    require(identity, Capability.USERS)
    if not deployment.current().held_mail_viewer:
        return []
    with session_scope() as db:
        mails = db.exec(
            select(OutboundMail)
            .where(OutboundMail.organization_id == identity.organization_id)
            .order_by(OutboundMail.id.desc())
            .limit(50)
        ).all()
    rows = []
    for mail in mails:
        found = _LINK.search(mail.body_text)
        link = found.group(0) if found else ""
        # The link as a local path, so it works whatever host name the demo is opened with.
        rows.append(
            {
                "id": mail.id,
                "to": mail.to_address,
                "subject": mail.subject,
                "body": mail.body_text,
                "link": link[link.index("/register") :] if link else "",
                "created": mail.created_at.strftime("%b %d, %Y %H:%M UTC"),
                "status": _STATUS.get(mail.status, mail.status)
                + (f": {mail.error}" if mail.status in ("failed", "queued") and mail.error else ""),
            }
        )
    return rows
