"""Server-side sign-in sessions, referenced from the browser by an HttpOnly cookie."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from http.cookies import SimpleCookie

from sqlalchemy import bindparam, update
from sqlmodel import Session, select

from opkalla_portal.db import get_engine, read_row
from opkalla_portal.models import Organization, PortalSession, PortalUser, utcnow
from opkalla_portal.services.access import Identity
from opkalla_portal.settings import load_settings

SESSION_COOKIE = "opkalla_session"
# Refresh last_seen at most once a minute, so each event doesn't write to the database.
_TOUCH_INTERVAL = timedelta(seconds=60)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_session(
    db: Session, user: PortalUser, *, token_cache: str = "", id_token_hint: str = "", name: str = "", email: str = ""
) -> str:
    """Start a session for an active user; returns the random token for the cookie.

    `name` and `email` are the ID token's (sign-in passes them); the session keeps them, so
    the acting identity cannot be changed afterwards by editing the Profile.
    """
    token = secrets.token_urlsafe(32)
    db.add(
        PortalSession(
            token_hash=hash_token(token),
            user_id=user.id,
            token_cache=token_cache,
            id_token_hint=id_token_hint,
            signed_in_name=(name or user.display_name)[:200],
            signed_in_email=(email or user.email)[:254],
        )
    )
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


# One query, of only the columns needed, for session, user and organization: this runs on
# every page load and event (a session row also holds the MSAL token cache, not read here).
# Built once: composing the statement cost more than running it.
_IDENTITY_QUERY = (
    select(
        PortalSession.id,
        PortalSession.revoked_at,
        PortalSession.last_seen_at,
        PortalSession.signed_in_name,
        PortalSession.signed_in_email,
        PortalUser.id,
        PortalUser.organization_id,
        PortalUser.web_role,
        PortalUser.first_name,
        PortalUser.last_name,
        PortalUser.email,
        PortalUser.status,
        PortalUser.is_global_admin,
        Organization.tenant_id,
        Organization.is_provider,
        Organization.name,
    )
    .join(PortalUser, PortalUser.id == PortalSession.user_id)
    .join(Organization, Organization.id == PortalUser.organization_id, isouter=True)
    .where(PortalSession.token_hash == bindparam("token_hash"))
)


def resolve_session(db: Session, token: str | None) -> Identity | None:
    """The identity behind a session token, or None when missing, revoked, idle or deactivated."""
    if not token:
        return None
    row = db.exec(_IDENTITY_QUERY, params={"token_hash": hash_token(token)}).first()
    identity, write = _identity_from_row(row)
    if write is not None:
        db.exec(write)
    return identity


def identity_for_token(token: str | None) -> Identity | None:
    """`resolve_session` on a bare connection: what every Reflex event runs first.

    Same query and rules, without an ORM session or a pool checkout (`db.read_row`: 15 µs
    instead of 220 µs on SQLite, 0.8 ms with an ORM session); it writes only when the session expires or its
    last-seen time is due for a refresh.
    """
    if not token:
        return None
    row = read_row(_IDENTITY_QUERY, {"token_hash": hash_token(token)})
    identity, write = _identity_from_row(row)
    if write is not None:
        with get_engine().begin() as connection:
            connection.execute(write)
    return identity


def _identity_from_row(row) -> tuple[Identity | None, object | None]:
    """The identity (None: no valid session), and the session update to write, if any."""
    if row is None:
        return None, None
    (
        session_id,
        revoked_at,
        last_seen_at,
        signed_in_name,
        signed_in_email,
        user_id,
        organization_id,
        role,
        first_name,
        last_name,
        email,
        status,
        is_global_admin,
        tenant_id,
        is_provider,
        organization_name,
    ) = row
    if revoked_at is not None:
        return None, None
    now = utcnow()
    if now - last_seen_at > timedelta(minutes=load_settings().session_idle_minutes):
        return None, update(PortalSession).where(PortalSession.id == session_id).values(revoked_at=now)
    if status != "active":
        return None, None
    touch = None
    if now - last_seen_at > _TOUCH_INTERVAL:
        touch = update(PortalSession).where(PortalSession.id == session_id).values(last_seen_at=now)
    return Identity(
        user_id=user_id,
        organization_id=organization_id,
        role=role,
        # The sign-in's (ID token) name and email; sessions older than that record fall back.
        display_name=signed_in_name or f"{first_name} {last_name}".strip(),
        email=signed_in_email or email,
        tenant_id=tenant_id or "",
        is_global_admin=is_global_admin,
        is_provider=bool(is_provider),
        session_id=session_id,
        organization_name=organization_name or "",
    ), touch


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
