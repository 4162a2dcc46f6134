"""Sessions (fixation, revocation, idle expiry, deactivation), routes' authorisation, headers."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlmodel import select
from starlette.applications import Starlette
from starlette.routing import Route

from opkalla_portal.api import SecurityHeadersMiddleware, portal_routes
from opkalla_portal.services.sessions import (
    SESSION_COOKIE,
    create_session,
    hash_token,
    resolve_session,
    revoke_session,
    revoke_user_sessions,
    token_from_cookie_header,
)

DANA = "dana.whitaker@lakesidedental.onmicrosoft.com"
# GET routes anyone may fetch signed out, and why.
PUBLIC_GET_ROUTES = {
    "/health": "load balancer health check, no data",
    "/favicon.ico": "the icon, for pages outside the app",
    "/demo/passcode": "demo mode only: the form where another machine enters the demo passcode",
    "/register": "the invitation link: the code is the credential (rate-limited, tested separately)",
}
PUBLIC_PREFIXES = (
    "/auth/",  # the sign-in flow itself (callbacks check state and code)
    "/emulator",  # the demo's Microsoft emulator, mounted only in demo mode
    "/invite",  # invitation landing: the code is the credential, tested with invitations
)


def _user(db, email=DANA):
    from opkalla_portal.models import PortalUser

    return db.exec(select(PortalUser).where(PortalUser.email == email)).one()


def test_each_sign_in_gets_a_new_unguessable_session_id(seeded):
    """Fixation: the server always issues a fresh id; a cookie the browser brought is ignored."""
    from opkalla_portal.db import session_scope
    from opkalla_portal.models import PortalSession

    with session_scope() as db:
        user = _user(db)
        tokens = {create_session(db, user) for _ in range(20)}
        stored = db.exec(select(PortalSession.token_hash)).all()
    assert len(tokens) == 20 and all(len(t) >= 43 for t in tokens)
    assert not set(tokens) & set(stored), "only the hash of the token is stored"
    with session_scope() as db:
        assert resolve_session(db, "attacker-chosen-session-id") is None


def test_revoked_idle_and_deactivated_sessions_stop_working(seeded):
    from opkalla_portal.db import session_scope
    from opkalla_portal.models import PortalSession

    with session_scope() as db:
        user = _user(db)
        revoked, idle, live = (create_session(db, user) for _ in range(3))
    with session_scope() as db:
        revoke_session(db, revoked)
        record = db.exec(select(PortalSession).where(PortalSession.token_hash == hash_token(idle))).one()
        record.last_seen_at -= timedelta(hours=5)
        db.add(record)
    with session_scope() as db:
        assert resolve_session(db, revoked) is None
        assert resolve_session(db, idle) is None
        assert resolve_session(db, live).email == DANA
    with session_scope() as db:
        user = _user(db)
        assert revoke_user_sessions(db, user.id) >= 1
    with session_scope() as db:
        assert resolve_session(db, live) is None


def test_a_deactivated_user_is_signed_out(seeded):
    from opkalla_portal.db import session_scope

    with session_scope() as db:
        token = create_session(db, _user(db))
    with session_scope() as db:
        user = _user(db)
        user.status = "inactive"
        db.add(user)
    with session_scope() as db:
        assert resolve_session(db, token) is None


@pytest.mark.parametrize(
    "header", ["", "garbage", "opkalla_session", "a=b; opkalla_session=", '"; drop table', "opkalla_session=x" * 500]
)
def test_malformed_cookie_headers_mean_signed_out(seeded, header):
    from opkalla_portal.db import session_scope

    with session_scope() as db:
        assert resolve_session(db, token_from_cookie_header(header)) is None


def _client(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


def _app():
    return SecurityHeadersMiddleware(Starlette(routes=portal_routes()))


def _public_origin() -> str:
    from opkalla_portal.settings import load_settings

    return load_settings().public_url


@pytest.mark.parametrize(
    "method, headers",
    [
        ("GET", {}),  # a link or <img> on another site
        ("POST", {"Origin": "https://evil.example"}),  # another site's form
        ("POST", {"Origin": "null"}),  # a sandboxed frame
        ("POST", {"Sec-Fetch-Site": "cross-site"}),  # no Origin, but the browser says cross-site
        ("POST", {}),  # neither: not a browser on our pages
    ],
)
async def test_another_site_cannot_sign_users_out(seeded, method, headers):
    """Issue 15: /auth/sign-out accepted GET, so any site could sign portal users out."""
    from opkalla_portal.db import session_scope

    with session_scope() as db:
        token = create_session(db, _user(db))
    async with _client(_app()) as client:
        response = await client.request(method, "/auth/sign-out", cookies={SESSION_COOKIE: token}, headers=headers)
    assert response.status_code in (403, 405)
    assert SESSION_COOKIE not in response.headers.get("set-cookie", "")
    with session_scope() as db:
        assert resolve_session(db, token) is not None  # still signed in


async def test_sign_out_from_the_portals_own_pages(seeded):
    from opkalla_portal.db import session_scope

    with session_scope() as db:
        token = create_session(db, _user(db))
    async with _client(_app()) as client:
        response = await client.post(
            "/auth/sign-out", cookies={SESSION_COOKIE: token}, headers={"Sec-Fetch-Site": "same-origin"}
        )
    assert response.status_code == 303
    with session_scope() as db:
        assert resolve_session(db, token) is None


def _get_routes() -> list[str]:
    paths = []
    for route in portal_routes():
        if isinstance(route, Route) and "GET" in (route.methods or set()):
            paths.append(route.path)
    return paths


async def test_every_private_get_route_refuses_a_signed_out_caller(seeded):
    private = [p for p in _get_routes() if p not in PUBLIC_GET_ROUTES and not p.startswith(PUBLIC_PREFIXES)]
    async with _client(_app()) as client:
        for path in private:
            url = path.replace("{", "").replace("}", "")  # fill path parameters with their names
            response = await client.get(url, follow_redirects=False)
            assert response.status_code in (302, 303, 307, 401, 403, 404), f"{path}: {response.status_code}"
            if response.status_code in (302, 303, 307):
                assert "/sign-in" in response.headers["location"], path


async def test_private_get_routes_refuse_another_customers_ids(seeded):
    """Bayview's admin asks for each route with Lakeside's ids: never a 200."""
    from opkalla_portal.db import session_scope
    from tests.security.test_state_handlers import _lakeside_ids

    with session_scope() as db:
        token = create_session(db, _user(db, "tom.becker@bayviewlogistics.onmicrosoft.com"))
    private = [
        p for p in _get_routes() if p not in PUBLIC_GET_ROUTES and not p.startswith(PUBLIC_PREFIXES) and "{" in p
    ]
    async with _client(_app()) as client:
        for path in private:
            for value in _lakeside_ids():
                url = path.split("{")[0] + str(value)
                response = await client.get(url, cookies={SESSION_COOKIE: token})
                assert response.status_code != 200 or "Lakeside" not in response.text, url


async def test_security_headers_on_every_response(seeded):
    async with _client(_app()) as client:
        for path in ["/health", "/auth/sign-out", "/no-such-page", *_get_routes()]:
            response = await client.get(path.replace("{", "").replace("}", ""))
            headers = response.headers
            assert headers["x-content-type-options"] == "nosniff", path
            assert headers["referrer-policy"] == "strict-origin-when-cross-origin", path
            csp = headers["content-security-policy"]
            for directive in (
                "default-src",
                "script-src",
                "frame-ancestors 'self'",
                "object-src 'none'",
                "base-uri 'self'",
                "form-action",
            ):
                assert directive in csp, (path, directive)


async def test_sign_out_deletes_the_cookie_and_revokes_the_session(seeded):
    from opkalla_portal.db import session_scope

    with session_scope() as db:
        token = create_session(db, _user(db))
    async with _client(_app()) as client:
        response = await client.post(
            "/auth/sign-out", cookies={SESSION_COOKIE: token}, headers={"Origin": _public_origin()}
        )
    # Back to sign-in, directly or through Microsoft's sign-out (which returns there).
    assert response.status_code == 303 and "sign-in" in response.headers["location"]
    cleared = response.headers["set-cookie"]
    assert f"{SESSION_COOKIE}=" in cleared and ("Max-Age=0" in cleared or "expires=" in cleared.lower())
    with session_scope() as db:
        assert resolve_session(db, token) is None


async def test_session_cookies_set_by_any_route_are_httponly_samesite_and_path_root(seeded):
    """Whatever route sets the session cookie (sign-in callbacks, invitations) sets it safely."""
    from opkalla_portal.db import session_scope

    with session_scope() as db:
        token = create_session(db, _user(db))
    seen = []
    async with _client(_app()) as client:
        for path in _get_routes():
            response = await client.get(path.replace("{", "").replace("}", ""), cookies={SESSION_COOKIE: token})
            for cookie in response.headers.get_list("set-cookie"):
                if cookie.startswith(f"{SESSION_COOKIE}=") and "Max-Age=0" not in cookie:
                    seen.append(path)
                    lowered = cookie.lower()
                    assert "httponly" in lowered and "samesite=lax" in lowered and "path=/" in lowered, cookie
    # Without a route that sets it (the sign-in feature adds them), the check is vacuous:
    # say so rather than pass silently.
    if not seen:
        pytest.skip("no route set a session cookie on a plain GET (sign-in callbacks need a code)")


@pytest.mark.parametrize("kind", ["chunked", "gzip", "pathsend"])
async def test_html_pages_allow_exactly_their_own_inline_scripts(kind, tmp_path):
    """The policy names each inline script of the page by hash, however the page is sent."""
    import base64
    import gzip
    import hashlib

    html = b"<html><script>boot()</script><script src='/app.js'></script><p>x</p></html>"
    sent = []

    async def app(scope, receive, send):
        headers = [(b"content-type", b"text/html; charset=utf-8")]
        if kind == "gzip":
            headers.append((b"content-encoding", b"gzip"))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        if kind == "pathsend":
            path = tmp_path / "page.html"
            path.write_bytes(html)
            await send({"type": "http.response.pathsend", "path": str(path)})
        elif kind == "gzip":
            await send({"type": "http.response.body", "body": gzip.compress(html)})
        else:
            await send({"type": "http.response.body", "body": html[:10], "more_body": True})
            await send({"type": "http.response.body", "body": html[10:]})

    async def send(message):
        sent.append(message)

    await SecurityHeadersMiddleware(app)({"type": "http", "extensions": {}}, None, send)
    csp = dict(sent[0]["headers"])[b"content-security-policy"].decode()
    script_src = csp.split("script-src", 1)[1].split(";", 1)[0]
    expected = base64.b64encode(hashlib.sha256(b"boot()").digest()).decode()
    assert f"'sha256-{expected}'" in script_src and "'unsafe-inline'" not in script_src
    assert sent[0]["type"] == "http.response.start" and len(sent) == 2


async def test_not_modified_responses_keep_the_cached_pages_policy():
    """A 304's headers replace the cached page's: a hash-less policy there would block the
    page's own scripts on the next visit."""
    sent = []

    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 304, "headers": [(b"etag", b'"x"')]})
        await send({"type": "http.response.body", "body": b""})

    async def send(message):
        sent.append(message)

    await SecurityHeadersMiddleware(app)({"type": "http"}, None, send)
    headers = dict(sent[0]["headers"])
    assert b"content-security-policy" not in headers and headers[b"x-content-type-options"] == b"nosniff"


def test_extra_csp_sources_accept_only_https_origins(monkeypatch):
    from opkalla_portal.api import content_security_policy

    monkeypatch.setenv("OPKALLA_CSP_EXTRA_SOURCES", "https://pay.example.com javascript:alert(1) * http://x.example")
    csp = content_security_policy(None)
    connect = csp.split("connect-src", 1)[1].split(";", 1)[0]
    assert "https://pay.example.com" in connect
    assert "javascript:" not in csp and "http://x.example" not in csp and " * " not in f"{connect} "


async def test_the_demo_emulator_pages_are_not_held_to_the_portals_policy(seeded):
    """The emulator stands in for Microsoft's own sites (its sign-in page auto-submits with
    an inline handler); the portal's pages keep their policy."""
    async with _client(_app()) as client:
        emulator = await client.get("/login/organizations/v2.0/.well-known/openid-configuration")
        portal = await client.get("/health")
    assert "content-security-policy" not in emulator.headers
    assert emulator.headers["x-content-type-options"] == "nosniff"
    assert "content-security-policy" in portal.headers
