"""Single sign-on with Microsoft (MSAL's authorization-code flow), kept server-side.

The flow (PKCE verifier, nonce) lives in a SignInAttempt row keyed by the SHA-256 of its
OAuth `state`, so any worker can finish it and it can be used once. A finished sign-in gets
a brand-new session token (no fixation). Whatever goes wrong ends on a page that says what
happened (`PROBLEMS`), never an error page.
"""

from __future__ import annotations

import hmac
import json
import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, timedelta
from urllib.parse import urlsplit

from sqlalchemy import delete
from sqlmodel import Session, select

from opkalla_portal.db import session_scope
from opkalla_portal.microsoft.errors import AuthError, MicrosoftError
from opkalla_portal.models import PortalSession, PortalUser, SignInAttempt, utcnow
from opkalla_portal.services.access import ROLE_CAPABILITIES
from opkalla_portal.services.audit import record_audit
from opkalla_portal.services.invitations import redeem_invitation
from opkalla_portal.services.microsoft_clients import microsoft
from opkalla_portal.services.sessions import create_session, hash_token
from opkalla_portal.settings import load_settings

log = logging.getLogger(__name__)
ATTEMPT_LIFETIME = timedelta(minutes=10)
SUPPORT = "support@opkalla.com"

# reason key -> (heading, explanation). The no-access page shows these; keys travel in its URL.
PROBLEMS: dict[str, tuple[str, str]] = {
    "no_account": (
        "You don't have access to the portal",
        "Your Microsoft account is not set up for the Opkalla Customer Portal, or your access was "
        f"turned off. Ask your administrator for an invitation, or email {SUPPORT}.",
    ),
    "no_role": (
        "You don't have access to the portal",
        f"Your account has no web role yet. Ask your administrator to assign one, or email {SUPPORT}.",
    ),
    "cancelled": ("Sign-in was cancelled", "You cancelled signing in with Microsoft. Select Sign In to try again."),
    "sign_in_failed": (
        "Sign-in didn't complete",
        "Microsoft could not confirm your sign-in. Select Sign In to try again.",
    ),
    "attempt_invalid": (
        "This sign-in link is not valid",
        "The sign-in could not be matched to one started in this browser, or it was already "
        "used. Select Sign In to start again.",
    ),
    "attempt_expired": (
        "This sign-in took too long",
        "Sign-in must finish within 10 minutes. Select Sign In to start again.",
    ),
    "unavailable": (
        "Microsoft sign-in is unavailable",
        f"The sign-in service could not be reached. Try again in a few minutes, or email {SUPPORT}.",
    ),
    "invitation_invalid": (
        "This invitation link is not valid",
        "The link is incomplete or was changed. Open the link exactly as it appears in your "
        f"invitation email, or ask your administrator for a new one ({SUPPORT}).",
    ),
    "invitation_used": (
        "This invitation link has already been used",
        "Each invitation link works once. If you registered already, select Sign In.",
    ),
    "invitation_revoked": (
        "This invitation link was replaced or withdrawn",
        "Your administrator sent a newer invitation or turned off your access. Use the newest "
        "invitation email, or ask your administrator.",
    ),
    "invitation_expired": (
        "This invitation link has expired",
        "Invitation links work for 7 days. Ask your administrator to send a new invitation.",
    ),
    "invitation_foreign_tenant": (
        "This Microsoft account belongs to another organization",
        "Sign in with the work account of the company that invited you. Nothing was "
        "changed; the invitation link still works.",
    ),
    "invitation_email_mismatch": (
        "This Microsoft account doesn't match the invitation",
        "The invitation was sent to a different email address. Sign in with the "
        "invited Office 365 account. Nothing was changed; the link still works.",
    ),
    "invitation_already_linked": (
        "This Microsoft account is already registered",
        "Another portal user is linked to this account. Select Sign In, or ask your administrator.",
    ),
    "too_many_attempts": (
        "Too many invalid links",
        "Too many invalid invitation links were opened from your network. Wait 15 minutes and try again.",
    ),
}


def safe_next(raw: object) -> str:
    """A local path to return to after sign-in; anything else (other sites, schemes, //) becomes '/'."""
    if not isinstance(raw, str) or not raw.startswith("/") or raw.startswith("//") or "\\" in raw:
        return "/"
    if len(raw) > 500 or any(ord(character) < 32 for character in raw):
        return "/"
    parts = urlsplit(raw)
    if parts.scheme or parts.netloc:
        return "/"
    if parts.path.startswith(("/auth/", "/register", "/sign-in", "/no-access")):
        return "/"
    return raw


def callback_url() -> str:
    return f"{load_settings().public_url}/auth/callback"


@dataclass(frozen=True)
class Started:
    """Where to send the browser, and the key it must bring back (kept in a short-lived cookie)."""

    auth_uri: str
    browser_key: str


async def begin(*, next_path: str = "/", invitation_id: int | None = None, login_hint: str | None = None) -> Started:
    """Start a sign-in. Raises MicrosoftError when the identity provider is unreachable.

    The attempt is bound to the starting browser (browser_key), so a callback URL made by
    someone else's sign-in cannot sign this browser in as them (login CSRF).
    """
    # form_post (MSAL's recommendation): the code travels in a POST body, not in URLs and logs.
    flow = await microsoft().identity.begin_sign_in(
        callback_url(), login_hint=login_hint, prompt="select_account", response_mode="form_post"
    )
    browser_key = secrets.token_urlsafe(32)
    now = utcnow()
    with session_scope() as db:
        # Finished or abandoned attempts are of no further use; keep the table small.
        db.exec(delete(SignInAttempt).where(SignInAttempt.expires_at < now - timedelta(days=1)))
        db.add(
            SignInAttempt(
                state_hash=hash_token(flow["state"]),
                browser_hash=hash_token(browser_key),
                flow_json=json.dumps(flow),
                next_path=safe_next(next_path),
                invitation_id=invitation_id,
                created_at=now,
                expires_at=now + ATTEMPT_LIFETIME,
            )
        )
    return Started(flow["auth_uri"], browser_key)


@dataclass(frozen=True)
class Outcome:
    """Where the browser goes next, and the new session token when sign-in succeeded."""

    redirect_to: str
    session_token: str | None = None


def _problem(reason: str) -> Outcome:
    return Outcome(f"/no-access?reason={reason}")


def _claim_attempt(state: object, browser_key: object) -> tuple[SignInAttempt | None, str | None]:
    """Mark the attempt used before talking to Microsoft, so a replayed state is refused."""
    if not isinstance(state, str) or not state or len(state) > 200:
        return None, "attempt_invalid"
    with session_scope() as db:
        attempt = db.exec(select(SignInAttempt).where(SignInAttempt.state_hash == hash_token(state))).first()
        if attempt is None or attempt.used_at is not None:
            return None, "attempt_invalid"
        attempt.used_at = utcnow()
        db.add(attempt)
        if not isinstance(browser_key, str) or not hmac.compare_digest(attempt.browser_hash, hash_token(browser_key)):
            return None, "attempt_invalid"  # finished in another browser than it started in
        expires = attempt.expires_at if attempt.expires_at.tzinfo else attempt.expires_at.replace(tzinfo=UTC)
        if expires <= utcnow():
            return None, "attempt_expired"
        return attempt, None


async def complete(params: dict[str, str], browser_key: str | None, *, previous_session: str | None = None) -> Outcome:
    """Finish the sign-in Microsoft redirected back with; never raises for a visitor's mistake.

    `previous_session`: the session cookie the browser still held; a successful sign-in
    revokes it (signing in as another user in the same browser ends the first user's session).
    """
    attempt, problem = _claim_attempt(params.get("state"), browser_key)
    if problem:
        return _problem(problem)
    if params.get("error"):
        return _problem("cancelled" if params.get("error") == "access_denied" else "sign_in_failed")
    try:
        result = await microsoft().identity.complete_sign_in(json.loads(attempt.flow_json), params)
    except AuthError as error:
        log.info("Sign-in refused by the identity check: %s (%s)", error.code, error.detail)
        return _problem("sign_in_failed")
    except MicrosoftError as error:
        log.warning("Sign-in could not complete: %s", error)
        return _problem("unavailable")
    with session_scope() as db:
        if attempt.invitation_id is not None:
            user, problem = redeem_invitation(
                db,
                attempt.invitation_id,
                object_id=result.object_id,
                tenant_id=result.tenant_id,
                email=result.email,
                is_global_admin=result.is_global_admin,
            )
            if problem:
                record_audit(
                    db,
                    None,
                    "invitation.refused",
                    result.email,
                    after={"reason": problem, "tenant_id": result.tenant_id},
                    actor_name=result.email,
                )
                return _problem(problem)
        outcome = _start_session(db, result, attempt.next_path)
        if outcome.session_token and previous_session:
            _end_previous_session(db, previous_session)
        return outcome


def _end_previous_session(db: Session, token: str) -> None:
    record = db.exec(select(PortalSession).where(PortalSession.token_hash == hash_token(token))).first()
    if record is None or record.revoked_at is not None:
        return
    record.revoked_at = utcnow()
    db.add(record)
    user = db.get(PortalUser, record.user_id)
    if user:
        record_audit(
            db,
            None,
            "sign_out",
            f"user:{user.id} {user.email}",
            after={"reason": "another sign-in"},
            organization_id=user.organization_id,
            actor_name=user.display_name,
        )


def _start_session(db: Session, result, next_path: str) -> Outcome:
    user = db.exec(
        select(PortalUser).where(
            PortalUser.entra_object_id == result.object_id, PortalUser.entra_tenant_id == result.tenant_id
        )
    ).first()
    if user is None or user.status != "active":
        record_audit(
            db,
            None,
            "sign_in.refused",
            result.email,
            after={"reason": "no_account", "tenant_id": result.tenant_id},
            organization_id=user.organization_id if user else None,
            actor_name=result.email,
        )
        return _problem("no_account")
    if user.web_role not in ROLE_CAPABILITIES:
        record_audit(
            db,
            None,
            "sign_in.refused",
            f"user:{user.id} {user.email}",
            after={"reason": "no_role"},
            organization_id=user.organization_id,
            actor_name=user.display_name,
        )
        return _problem("no_role")
    if user.is_global_admin != result.is_global_admin:
        user.is_global_admin = result.is_global_admin  # Entra's directory role, from the id token's wids
    token = create_session(
        db, user, token_cache=result.token_cache, id_token_hint=result.id_token, name=result.name, email=result.email
    )
    record_audit(
        db,
        None,
        "sign_in",
        f"user:{user.id} {user.email}",
        after={"is_global_admin": user.is_global_admin},
        organization_id=user.organization_id,
        actor_name=result.name or user.display_name,
    )
    return Outcome(safe_next(next_path), token)


async def sign_out(token: str | None) -> str:
    """Revoke the session (audited) and return Microsoft's end-session URL (or /sign-in if unreachable)."""
    sign_in_page = f"{load_settings().public_url}/sign-in"
    if token:
        with session_scope() as db:
            record = db.exec(select(PortalSession).where(PortalSession.token_hash == hash_token(token))).first()
            if record and record.revoked_at is None:
                record.revoked_at = utcnow()
                db.add(record)
                user = db.get(PortalUser, record.user_id)
                if user:
                    record_audit(
                        db,
                        None,
                        "sign_out",
                        f"user:{user.id} {user.email}",
                        organization_id=user.organization_id,
                        actor_name=user.display_name,
                    )
    try:
        return await microsoft().identity.sign_out_url(sign_in_page)
    except MicrosoftError:
        return "/sign-in"
