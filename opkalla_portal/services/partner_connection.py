"""The provider's delegated Partner Center connection (App+User, secure application model).

A provider administrator (a Work365 Administrator of the provider organization) connects
Partner Center once, signing in to Microsoft with MFA; the refresh token Microsoft returns is
stored encrypted (Fernet, key from OPKALLA_SECRET_KEY) and redeemed for an App+User access
token each time the portal makes an App+User-only call (the Microsoft Customer Agreement).
Each redemption returns a new refresh token, which replaces the stored one and slides the
90-day expiry. A refused refresh (revoked, expired) marks the connection "needs
reconnecting", which the provider's administrators see on every page before anything breaks.

Network calls are never made inside a database transaction: read, close, call, then write.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from sqlmodel import select

from opkalla_portal import clock, deployment
from opkalla_portal.db import session_scope
from opkalla_portal.microsoft.errors import AuthError, MicrosoftError
from opkalla_portal.microsoft.partner_delegated import (
    REFRESH_TOKEN_LIFETIME,
    ConnectionBroken,
    DelegatedGrant,
)
from opkalla_portal.models import AuditEvent, PartnerCenterConnectAttempt, PartnerCenterConnection
from opkalla_portal.roles import ROLE_ADMINISTRATOR
from opkalla_portal.services.access import Identity, NotSignedIn, PermissionDenied
from opkalla_portal.services.errors import microsoft_errors
from opkalla_portal.services.microsoft_clients import microsoft
from opkalla_portal.settings import PROJECT_DIR, ConfigError, load_settings

CALLBACK_PATH = "/partner-center/callback"
PAGE_PATH = "/partner-center"
ATTEMPT_LIFETIME = timedelta(minutes=15)
WARN_BEFORE_EXPIRY = timedelta(days=14)
SECRET_KEY_ENV = "OPKALLA_SECRET_KEY"
GENERATED_KEY_FILE = "portal-secret.key"
CONNECTED, BROKEN = "connected", "broken"


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


class NotConnected(MicrosoftError):
    """No usable delegated connection: App+User calls cannot be made."""


# ------------------------------------------------------------------ encryption
def _generated_key_path() -> Path:
    """Where a deployment that allows it (the demo) keeps a generated key, next to the database."""
    url = load_settings().database_url
    folder = Path(url[len("sqlite:///") :]).parent if url.startswith("sqlite:///") else PROJECT_DIR / "data"
    return folder / GENERATED_KEY_FILE


def _fernet() -> Fernet:
    key = os.environ.get(SECRET_KEY_ENV, "").strip()
    if not key:
        if not deployment.current().generated_secret_key:
            raise ConfigError(
                f"{SECRET_KEY_ENV} is not set: generate one with python -c "
                "'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
            )
        path = _generated_key_path()
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(Fernet.generate_key().decode())
        key = path.read_text().strip()
    try:
        return Fernet(key.encode())
    except ValueError:
        raise ConfigError(f"{SECRET_KEY_ENV} is not a Fernet key (32 url-safe base64-encoded bytes).") from None


def encrypt(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise NotConnected(
            "The stored Partner Center connection cannot be read with the current "
            f"{SECRET_KEY_ENV}. A provider administrator must reconnect it.",
            code="undecryptable",
        ) from None


# ---------------------------------------------------------------------- access
def is_provider_admin(identity: Identity | None) -> bool:
    return bool(identity and identity.is_provider and identity.role == ROLE_ADMINISTRATOR)


def require_provider_admin(identity: Identity | None) -> Identity:
    if identity is None:
        raise NotSignedIn("Please sign in to continue.")
    if not is_provider_admin(identity):
        raise PermissionDenied("Only the provider's administrators can manage the Partner Center connection.")
    return identity


# ---------------------------------------------------------------------- status
@dataclass(frozen=True)
class ConnectionStatus:
    connected: bool
    healthy: bool  # connected, refreshable as far as the portal knows, MFA-backed, not expired
    connected_by: str = ""
    connected_as: str = ""
    connected_at: datetime | None = None
    mfa: bool = False
    expires_at: datetime | None = None
    needs_reconnecting: bool = False
    problem: str = ""

    @property
    def expires_soon(self) -> bool:
        return bool(self.expires_at and self.expires_at - clock.now() <= WARN_BEFORE_EXPIRY)


def _status(row: PartnerCenterConnection | None) -> ConnectionStatus:
    if row is None:
        return ConnectionStatus(connected=False, healthy=False)
    expires = _aware(row.expires_at)
    expired = expires <= clock.now()
    broken = row.status == BROKEN or expired
    problem = row.problem or ("The connection has expired." if expired else "")
    return ConnectionStatus(
        connected=True,
        healthy=not broken and row.mfa,
        connected_by=row.connected_by_name,
        connected_as=row.connected_as,
        connected_at=_aware(row.connected_at),
        mfa=row.mfa,
        expires_at=expires,
        needs_reconnecting=broken,
        problem=problem,
    )


def _current(db) -> PartnerCenterConnection | None:
    return db.exec(select(PartnerCenterConnection).order_by(PartnerCenterConnection.id.desc())).first()


def connection_status(identity: Identity) -> ConnectionStatus:
    """What the Partner Center connection page shows (provider administrators only)."""
    require_provider_admin(identity)
    with session_scope() as db:
        return _status(_current(db))


def warning_for(identity: Identity | None) -> str:
    """The banner a provider administrator sees on every page, or "" (everyone else: always "")."""
    if not is_provider_admin(identity):
        return ""
    with session_scope() as db:
        status = _status(_current(db))
    if not status.connected:
        return "Partner Center is not connected: customers cannot accept the Microsoft Customer Agreement."
    if status.needs_reconnecting:
        return "The Partner Center connection needs reconnecting: customers cannot accept agreements until it is."
    if not status.mfa:
        return "The Partner Center connection was made without MFA: Partner Center will refuse it. Reconnect with MFA."
    if status.expires_soon:
        return f"The Partner Center connection expires on {status.expires_at:%B %-d, %Y}: reconnect it before then."
    return ""


# --------------------------------------------------------------------- connect
def _hash(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


async def begin_connect(identity: Identity) -> str:
    """Start the one-time connect; returns the Microsoft URL to send the administrator to."""
    require_provider_admin(identity)
    redirect_uri = load_settings().public_url + CALLBACK_PATH
    with microsoft_errors():
        flow = await microsoft().partner_delegated.begin_connect(redirect_uri)
    with session_scope() as db:
        db.add(
            PartnerCenterConnectAttempt(
                user_id=identity.user_id,
                state_hash=_hash(flow["state"]),
                flow_encrypted=encrypt(json.dumps(flow)),
                expires_at=clock.now() + ATTEMPT_LIFETIME,
            )
        )
    return flow["auth_uri"]


async def complete_connect(identity: Identity | None, params: dict[str, str]) -> str:
    """Microsoft's redirect back: redeem the code, store the connection. Returns a result code
    for the page: connected | no_mfa | cancelled | expired | failed."""
    require_provider_admin(identity)
    with session_scope() as db:
        attempt = db.exec(
            select(PartnerCenterConnectAttempt).where(
                PartnerCenterConnectAttempt.state_hash == _hash(params.get("state") or secrets.token_hex(8))
            )
        ).first()
        if (
            attempt is None
            or attempt.used_at is not None
            or attempt.user_id != identity.user_id
            or _aware(attempt.expires_at) < clock.now()
        ):
            return "expired"
        attempt.used_at = clock.now()  # single use, whatever the outcome
        db.add(attempt)
        flow = json.loads(decrypt(attempt.flow_encrypted))
    if params.get("error"):
        return "cancelled" if params["error"] == "access_denied" else "failed"
    try:
        grant = await microsoft().partner_delegated.complete_connect(flow, params)
    except MicrosoftError:
        return "failed"
    record_connection(identity, grant)
    return "connected" if grant.mfa else "no_mfa"


def record_connection(identity: Identity, grant: DelegatedGrant) -> None:
    """Replace the connection with this grant (its refresh token encrypted)."""
    require_provider_admin(identity)
    now = clock.now()
    with session_scope() as db:
        for old in db.exec(select(PartnerCenterConnection)).all():
            db.delete(old)
        db.add(
            PartnerCenterConnection(
                connected_by_user_id=identity.user_id,
                connected_by_name=identity.display_name,
                connected_as=grant.user_principal_name,
                connected_at=now,
                refresh_token_encrypted=encrypt(grant.refresh_token),
                mfa=grant.mfa,
                refreshed_at=now,
                expires_at=now + REFRESH_TOKEN_LIFETIME,
                status=CONNECTED,
            )
        )
        db.add(
            AuditEvent(
                organization_id=identity.organization_id,
                actor_user_id=identity.user_id,
                actor_name=identity.display_name,
                action="partner_center.connected",
                target=grant.user_principal_name,
                after_json=json.dumps({"mfa": grant.mfa}),
            )
        )


def disconnect(identity: Identity) -> None:
    """Forget the connection (the refresh token is deleted, not kept)."""
    require_provider_admin(identity)
    with session_scope() as db:
        rows = db.exec(select(PartnerCenterConnection)).all()
        for row in rows:
            db.delete(row)
        if rows:
            db.add(
                AuditEvent(
                    organization_id=identity.organization_id,
                    actor_user_id=identity.user_id,
                    actor_name=identity.display_name,
                    action="partner_center.disconnected",
                    target="Partner Center",
                )
            )


# ------------------------------------------------------------------------- use
async def app_user_token() -> str:
    """An App+User access token for Partner Center, from the stored connection: the refresh
    token is redeemed and the rotated one saved. Raises NotConnected (with a message for the
    user) when there is no usable connection; a refused refresh marks it needs-reconnecting.

    Not tied to the acting user: any portal user's App+User-only action (a customer's
    Administrator accepting the agreement) runs on the provider's connection, as Partner
    Center's secure application model intends."""
    with session_scope() as db:
        row = _current(db)
        if row is None:
            raise NotConnected(
                "Partner Center is not connected yet. Please try again later; your provider has been notified.",
                code="not_connected",
            )
        row_id, encrypted, status = row.id, row.refresh_token_encrypted, _status(row)
    if status.needs_reconnecting:
        raise NotConnected(
            "The provider's Partner Center connection needs reconnecting. Please try again later.",
            code="needs_reconnecting",
        )
    try:
        grant = await microsoft().partner_delegated.refresh(decrypt(encrypted))
    except ConnectionBroken as error:
        _mark_broken(row_id, error.detail or error.code or "refresh refused")
        raise NotConnected(
            "The provider's Partner Center connection needs reconnecting. Please try again later.",
            code="needs_reconnecting",
        ) from error
    now = clock.now()
    with session_scope() as db:
        row = db.get(PartnerCenterConnection, row_id)
        if row is not None:  # not disconnected meanwhile
            row.refresh_token_encrypted = encrypt(grant.refresh_token)
            row.refreshed_at, row.expires_at, row.mfa = now, now + REFRESH_TOKEN_LIFETIME, grant.mfa
            db.add(row)
    return grant.access_token


def _mark_broken(row_id: int | None, problem: str) -> None:
    with session_scope() as db:
        row = db.get(PartnerCenterConnection, row_id)
        if row is not None:
            row.status, row.problem = BROKEN, f"Microsoft refused the refresh token: {problem}"[:500]
            db.add(row)


def partner_center_as_user():
    """The Partner Center client for App+User-only calls (tokens from the connection)."""
    return microsoft().partner_center_as_user(app_user_token)


# ----------------------------------------------------------------------- doctor
async def check_connection() -> str:
    """For `cli doctor`: present, refreshable and MFA-backed, else AuthError with the reason."""
    with session_scope() as db:
        status = _status(_current(db))
    if not status.connected:
        raise AuthError("No Partner Center connection: a provider administrator must connect it.", code="not_connected")
    await app_user_token()  # refreshes (and records a refused refresh)
    with session_scope() as db:
        status = _status(_current(db))
    if not status.mfa:
        raise AuthError("The Partner Center connection is not MFA-backed.", code="no_mfa")
    return (
        f"connected by {status.connected_by} ({status.connected_as}), MFA-backed, expires {status.expires_at:%Y-%m-%d}"
    )
