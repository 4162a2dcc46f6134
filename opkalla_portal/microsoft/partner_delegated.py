"""Partner Center App+User tokens: the partner's delegated connection (secure application model).

Some Partner Center calls "only support App+User authentication" (the Microsoft Customer
Agreement: REST reference, "Get confirmation of customer acceptance of Microsoft Customer
Agreement" and "Confirm customer acceptance of the Microsoft Customer Agreement"). Microsoft's
secure application model (Partner Center docs, "Enabling the Secure Application Model
framework"): a partner administrator consents once, signing in with MFA, through the
authorization-code flow for ``https://api.partnercenter.microsoft.com/user_impersonation``
with ``offline_access``; the app keeps the refresh token in a secure store and redeems it at
``login.microsoftonline.com/{partner-tenant}/oauth2/v2.0/token`` (grant_type=refresh_token)
for each App+User call. From 1 April 2026 every App+User call must carry MFA (the ``amr``
claim lists ``mfa``), otherwise Partner Center answers 401 with error code 900421.

This module only talks to Entra through MSAL for Python (``initiate_auth_code_flow`` /
``acquire_token_by_auth_code_flow`` with PKCE, ``acquire_token_by_refresh_token``); keeping
the refresh token safe is the caller's job (services/partner_connection.py).
"""

from __future__ import annotations

import asyncio
import warnings
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt

from opkalla_portal import clock

from .errors import AuthError
from .identity import IdentityClient, load_cache

# MSAL adds openid, profile and offline_access itself (passing them raises ValueError), so
# the refresh token comes back with this one scope requested.
PARTNER_CENTER_USER_SCOPE = "https://api.partnercenter.microsoft.com/user_impersonation"
# Entra refresh tokens live 90 days and the window slides with each use (Microsoft identity
# platform, "Refresh tokens": "The default lifetime for the refresh tokens is 24 hours for
# single page apps and 90 days for all other scenarios"; each redemption returns a new one).
REFRESH_TOKEN_LIFETIME = timedelta(days=90)
# OAuth errors meaning the refresh token can no longer be used (revoked, expired, password
# changed, consent withdrawn): only a new connection helps.
BROKEN_GRANT_ERRORS = {"invalid_grant", "interaction_required", "consent_required"}


class ConnectionBroken(AuthError):
    """The stored refresh token was refused for good: an administrator must reconnect."""


@dataclass(frozen=True)
class DelegatedGrant:
    """What Entra answered: an App+User access token, the (rotated) refresh token, and who."""

    access_token: str
    refresh_token: str
    user_name: str
    user_principal_name: str
    user_object_id: str
    mfa: bool  # "mfa" in the access token's amr claim
    access_token_expires_at: datetime


def token_claims(access_token: str) -> dict[str, Any]:
    """The claims of an access token, unverified: the portal only reads them to show and
    check what Partner Center will see (Partner Center verifies the signature itself)."""
    try:
        return jwt.decode(access_token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return {}


def _grant(result: dict, previous_refresh_token: str | None = None) -> DelegatedGrant:
    claims = token_claims(result.get("access_token", ""))
    refresh = result.get("refresh_token") or previous_refresh_token
    if not refresh:
        raise AuthError("Microsoft returned no refresh token: offline access was not granted.", code="no_refresh_token")
    return DelegatedGrant(
        access_token=result["access_token"],
        refresh_token=refresh,
        user_name=claims.get("name") or "",
        user_principal_name=claims.get("upn") or claims.get("preferred_username") or "",
        user_object_id=claims.get("oid") or "",
        mfa="mfa" in (claims.get("amr") or []),
        access_token_expires_at=clock.now() + timedelta(seconds=int(result.get("expires_in") or 3600)),
    )


class PartnerDelegatedAuth:
    """The one-time connect and the refresh, for the partner's own tenant."""

    def __init__(self, identity: IdentityClient) -> None:
        self.identity = identity
        self.tenant = identity.settings.partner_tenant_id

    async def begin_connect(self, redirect_uri: str) -> dict:
        """Start the auth-code flow (PKCE, state, nonce). ``prompt=login`` makes the
        administrator sign in afresh, so Entra applies MFA to this sign-in. Keep the flow
        server-side; send the browser to ``flow["auth_uri"]``."""
        # The query response mode, not form_post: the callback must see the administrator's
        # SameSite=Lax session cookie, which a cross-site POST would not carry. The state,
        # PKCE and the single-use attempt bind the answer to the attempt.
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="response_mode='form_post' is recommended")
            return await self.identity.begin_sign_in(
                redirect_uri, scopes=[PARTNER_CENTER_USER_SCOPE], tenant=self.tenant, prompt="login"
            )

    async def complete_connect(self, flow: dict, query_params: dict[str, str]) -> DelegatedGrant:
        """Redeem the code from the redirect; the grant's refresh token is what to store."""

        def redeem() -> dict:
            app = self.identity._build_app(self.tenant, load_cache(None))
            msal_flow = {k: v for k, v in flow.items() if not k.startswith("_opkalla")}
            return app.acquire_token_by_auth_code_flow(msal_flow, dict(query_params))

        try:
            result = await asyncio.to_thread(redeem)
        except ValueError as exc:  # state mismatch or a replayed flow
            raise AuthError(
                "The connection attempt could not be verified. Please try again.",
                code="state_mismatch",
                detail=str(exc),
            ) from exc
        if "error" in result:
            raise AuthError(
                _connect_error(result.get("error")), code=result.get("error"), detail=result.get("error_description")
            )
        return _grant(result)

    async def refresh(self, refresh_token: str) -> DelegatedGrant:
        """A fresh App+User access token and the rotated refresh token. Raises
        :class:`ConnectionBroken` when Entra refuses the refresh token for good."""

        def redeem() -> dict:
            app = self.identity._build_app(self.tenant, load_cache(None))
            return app.acquire_token_by_refresh_token(refresh_token, scopes=[PARTNER_CENTER_USER_SCOPE])

        result = await asyncio.to_thread(redeem)
        if "error" in result:
            error = result.get("error")
            if error in BROKEN_GRANT_ERRORS:
                raise ConnectionBroken(
                    "The Partner Center connection was revoked or has expired. "
                    "A provider administrator must reconnect it.",
                    code=error,
                    detail=result.get("error_description"),
                )
            raise AuthError(code=error, detail=result.get("error_description"))
        return _grant(result, previous_refresh_token=refresh_token)


def _connect_error(error: str | None) -> str:
    return {
        "access_denied": "Connecting Partner Center was cancelled.",
        "invalid_grant": "The connection link has expired. Please try again.",
    }.get(error or "", "Partner Center could not be connected. Please try again.")


__all__ = [
    "PartnerDelegatedAuth",
    "DelegatedGrant",
    "ConnectionBroken",
    "PARTNER_CENTER_USER_SCOPE",
    "REFRESH_TOKEN_LIFETIME",
    "token_claims",
]
