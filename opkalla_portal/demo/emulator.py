"""Demo mode's Microsoft: the emulator's routes served on the portal's own port.

Only the wiring lives here; which URLs the clients call is decided by the demo's deployment
profile (demo/wiring.py), never by `if demo:` in domain code.

The demo binds to 127.0.0.1 unless told otherwise (rxconfig.py, `OPKALLA_HOST`). When it is
reachable from other machines, the emulator's control routes (/emulator/faults, /reset and
/config, which shows the demo client secret) and its persona sign-in (the account picker and
admin consent) ask a request that does not come from this machine (loopback) for the demo
passcode: `OPKALLA_DEMO_PASSCODE`, or one generated once and kept beside the emulator's
database, printed by `make demo` (`cli prepare`). Scripts send it in `X-Demo-Passcode`; a
browser enters it once on /demo/passcode, which sets an HttpOnly cookie.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import ipaddress
import os
import re
import secrets
from functools import lru_cache

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from opkalla_portal.settings import PROJECT_DIR, load_settings

PASSCODE_HEADER = "x-demo-passcode"
PASSCODE_COOKIE = "opkalla_demo_passcode"
PASSCODE_PATH = "/demo/passcode"
# Persona sign-in pages of the emulator's login service (the token endpoint stays open: the
# portal's own server calls it).
_PERSONA_PAGES = re.compile(r"^/login/[^/]+/(oauth2/v2\.0/authorize|v2\.0/adminconsent|adminconsent)$")


@lru_cache(maxsize=1)
def emulator_store():
    """The demo's emulator state (its own SQLite file, kept across restarts)."""
    from opkalla_portal.microsoft.emulator import EmulatorStore

    path = os.environ.get("OPKALLA_EMULATOR_DB") or str(PROJECT_DIR / "data" / "emulator.db")
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    return EmulatorStore(path)


def emulator_routes() -> list[BaseRoute]:
    """The emulator's routes, when demo mode is on; nothing otherwise. Its control routes and
    persona sign-in ask other machines for the demo passcode."""
    if not load_settings().demo_mode:
        return []
    from opkalla_portal.microsoft.emulator import build_emulator_app
    from opkalla_portal.microsoft.emulator.paths import ADMIN_PREFIX, LOGIN_PREFIX

    routes: list[BaseRoute] = [Route(PASSCODE_PATH, passcode_page, methods=["GET", "POST"])]
    for route in build_emulator_app(emulator_store()).routes:
        route = _forgetting_on_reset(route)
        if isinstance(route, Mount) and route.path in (ADMIN_PREFIX, LOGIN_PREFIX):
            route = Mount(route.path, app=PasscodeGate(route.app), name=route.name)
        routes.append(route)
    return routes


def demo_passcode() -> str:
    """The demo passcode: OPKALLA_DEMO_PASSCODE, else one generated once beside the emulator's database."""
    if configured := os.environ.get("OPKALLA_DEMO_PASSCODE", "").strip():
        return configured
    path = os.path.join(os.path.dirname(os.path.abspath(emulator_store().path)), "demo-passcode")
    try:
        with open(path) as file:
            if stored := file.read().strip():
                return stored
    except FileNotFoundError:
        pass
    passcode = "-".join(secrets.token_hex(2) for _ in range(3))  # e.g. 3f9a-07c2-b41e
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(passcode)
    return passcode


def _cookie_value(passcode: str) -> str:
    """What the browser keeps: a keyed hash of the passcode, never the passcode itself."""
    return hmac.new(passcode.encode(), b"opkalla demo passcode", hashlib.sha256).hexdigest()


def from_this_machine(scope: Scope) -> bool:
    client = scope.get("client")
    if not client:
        return False
    try:
        return ipaddress.ip_address(client[0]).is_loopback
    except ValueError:
        return False


def _unlocked(scope: Scope) -> bool:
    """From this machine, or carrying the passcode (header) or the cookie the passcode page set."""
    if from_this_machine(scope):
        return True
    request = Request(scope)
    passcode = demo_passcode()
    sent = request.headers.get(PASSCODE_HEADER, "")
    if sent and hmac.compare_digest(sent.encode(), passcode.encode()):
        return True
    cookie = request.cookies.get(PASSCODE_COOKIE, "")
    return bool(cookie) and hmac.compare_digest(cookie.encode(), _cookie_value(passcode).encode())


class PasscodeGate:
    """Lets a request through to the emulator's control routes or persona sign-in only when
    `_unlocked`; otherwise 401 (a form to enter the passcode for the sign-in pages)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self._gated(scope.get("path", "")) or _unlocked(scope):
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        if scope.get("path", "").startswith("/login/"):
            query = f"?{request.url.query}" if request.url.query else ""
            response: Response = _passcode_form(request.url.path + query, status=401)
        else:
            response = JSONResponse(
                {"error": "This demo asks other machines for its passcode: send it in the X-Demo-Passcode header."},
                status_code=401,
            )
        await response(scope, receive, send)

    @staticmethod
    def _gated(path: str) -> bool:
        return path.startswith("/emulator/") or bool(_PERSONA_PAGES.match(path))


def _safe_next(value: object) -> str:
    text = value if isinstance(value, str) else ""
    if not text.startswith("/") or text.startswith("//") or "\\" in text or any(ord(c) < 32 for c in text):
        return "/sign-in"
    return text


def _passcode_form(next_path: str, *, status: int = 200, error: str = "") -> HTMLResponse:
    message = f'<p role="alert">{html.escape(error)}</p>' if error else ""
    body = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Demo passcode</title></head><body>'
        "<main><h1>Demo passcode</h1><p>This demo is open to this machine only. From another machine, enter the "
        "passcode printed when the demo started.</p>"
        f'{message}<form method="post" action="{PASSCODE_PATH}">'
        f'<input type="hidden" name="next" value="{html.escape(next_path)}">'
        '<label for="passcode">Passcode</label> <input id="passcode" name="passcode" autocomplete="off" required> '
        '<button type="submit">Continue</button></form></main></body></html>'
    )
    return HTMLResponse(body, status_code=status, headers={"Cache-Control": "no-store"})


async def passcode_page(request: Request) -> Response:
    """GET: the form. POST: a right passcode sets the cookie and returns to `next`."""
    if request.method == "GET":
        return _passcode_form(_safe_next(request.query_params.get("next")))
    from opkalla_portal.services import rate_limit

    form = await request.form()
    next_path = _safe_next(form.get("next"))
    client = request.client.host if request.client else "unknown"
    if not rate_limit.hit(f"demo-passcode:{client}", 10, 15 * 60):
        return _passcode_form(next_path, status=429, error="Too many tries. Wait 15 minutes and try again.")
    sent = form.get("passcode")
    passcode = demo_passcode()
    if not isinstance(sent, str) or not hmac.compare_digest(sent.strip().encode(), passcode.encode()):
        return _passcode_form(next_path, status=403, error="That passcode is not right.")
    response = RedirectResponse(next_path, status_code=303)
    response.set_cookie(
        PASSCODE_COOKIE,
        _cookie_value(passcode),
        httponly=True,
        samesite="lax",
        path="/",
        secure=load_settings().secure_cookies,
    )
    return response


def passcode_notice() -> str:
    """The line `make demo` prints: where the demo listens and the passcode for other machines."""
    return (
        f"Demo passcode for other machines: {demo_passcode()} "
        f"(this machine needs none; the demo listens on {os.environ.get('OPKALLA_HOST') or '127.0.0.1'} "
        "unless OPKALLA_HOST says otherwise)"
    )


def _forgetting_on_reset(route: BaseRoute) -> BaseRoute:
    """POST /emulator/reset restores the demo world behind the portal's back: the portal's
    per-tenant cache of Microsoft reads (services/tenant_cache.py) and the directories it holds
    (services/tenant_directory.py) must forget it too."""
    from starlette.routing import Mount, Route

    if isinstance(route, Mount) and any(getattr(r, "path", "").endswith("/reset") for r in route.routes):
        return Mount(route.path, routes=[_forgetting_on_reset(r) for r in route.routes], name=route.name)
    if isinstance(route, Route) and route.path.endswith("/reset"):
        endpoint = route.endpoint

        async def reset_and_forget(request):
            from opkalla_portal.services import tenant_cache, tenant_directory

            try:
                return await endpoint(request)
            finally:
                tenant_cache.clear()
                tenant_directory.clear()

        return Route(route.path, reset_and_forget, methods=sorted(route.methods or ()), name=route.name)
    return route
