"""Server-side sign-in sessions, referenced from the browser by an HttpOnly cookie."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from http.cookies import SimpleCookie

from sqlmodel import Session, select

from opkalla_portal.models import Organization, PortalSession, PortalUser, utcnow
from opkalla_portal.services.access import Identity
from opkalla_portal.settings import load_settings

SESSION_COOKIE = "opkalla_session"
# Refresh last_seen at most once a minute, so each event doesn't write to the database.
_TOUCH_INTERVAL = timedelta(seconds=60)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_session(db: Session, user: PortalUser, *, token_cache: str = "", id_token_hint: str = "") -> str:
    """Start a session for an active user; returns the random token for the cookie."""
    token = secrets.token_urlsafe(32)
    db.add(PortalSession(token_hash=hash_token(token), user_id=user.id, token_cache=token_cache,
                         id_token_hint=id_token_hint))
    user.last_sign_in_at = utcnow()
    db.add(user)
    db.flush()
    return token


def token_from_cookie_header(cookie_header: str) -> str | None:
    if not cookie_header:
        return None
    cookies = SimpleCookie()
    try:
        cookies.load(cookie_header)
    except Exception:
        return None
    morsel = cookies.get(SESSION_COOKIE)
    return morsel.value if morsel else None


def resolve_session(db: Session, token: str | None) -> Identity | None:
    """The identity behind a session token, or None when missing, revoked, idle or deactivated."""
    if not token:
        return None
    # One query for session, user and organization: this runs on every page load and event.
    row = db.exec(select(PortalSession, PortalUser, Organization)
                  .join(PortalUser, PortalUser.id == PortalSession.user_id)
                  .join(Organization, Organization.id == PortalUser.organization_id, isouter=True)
                  .where(PortalSession.token_hash == hash_token(token))).first()
    if row is None:
        return None
    record, user, organization = row
    if record.revoked_at is not None:
        return None
    now = utcnow()
    if now - record.last_seen_at > timedelta(minutes=load_settings().session_idle_minutes):
        record.revoked_at = now
        db.add(record)
        return None
    if user.status != "active":
        return None
    if now - record.last_seen_at > _TOUCH_INTERVAL:
        record.last_seen_at = now
        db.add(record)
    return Identity(
        user_id=user.id,
        organization_id=user.organization_id,
        role=user.web_role,
        display_name=user.display_name,
        email=user.email,
        tenant_id=organization.tenant_id if organization else "",
        is_global_admin=user.is_global_admin,
        is_provider=bool(organization and organization.is_provider),
        session_id=record.id,
        organization_name=organization.name if organization else "",
    )


def revoke_session(db: Session, token: str | None) -> None:
    if not token:
        return
    record = db.exec(select(PortalSession).where(PortalSession.token_hash == hash_token(token))).first()
    if record and record.revoked_at is None:
        record.revoked_at = utcnow()
        db.add(record)


def revoke_user_sessions(db: Session, user_id: int) -> int:
    """Revoke every live session of a user (on deactivation); returns how many."""
    records = db.exec(
        select(PortalSession).where(PortalSession.user_id == user_id, PortalSession.revoked_at == None)  # noqa: E711
    ).all()
    for record in records:
        record.revoked_at = utcnow()
        db.add(record)
    return len(records)
