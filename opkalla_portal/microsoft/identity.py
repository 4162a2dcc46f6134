"""Sign-in and tokens through MSAL (Entra ID in production, the emulator in demo/tests).

MSAL is synchronous (it uses ``requests``), so every MSAL call made from async code runs
in a worker thread via ``asyncio.to_thread``. MSAL does not check ID token signatures, so
:meth:`IdentityClient.verify_id_token` does that against the authority's JWKS.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
import jwt
import msal
import requests

from .config import MicrosoftSettings
from .errors import AuthError, UnavailableError
from .graph import GRAPH_SCOPE

log = logging.getLogger(__name__)
DEFAULT_SIGN_IN_SCOPES = ("User.Read",)  # MSAL adds openid, profile and offline_access itself
GLOBAL_ADMIN_ROLE_TEMPLATE_ID = "62e90394-69f5-4237-9190-012177145e10"
# Seconds of clock skew tolerated when checking exp/iat.
CLOCK_SKEW = 120
# How long discovery documents and signing keys are reused before being fetched again.
METADATA_TTL = 3600


def load_cache(serialized: str | None) -> msal.SerializableTokenCache:
    """A per-user token cache restored from what :func:`dump_cache` stored."""
    cache = msal.SerializableTokenCache()
    if serialized:
        cache.deserialize(serialized)
    return cache


def dump_cache(cache: msal.SerializableTokenCache) -> str:
    """Serialise a token cache for storage in a backend-only place (never the browser)."""
    return cache.serialize()


def msal_nonce_hash(nonce: str) -> str:
    """MSAL sends sha256(nonce) as the OIDC nonce; the ID token echoes that hash."""
    return hashlib.sha256(nonce.encode("ascii")).hexdigest()


@dataclass
class SignInResult:
    """A completed sign-in: verified ID token claims plus the user's updated token cache."""

    claims: dict[str, Any]
    token_cache: str
    access_token: str | None
    id_token: str
    # Global Admin as Graph reports it (/me/memberOf) when the ID token has no wids claim.
    directory_global_admin: bool = False

    @property
    def object_id(self) -> str:
        return self.claims.get("oid", "")

    @property
    def tenant_id(self) -> str:
        return self.claims.get("tid", "")

    @property
    def email(self) -> str:
        return self.claims.get("email") or self.claims.get("preferred_username", "")

    @property
    def name(self) -> str:
        """The ID token's `name` claim (the display name in Entra ID; not editable in the portal)."""
        return self.claims.get("name") or ""

    @property
    def is_global_admin(self) -> bool:
        """From the ID token's wids when Entra sends it (only if the app registration's
        manifest sets groupMembershipClaims), else from the directory roles Graph lists."""
        if "wids" in self.claims:
            return GLOBAL_ADMIN_ROLE_TEMPLATE_ID in (self.claims.get("wids") or [])
        return self.directory_global_admin


class _PlainHttpSession(requests.Session):
    """MSAL only accepts https authorities. For an emulator served over plain http on a
    developer machine, MSAL is given the https form of the URL and this session sends the
    request over http, telling the emulator (X-Forwarded-Proto) to describe itself with
    https URLs. Never used for Microsoft's own (https) authority."""

    def __init__(self, https_origin: str, http_origin: str) -> None:
        super().__init__()
        self.https_origin, self.http_origin = https_origin, http_origin

    def request(self, method, url, *args, headers=None, **kwargs):  # type: ignore[override]
        if isinstance(url, str) and url.startswith(self.https_origin):
            url = self.http_origin + url[len(self.https_origin) :]
            headers = {**(headers or {}), "X-Forwarded-Proto": "https"}
        return super().request(method, url, *args, headers=headers, **kwargs)


class IdentityClient:
    """MSAL confidential client wrapper for one app registration."""

    def __init__(self, settings: MicrosoftSettings, http: httpx.AsyncClient) -> None:
        self.settings = settings
        self._http = http
        self._app_only: dict[str, msal.ConfidentialClientApplication] = {}  # tenant -> app (own cache)
        self._metadata: dict[str, tuple[float, Any]] = {}
        login = settings.login_url.rstrip("/")
        # Plain-http authority (local emulator only): see _PlainHttpSession.
        self._plain_http = login.startswith("http://")
        self._http_origin = "/".join(login.split("/")[:3])
        self._https_origin = "https://" + self._http_origin[len("http://") :] if self._plain_http else self._http_origin
        self._msal_session = _PlainHttpSession(self._https_origin, self._http_origin) if self._plain_http else None

    def _msal_authority(self, tenant: str) -> str:
        """The authority as MSAL sees it (https)."""
        authority = self.settings.authority(tenant)
        return self._https_origin + authority[len(self._http_origin) :] if self._plain_http else authority

    def browser_url(self, url: str) -> str:
        """A URL from MSAL or discovery as the browser must open it (http for a local emulator)."""
        if self._plain_http and url.startswith(self._https_origin):
            return self._http_origin + url[len(self._https_origin) :]
        return url

    # ------------------------------------------------------------------ MSAL
    def _build_app(self, tenant: str, cache: msal.TokenCache | None = None) -> msal.ConfidentialClientApplication:
        """Blocking: MSAL fetches the discovery document while constructing the app."""
        kwargs: dict[str, Any] = dict(
            client_id=self.settings.client_id,
            client_credential=self.settings.client_secret,
            token_cache=cache,
            timeout=self.settings.timeout_seconds,
        )
        if self.settings.is_microsoft_authority:
            kwargs["authority"] = f"{self.settings.login_url.rstrip('/')}/{tenant}"
        else:
            # Any other OpenID Connect provider (the emulator): no Entra instance discovery.
            kwargs["oidc_authority"] = self._msal_authority(tenant)
            kwargs["instance_discovery"] = False
            if self._msal_session is not None:
                kwargs["http_client"] = self._msal_session
        try:
            return msal.ConfidentialClientApplication(**kwargs)
        except ValueError as exc:
            raise UnavailableError("The sign-in service could not be reached.", detail=str(exc)) from exc

    async def begin_sign_in(
        self,
        redirect_uri: str,
        *,
        scopes: Sequence[str] = DEFAULT_SIGN_IN_SCOPES,
        tenant: str = "organizations",
        login_hint: str | None = None,
        prompt: str | None = None,
        response_mode: str | None = None,
    ) -> dict:
        """Start the authorization-code flow (PKCE, state, nonce). Keep the returned flow
        server-side and send the browser to ``flow["auth_uri"]``.

        ``response_mode="form_post"`` (MSAL's recommendation) makes the provider POST the
        code to ``redirect_uri``; the default returns it in the query string."""

        def start() -> dict:
            app = self._build_app(tenant)
            return app.initiate_auth_code_flow(
                list(scopes),
                redirect_uri=redirect_uri,
                login_hint=login_hint,
                prompt=prompt,
                response_mode=response_mode,
            )

        flow = await asyncio.to_thread(start)
        flow["_opkalla_tenant"] = tenant  # so completion uses the same authority
        flow["auth_uri"] = self.browser_url(flow["auth_uri"])
        return flow

    async def complete_sign_in(
        self, flow: dict, query_params: dict[str, str], token_cache: str | None = None
    ) -> SignInResult:
        """Redeem the code from the redirect; verify the ID token; return claims and cache."""
        tenant = flow.get("_opkalla_tenant", "organizations")

        def redeem() -> tuple[dict, str]:
            cache = load_cache(token_cache)
            app = self._build_app(tenant, cache)
            msal_flow = {k: v for k, v in flow.items() if not k.startswith("_opkalla")}
            result = app.acquire_token_by_auth_code_flow(msal_flow, dict(query_params))
            return result, dump_cache(cache)

        try:
            result, cache_state = await asyncio.to_thread(redeem)
        except ValueError as exc:  # state mismatch or a replayed flow
            raise AuthError(
                "The sign-in attempt could not be verified. Please sign in again.",
                code="state_mismatch",
                detail=str(exc),
            ) from exc
        except RuntimeError as exc:  # MSAL's own nonce check
            raise AuthError(
                "The sign-in attempt could not be verified. Please sign in again.",
                code="invalid_nonce",
                detail=str(exc),
            ) from exc
        if "error" in result:
            raise AuthError(
                sign_in_error_message(result.get("error")),
                code=result.get("error"),
                detail=result.get("error_description"),
            )
        id_token = result.get("id_token", "")
        nonce = msal_nonce_hash(flow["nonce"]) if flow.get("nonce") else None
        claims = await self.verify_id_token(id_token, nonce=nonce)
        access_token = result.get("access_token")
        directory_admin = False
        if "wids" not in claims and access_token:
            directory_admin = await self.global_admin_from_graph(access_token)
        return SignInResult(
            claims=claims,
            token_cache=cache_state,
            access_token=access_token,
            id_token=id_token,
            directory_global_admin=directory_admin,
        )

    async def global_admin_from_graph(self, access_token: str) -> bool:
        """Whether the signed-in user holds the Global Administrator directory role, from
        GET /me/memberOf (delegated User.Read is enough; Graph docs, user: list memberOf).
        Direct role membership only; False when Graph cannot tell (the user can sign in
        again later)."""
        url: str | None = self.settings.graph_url.rstrip("/") + "/me/memberOf"
        headers = {"Authorization": f"Bearer {access_token}", "Accept": "application/json"}
        try:
            while url:
                response = await self._http.get(url, headers=headers, timeout=self.settings.timeout_seconds)
                if response.status_code != 200:
                    log.warning("Graph /me/memberOf answered %s; Global Admin not confirmed", response.status_code)
                    return False
                page = response.json()
                for item in page.get("value", []):
                    if (
                        item.get("@odata.type") == "#microsoft.graph.directoryRole"
                        and item.get("roleTemplateId") == GLOBAL_ADMIN_ROLE_TEMPLATE_ID
                    ):
                        return True
                url = page.get("@odata.nextLink")
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("Graph /me/memberOf failed (%s); Global Admin not confirmed", exc)
        return False

    async def acquire_token_silent(
        self,
        token_cache: str,
        scopes: Sequence[str] = DEFAULT_SIGN_IN_SCOPES,
        tenant: str = "organizations",
        *,
        force_refresh: bool = False,
    ) -> tuple[str | None, str]:
        """An access token for the cached user, refreshed if needed; (None, cache) when the
        user must sign in again. Returns the possibly-updated serialised cache too."""

        def silent() -> tuple[str | None, str]:
            cache = load_cache(token_cache)
            app = self._build_app(tenant, cache)
            accounts = app.get_accounts()
            if not accounts:
                return None, token_cache
            result = app.acquire_token_silent(list(scopes), account=accounts[0], force_refresh=force_refresh)
            token = result.get("access_token") if result else None
            return token, dump_cache(cache) if cache.has_state_changed else token_cache

        return await asyncio.to_thread(silent)

    async def app_token(self, tenant: str, scope: str = GRAPH_SCOPE) -> str:
        """App-only token (client credentials) for ``tenant``; MSAL caches it until expiry."""

        def acquire() -> dict:
            app = self._app_only.get(tenant)
            if app is None:
                app = self._app_only[tenant] = self._build_app(tenant, msal.TokenCache())
            return app.acquire_token_for_client(scopes=[scope])

        result = await asyncio.to_thread(acquire)
        if "access_token" not in result:
            raise AuthError(code=result.get("error"), detail=result.get("error_description"))
        return result["access_token"]

    # ------------------------------------------------------------------ URLs
    def admin_consent_url(self, tenant: str, redirect_uri: str, state: str, scope: str = GRAPH_SCOPE) -> str:
        """Where a customer's Global Administrator grants the portal's app consent.
        ``tenant`` is a GUID, a domain or ``organizations`` (never ``common``)."""
        query = urlencode(
            {"client_id": self.settings.client_id, "scope": scope, "redirect_uri": redirect_uri, "state": state}
        )
        return f"{self.settings.authority(tenant)}/adminconsent?{query}"

    async def sign_out_url(self, post_logout_redirect_uri: str, tenant: str = "organizations") -> str:
        """The end-session URL from the discovery document, returning to the portal."""
        config = await self.discovery(tenant)
        return (
            self.browser_url(config["end_session_endpoint"])
            + "?"
            + urlencode({"post_logout_redirect_uri": post_logout_redirect_uri})
        )

    # ------------------------------------------------------- metadata / JWKS
    async def _cached_json(self, url: str) -> Any:
        hit = self._metadata.get(url)
        if hit and hit[0] > time.monotonic():
            return hit[1]
        headers = {"X-Forwarded-Proto": "https"} if self._plain_http else {}
        try:
            response = await self._http.get(
                self.browser_url(url), headers=headers, timeout=self.settings.timeout_seconds
            )
            response.raise_for_status()
        except httpx.HTTPError as exc:
            raise UnavailableError("The sign-in service could not be reached.", detail=str(exc)) from exc
        data = response.json()
        self._metadata[url] = (time.monotonic() + METADATA_TTL, data)
        return data

    async def discovery(self, tenant: str = "organizations") -> dict:
        return await self._cached_json(self._msal_authority(tenant) + "/.well-known/openid-configuration")

    async def verify_id_token(self, id_token: str, *, nonce: str | None, tenant: str = "organizations") -> dict:
        """Check signature (authority's JWKS), audience, issuer, expiry and nonce."""
        config = await self.discovery(tenant)
        jwks = await self._cached_json(config["jwks_uri"])
        try:
            header = jwt.get_unverified_header(id_token)
            keys = {k.get("kid"): k for k in jwks.get("keys", [])}
            jwk = keys.get(header.get("kid"))
            if jwk is None:
                raise jwt.InvalidTokenError("unknown signing key")
            key = jwt.PyJWK(jwk).key
            claims = jwt.decode(
                id_token,
                key,
                algorithms=["RS256"],
                audience=self.settings.client_id,
                leeway=CLOCK_SKEW,
                options={"require": ["exp", "iat", "iss", "aud"]},
            )
        except jwt.PyJWTError as exc:
            raise AuthError(
                "Your sign-in could not be verified. Please sign in again.", code="invalid_id_token", detail=str(exc)
            ) from exc
        expected_iss = config["issuer"].replace("{tenantid}", claims.get("tid", ""))
        if claims["iss"] != expected_iss:
            raise AuthError(
                "Your sign-in could not be verified. Please sign in again.",
                code="invalid_issuer",
                detail=f"iss {claims['iss']!r} != {expected_iss!r}",
            )
        if nonce is not None and claims.get("nonce") != nonce:
            raise AuthError(
                "Your sign-in could not be verified. Please sign in again.",
                code="invalid_nonce",
                detail="nonce mismatch",
            )
        return claims


def sign_in_error_message(error: str | None) -> str:
    """User-presentable text for OAuth error codes returned on the redirect or token call."""
    return {
        "access_denied": "Sign-in was cancelled.",
        "invalid_grant": "The sign-in link has expired. Please sign in again.",
        "consent_required": "An administrator must grant the portal access first.",
    }.get(error or "", "Sign-in failed. Please try again.")


__all__ = ["IdentityClient", "SignInResult", "load_cache", "dump_cache", "msal_nonce_hash"]
