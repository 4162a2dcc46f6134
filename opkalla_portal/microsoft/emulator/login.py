"""The emulator's OpenID Connect provider, laid out like Entra ID's v2.0 endpoints:

    /login/{tenant}/v2.0/.well-known/openid-configuration
    /login/{tenant}/discovery/v2.0/keys
    /login/{tenant}/oauth2/v2.0/authorize     (persona picker)
    /login/{tenant}/oauth2/v2.0/token         (authorization_code, refresh_token, client_credentials)
    /login/{tenant}/oauth2/v2.0/logout
    /login/{tenant}/v2.0/adminconsent          (admin consent page)

``tenant`` may be a tenant id, a verified domain or ``organizations``/``common``.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import secrets
import time
import uuid
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from opkalla_portal.demo import demo_data

from .context import Emulator
from .paths import PARTNER_TENANT_ID
from .tokens import ACCESS_TOKEN_LIFETIME, ID_TOKEN_LIFETIME, access_token_claims, scope_audience, short_scope

GLOBAL_ADMIN = demo_data.GLOBAL_ADMIN_ROLE_TEMPLATE_ID
CONSENT_PERMISSIONS = [
    ("User.Read.All", "Read all users' full profiles"),
    ("LicenseAssignment.ReadWrite.All", "Read and write all license assignments"),
    ("Directory.Read.All", "Read directory data"),
    ("AuditLog.Read.All", "Read all audit log data (users' sign-in activity)"),
]
MULTI_TENANT = {"organizations", "common"}
CODE_LIFETIME = 600


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def oauth_error(status: int, error: str, description: str) -> JSONResponse:
    return JSONResponse(
        {
            "error": error,
            "error_description": description,
            "error_codes": [],
            "timestamp": time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime()),
            "trace_id": str(uuid.uuid4()),
            "correlation_id": str(uuid.uuid4()),
        },
        status_code=status,
    )


PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:Segoe UI,Arial,sans-serif;background:#f2f2f2;margin:0}}
main{{max-width:440px;margin:60px auto;background:#fff;padding:36px 44px;box-shadow:0 2px 6px rgba(0,0,0,.2)}}
h1{{font-size:24px;font-weight:600}} button{{display:block;width:100%;text-align:left;padding:12px;margin:6px 0;
border:1px solid #ccc;background:#fff;font-size:15px;cursor:pointer}} button:hover{{background:#eef}}
.small{{color:#666;font-size:13px}} .row button{{display:inline-block;width:auto;margin-right:8px}}
.primary{{background:#0067b8;color:#fff;border-color:#0067b8}}</style></head>
<body><main><div class="small">Microsoft (emulator)</div><h1>{title}</h1>{body}</main></body></html>"""


def login_routes(emulator: Emulator) -> list[Route]:
    store = emulator.store

    def resolve_tenant(tenant: str) -> str | None:
        """A tenant id for a GUID or domain; None when unknown. organizations stays as is."""
        t = tenant.lower()
        if t in MULTI_TENANT:
            return t
        with store.read() as tx:
            if tx.get("tenant", t):
                return t
            for doc in tx.list("tenant"):
                if doc.get("domain", "").lower() == t:
                    return doc["id"]
        return None

    def known_client(client_id: str | None) -> bool:
        return client_id == demo_data.DEMO_APP_CLIENT_ID

    # ------------------------------------------------------------ discovery
    async def openid_configuration(request: Request) -> Response:
        tenant = resolve_tenant(request.path_params["tenant"])
        if tenant is None:
            return oauth_error(
                400, "invalid_tenant", f"AADSTS90002: Tenant '{request.path_params['tenant']}' not found."
            )
        base = emulator.base_url(request) + "/login"
        path_tenant = request.path_params["tenant"]
        issuer_tenant = "{tenantid}" if tenant in MULTI_TENANT else tenant
        return JSONResponse(
            {
                "issuer": f"{base}/{issuer_tenant}/v2.0",
                "authorization_endpoint": f"{base}/{path_tenant}/oauth2/v2.0/authorize",
                "token_endpoint": f"{base}/{path_tenant}/oauth2/v2.0/token",
                "end_session_endpoint": f"{base}/{path_tenant}/oauth2/v2.0/logout",
                "jwks_uri": f"{base}/{path_tenant}/discovery/v2.0/keys",
                "userinfo_endpoint": emulator.graph_base(request) + "/me",
                "response_types_supported": ["code", "id_token", "code id_token"],
                "response_modes_supported": ["query", "fragment", "form_post"],
                "subject_types_supported": ["pairwise"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "scopes_supported": ["openid", "profile", "email", "offline_access"],
                "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
                "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
                "code_challenge_methods_supported": ["S256", "plain"],
                "claims_supported": [
                    "sub",
                    "iss",
                    "aud",
                    "exp",
                    "iat",
                    "nonce",
                    "name",
                    "preferred_username",
                    "email",
                    "oid",
                    "tid",
                    "wids",
                ],
                "tenant_region_scope": "NA",
                "cloud_instance_name": "microsoftonline.com",
            }
        )

    async def jwks(request: Request) -> Response:
        return JSONResponse(emulator.signer.jwks())

    # ------------------------------------------------------------ authorize
    def personas_for(tenant: str) -> list[dict]:
        with store.read() as tx:
            people = tx.list("persona")
        if tenant not in MULTI_TENANT:
            people = [p for p in people if p["tid"] == tenant]
        return sorted(people, key=lambda p: p.get("order", 0))

    async def authorize(request: Request) -> Response:
        params = dict(request.query_params)
        if request.method == "POST":
            params.update(dict(await request.form()))
        tenant = resolve_tenant(request.path_params["tenant"])
        if tenant is None:
            return HTMLResponse(PAGE.format(title="Sign in", body="<p>AADSTS90002: Tenant not found.</p>"), 400)
        if not known_client(params.get("client_id")):
            return HTMLResponse(
                PAGE.format(
                    title="Sign in",
                    body=(
                        "<p>AADSTS700016: Application with identifier "
                        f"'{html.escape(params.get('client_id', ''))}' was not found in the directory.</p>"
                    ),
                ),
                400,
            )
        redirect_uri = params.get("redirect_uri")
        if not redirect_uri or params.get("response_type", "code") != "code":
            return HTMLResponse(
                PAGE.format(
                    title="Sign in", body="<p>AADSTS900144: redirect_uri and response_type=code are required.</p>"
                ),
                400,
            )
        if request.method == "POST":
            if params.get("action") == "cancel":
                return finish_redirect(
                    redirect_uri,
                    params,
                    {"error": "access_denied", "error_description": "AADSTS65004: User declined to sign in."},
                )
            persona = next((p for p in personas_for(tenant) if p["oid"] == params.get("persona")), None)
            if persona is None:
                return HTMLResponse(PAGE.format(title="Pick an account", body="<p>Unknown account.</p>"), 400)
            code = secrets.token_urlsafe(32)
            with store.transaction() as tx:
                tx.put(
                    "auth_code",
                    code,
                    {
                        "clientId": params["client_id"],
                        "redirectUri": redirect_uri,
                        "scope": params.get("scope", ""),
                        "nonce": params.get("nonce"),
                        "codeChallenge": params.get("code_challenge"),
                        "codeChallengeMethod": params.get("code_challenge_method", "plain"),
                        "oid": persona["oid"],
                        "tid": persona["tid"],
                        "expires": time.time() + CODE_LIFETIME,
                        # The demo personas sign in with password and MFA; "without MFA" is the
                        # emulator's way to show a sign-in that skipped it.
                        "amr": ["pwd"] if params.get("mfa") == "skip" else ["pwd", "mfa"],
                    },
                )
            return finish_redirect(redirect_uri, params, {"code": code, "session_state": str(uuid.uuid4())})
        hidden = "".join(
            f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
            for k, v in params.items()
            if k not in ("persona", "action", "mfa")
        )
        buttons = "".join(
            f'<button type="submit" name="persona" value="{p["oid"]}" aria-label="{html.escape(p["name"])}">'
            f'<strong>{html.escape(p["name"])}</strong><br><span class="small">{html.escape(p["email"])}</span>'
            "</button>"
            for p in personas_for(tenant)
        )
        body = (
            f'<form method="post">{hidden}{buttons}'
            '<p><label class="small"><input type="checkbox" name="mfa" value="skip"> '
            "Sign in without MFA (emulator: a sign-in that skipped multifactor authentication)</label></p>"
            '<div class="row"><button type="submit" name="action" value="cancel">Cancel</button></div></form>'
        )
        return HTMLResponse(PAGE.format(title="Pick an account", body=body))

    def finish_redirect(redirect_uri: str, params: dict, result: dict) -> Response:
        if params.get("state"):
            result["state"] = params["state"]
        if params.get("response_mode") == "form_post":
            fields = "".join(
                f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(str(v))}">'
                for k, v in result.items()
            )
            return HTMLResponse(
                f'<html><body onload="document.forms[0].submit()"><form method="post" '
                f'action="{html.escape(redirect_uri)}">{fields}</form></body></html>'
            )
        sep = "&" if "?" in redirect_uri else "?"
        return RedirectResponse(redirect_uri + sep + urlencode(result), status_code=302)

    # ---------------------------------------------------------------- token
    async def token(request: Request) -> Response:
        form = dict(await request.form())
        client_id, secret = form.get("client_id"), form.get("client_secret")
        basic = request.headers.get("authorization", "")
        if basic.lower().startswith("basic "):
            client_id, _, secret = base64.b64decode(basic[6:]).decode().partition(":")
        if not known_client(client_id):
            return oauth_error(
                400, "unauthorized_client", f"AADSTS700016: Application with identifier '{client_id}' was not found."
            )
        if secret != demo_data.DEMO_APP_CLIENT_SECRET:
            return oauth_error(401, "invalid_client", "AADSTS7000215: Invalid client secret provided.")
        grant = form.get("grant_type")
        path_tenant = resolve_tenant(request.path_params["tenant"])
        if path_tenant is None:
            return oauth_error(400, "invalid_request", "AADSTS90002: Tenant not found.")
        if grant == "client_credentials":
            scope = form.get("scope", "")
            if not scope.endswith("/.default"):
                return oauth_error(
                    400,
                    "invalid_scope",
                    "AADSTS1002012: The provided value for scope is not valid. "
                    "Client credential flows must have a scope value with /.default suffixed.",
                )
            if path_tenant in MULTI_TENANT:
                return oauth_error(
                    400, "invalid_request", "AADSTS700016: Use a tenant-specific endpoint for client credentials."
                )
            with store.read() as tx:
                consent = tx.get("consent", path_tenant) or {}
            # The roles are the application permissions the tenant granted (all of the
            # portal's unless its consent record lists fewer, e.g. without AuditLog.Read.All).
            roles = consent.get("roles") or [p for p, _ in CONSENT_PERMISSIONS]
            if path_tenant == PARTNER_TENANT_ID and "roles" not in consent:
                # The partner's own app registration is also granted partner billing exports.
                roles = [*roles, "PartnerBilling.Read.All"]
            claims = access_token_claims(
                issuer=emulator.issuer(request, path_tenant),
                audience=scope_audience([scope]),
                tid=path_tenant,
                client_id=client_id,
                scope=None,
                roles=roles,
            )
            return JSONResponse(
                {
                    "token_type": "Bearer",
                    "expires_in": ACCESS_TOKEN_LIFETIME,
                    "ext_expires_in": ACCESS_TOKEN_LIFETIME,
                    "access_token": emulator.signer.sign(claims),
                }
            )
        if grant == "authorization_code":
            with store.transaction() as tx:
                grant_doc = tx.get("auth_code", form.get("code", ""))
                if grant_doc:
                    tx.delete("auth_code", form["code"])  # single use
            if not grant_doc or grant_doc["expires"] < time.time() or grant_doc["clientId"] != client_id:
                return oauth_error(
                    400,
                    "invalid_grant",
                    "AADSTS70008: The provided authorization code or refresh token has expired or was already used.",
                )
            if grant_doc["redirectUri"] != form.get("redirect_uri"):
                return oauth_error(
                    400,
                    "invalid_grant",
                    "AADSTS50148: The redirect_uri does not match the one used in the authorization request.",
                )
            if grant_doc.get("codeChallenge") and not pkce_ok(grant_doc, form.get("code_verifier")):
                return oauth_error(
                    400,
                    "invalid_grant",
                    "AADSTS501481: The Code_Verifier does not match the "
                    "code_challenge supplied in the authorization request.",
                )
            return issue_user_tokens(
                request,
                client_id,
                grant_doc["oid"],
                grant_doc["scope"],
                grant_doc.get("nonce"),
                form.get("client_info"),
                grant_doc.get("amr"),
            )
        if grant == "refresh_token":
            with store.read() as tx:
                refresh = tx.get("refresh_token", hashlib.sha256(form.get("refresh_token", "").encode()).hexdigest())
            if not refresh or refresh["clientId"] != client_id:
                return oauth_error(400, "invalid_grant", "AADSTS70000: The refresh token is invalid or expired.")
            # A refresh token carries the authentication it came from: MFA done at sign-in
            # stays in the amr of every access token redeemed from it.
            return issue_user_tokens(
                request,
                client_id,
                refresh["oid"],
                form.get("scope") or refresh["scope"],
                None,
                form.get("client_info"),
                refresh.get("amr"),
            )
        return oauth_error(400, "unsupported_grant_type", f"AADSTS70003: grant_type {grant!r} is not supported.")

    def issue_user_tokens(
        request: Request,
        client_id: str,
        oid: str,
        scope: str,
        nonce: str | None,
        client_info: str | None,
        amr: list[str] | None,
    ) -> Response:
        with store.transaction() as tx:
            persona = tx.get("persona", oid)
            if persona is None:
                return oauth_error(400, "invalid_grant", "AADSTS50034: The user account does not exist.")
            refresh_token = secrets.token_urlsafe(48)
            tx.put(
                "refresh_token",
                hashlib.sha256(refresh_token.encode()).hexdigest(),
                {"clientId": client_id, "oid": oid, "scope": scope, "amr": amr or ["pwd"]},
                tenant=persona["tid"],
            )
        tid = persona["tid"]
        issuer = emulator.issuer(request, tid)
        # Entra puts wids in tokens only when the app registration's manifest asks for it
        # (groupMembershipClaims "All" or "DirectoryRole"); a new registration does not.
        with store.read() as tx:
            registration = json.loads(tx.meta("app_registration") or "{}")
        wids_claimed = registration.get("groupMembershipClaims") in ("All", "DirectoryRole")
        wids = [GLOBAL_ADMIN] if persona.get("globalAdmin") and wids_claimed else []
        now = int(time.time())
        id_claims = {
            "iss": issuer,
            "aud": client_id,
            "sub": oid,
            "oid": oid,
            "tid": tid,
            "ver": "2.0",
            "name": persona["name"],
            "preferred_username": persona["email"],
            "email": persona["email"],
            "iat": now,
            "nbf": now,
            "exp": now + ID_TOKEN_LIFETIME,
        }
        if wids_claimed:
            id_claims["wids"] = wids
        if nonce:
            id_claims["nonce"] = nonce
        scopes = [s for s in scope.split() if s not in ("openid", "profile", "offline_access", "email")]
        access = access_token_claims(
            issuer=issuer,
            audience=scope_audience(scopes),
            tid=tid,
            client_id=client_id,
            scope=" ".join(short_scope(s) for s in scopes) or "User.Read",
            oid=oid,
            name=persona["name"],
            upn=persona["email"],
            wids=wids,
            amr=amr,
        )
        body = {
            "token_type": "Bearer",
            "scope": " ".join(scopes) or "User.Read",
            "expires_in": ACCESS_TOKEN_LIFETIME,
            "ext_expires_in": ACCESS_TOKEN_LIFETIME,
            "access_token": emulator.signer.sign(access),
            "refresh_token": refresh_token,
            "id_token": emulator.signer.sign(id_claims),
        }
        if client_info:
            body["client_info"] = b64url(json.dumps({"uid": oid, "utid": tid}).encode())
        return JSONResponse(body)

    # --------------------------------------------------------------- logout
    async def logout(request: Request) -> Response:
        target = request.query_params.get("post_logout_redirect_uri")
        if target:
            return RedirectResponse(target, status_code=302)
        return HTMLResponse(
            PAGE.format(
                title="You signed out of your account", body="<p>It's a good idea to close all browser windows.</p>"
            )
        )

    # --------------------------------------------------------- admin consent
    async def admin_consent(request: Request) -> Response:
        params = dict(request.query_params)
        if request.method == "POST":
            params.update(dict(await request.form()))
        tenant = resolve_tenant(request.path_params["tenant"])
        redirect_uri = params.get("redirect_uri")
        if tenant is None or not known_client(params.get("client_id")) or not redirect_uri:
            return HTMLResponse(
                PAGE.format(
                    title="Permissions requested",
                    body=("<p>AADSTS700016: unknown application, tenant or missing redirect_uri.</p>"),
                ),
                400,
            )
        if tenant == "common":
            return HTMLResponse(
                PAGE.format(
                    title="Permissions requested", body="<p>AADSTS90130: Admin consent needs a tenant, not common.</p>"
                ),
                400,
            )
        admins = [p for p in personas_for(tenant) if p.get("globalAdmin")]
        scope = params.get("scope", "https://graph.microsoft.com/.default")
        if request.method == "POST":
            if params.get("action") != "accept":
                return finish_redirect(
                    redirect_uri,
                    params,
                    {
                        "error": "access_denied",
                        "error_description": "AADSTS65004: User declined to consent to access the app.",
                    },
                )
            admin = next((p for p in admins if p["oid"] == params.get("admin")), admins[0] if admins else None)
            if admin is None:
                return finish_redirect(
                    redirect_uri,
                    params,
                    {
                        "error": "access_denied",
                        "error_description": "AADSTS90094: An administrator must grant consent.",
                    },
                )
            with store.transaction() as tx:
                tx.put(
                    "consent",
                    admin["tid"],
                    {
                        "tenant": admin["tid"],
                        "clientId": params["client_id"],
                        "scope": scope,
                        "grantedBy": admin["oid"],
                        "grantedAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    },
                )
            return finish_redirect(
                redirect_uri, params, {"admin_consent": "True", "tenant": admin["tid"], "scope": scope}
            )
        hidden = "".join(
            f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
            for k, v in params.items()
            if k not in ("action", "admin")
        )
        perms = "".join(
            f"<li><strong>{p}</strong><br><span class='small'>{d}</span></li>" for p, d in CONSENT_PERMISSIONS
        )
        who = "".join(
            f'<label><input type="radio" name="admin" value="{a["oid"]}" {"checked" if i == 0 else ""}> '
            f"{html.escape(a['name'])} ({html.escape(a['email'])})</label><br>"
            for i, a in enumerate(admins)
        )
        body = (
            f"<p><strong>Opkalla Customer Portal</strong> needs permission to access resources in your "
            f"organization that only an admin can grant.</p><p>Signed in as:</p><form method='post'>{hidden}{who}"
            f"<p>This app would like to:</p><ul>{perms}</ul>"
            "<p class='small'>Accepting grants these permissions for all users in your organization.</p>"
            "<div class='row'><button type='submit' name='action' value='cancel'>Cancel</button>"
            "<button class='primary' type='submit' name='action' value='accept'>Accept</button></div></form>"
        )
        return HTMLResponse(PAGE.format(title="Permissions requested", body=body))

    return [
        Route("/{tenant}/v2.0/.well-known/openid-configuration", openid_configuration, methods=["GET"]),
        Route("/{tenant}/discovery/v2.0/keys", jwks, methods=["GET"]),
        Route("/{tenant}/oauth2/v2.0/authorize", authorize, methods=["GET", "POST"]),
        Route("/{tenant}/oauth2/v2.0/token", token, methods=["POST"]),
        Route("/{tenant}/oauth2/v2.0/logout", logout, methods=["GET", "POST"]),
        Route("/{tenant}/v2.0/adminconsent", admin_consent, methods=["GET", "POST"]),
        Route("/{tenant}/adminconsent", admin_consent, methods=["GET", "POST"]),
    ]


def pkce_ok(grant: dict, verifier: str | None) -> bool:
    if not verifier:
        return False
    if grant.get("codeChallengeMethod", "plain").upper() == "S256":
        return b64url(hashlib.sha256(verifier.encode()).digest()) == grant["codeChallenge"]
    return verifier == grant["codeChallenge"]
