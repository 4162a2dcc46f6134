"""Sign-in, sign-out and invitation routes: plain HTTP, because only a server response can set
an HttpOnly cookie. The work is in services.sign_in and services.invitations."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from opkalla_portal.db import session_scope
from opkalla_portal.microsoft.errors import MicrosoftError
from opkalla_portal.services import invitations, sign_in
from opkalla_portal.services.sessions import SESSION_COOKIE
from opkalla_portal.settings import load_settings

log = logging.getLogger(__name__)
ATTEMPT_COOKIE = "opkalla_sign_in"


def _redirect(url: str) -> RedirectResponse:
    response = RedirectResponse(url, status_code=303)
    response.headers["cache-control"] = "no-store"
    return response


def _to_microsoft(started: sign_in.Started) -> RedirectResponse:
    """Off to Microsoft, leaving the attempt's key in this browser for the way back."""
    response = _redirect(started.auth_uri)
    secure = load_settings().secure_cookies
    # Microsoft returns with a cross-site POST (form_post), which carries only SameSite=None
    # cookies; on plain-http localhost (the emulator on the same site) Lax is enough.
    response.set_cookie(
        ATTEMPT_COOKIE,
        started.browser_key,
        max_age=int(sign_in.ATTEMPT_LIFETIME.total_seconds()),
        path="/auth/callback",
        httponly=True,
        secure=secure,
        samesite="none" if secure else "lax",
    )
    return response


def _client_address(request: Request) -> str:
    # X-Forwarded-For is not trusted: no proxy hops are configured.
    return request.client.host if request.client else "unknown"


async def begin_sign_in(request: Request) -> Response:
    """GET /auth/sign-in?next=/page: off to Microsoft."""
    try:
        started = await sign_in.begin(next_path=sign_in.safe_next(request.query_params.get("next", "/")))
    except MicrosoftError as error:
        log.warning("Sign-in could not start: %s", error)
        return _redirect("/no-access?reason=unavailable")
    return _to_microsoft(started)


async def callback(request: Request) -> Response:
    """Microsoft's redirect back (query string, or form_post)."""
    params = {key: value for key, value in request.query_params.items()}
    if request.method == "POST":
        params.update({key: value for key, value in (await request.form()).items() if isinstance(value, str)})
    # A session this browser already holds ends when someone signs in here (another user, or again).
    outcome = await sign_in.complete(
        params, request.cookies.get(ATTEMPT_COOKIE), previous_session=request.cookies.get(SESSION_COOKIE)
    )
    response = _redirect(outcome.redirect_to)
    response.delete_cookie(ATTEMPT_COOKIE, path="/auth/callback")
    if outcome.session_token:
        response.set_cookie(
            SESSION_COOKIE,
            outcome.session_token,
            path="/",
            httponly=True,
            samesite="lax",
            secure=load_settings().secure_cookies,
        )
    return response


async def register(request: Request) -> Response:
    """GET /register?code=...: the invitation link. A good code goes on to Microsoft sign-in."""
    client = _client_address(request)
    if invitations.too_many_failed_checks(client):
        return _redirect("/no-access?reason=too_many_attempts")
    with session_scope() as db:
        check = invitations.check_invitation(db, request.query_params.get("code"))
        invitation_id = check.invitation.id if check.invitation else None
    if check.problem:
        if check.problem == "invitation_invalid":
            invitations.note_failed_check(client)
        return _redirect(f"/no-access?reason={check.problem}")
    try:
        started = await sign_in.begin(next_path="/", invitation_id=invitation_id)
    except MicrosoftError as error:
        log.warning("Registration could not start sign-in: %s", error)
        return _redirect("/no-access?reason=unavailable")
    return _to_microsoft(started)


def from_portal_pages(request: Request) -> bool:
    """CSRF check for a state-changing POST: it must come from the portal's own pages.

    Browsers send Origin with every POST (same-origin ones included); it must be the portal's
    public origin, as for the websocket (rxconfig's cors_allowed_origins). Without Origin,
    Sec-Fetch-Site must say same-origin. Another site's form or script fails both.
    """
    public = urlsplit(load_settings().public_url)
    origin = request.headers.get("origin")
    if origin is not None:
        return origin.rstrip("/").lower() == f"{public.scheme}://{public.netloc}".lower()
    return request.headers.get("sec-fetch-site") == "same-origin"


async def sign_out(request: Request) -> Response:
    """POST from the portal's Sign out (never GET, never another site): revoke the session,
    drop the cookie, then sign out of Microsoft, which returns to /sign-in."""
    if not from_portal_pages(request):
        return PlainTextResponse("Sign-out must come from the portal's own pages.", status_code=403)
    end_session = await sign_in.sign_out(request.cookies.get(SESSION_COOKIE))
    response = _redirect(end_session)
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=load_settings().secure_cookies
    )
    return response


ROUTES: list[BaseRoute] = [
    Route("/auth/sign-in", begin_sign_in, methods=["GET"]),
    Route("/auth/callback", callback, methods=["GET", "POST"]),
    Route("/auth/sign-out", sign_out, methods=["POST"]),
    Route("/register", register, methods=["GET"]),
]
