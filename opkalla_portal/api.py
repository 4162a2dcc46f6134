"""The portal's own HTTP routes (sign-in callbacks, downloads) and the security headers.

Reflex mounts its backend beneath this Starlette app (`api_transformer`), so these routes
and the middleware apply to every response on the single port.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import os
import re
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from opkalla_portal import deployment

# Reflex's frontend needs: inline <style>/style attributes (Radix, emotion), `eval` for
# rx.call_script (sign-out, redirects, card tokenisation), the websocket to our own origin,
# and the inline bootstrap scripts of its prerendered pages, which are allowed by their
# SHA-256 (computed per page below) rather than with 'unsafe-inline': an injected
# <img onerror=...> or <script> therefore never runs.
CSP_BASE = (
    "default-src 'self'; "
    "style-src 'self' 'unsafe-inline'; "
    "font-src 'self' data:; "
    "object-src 'none'; "
    "base-uri 'self'; "
    "form-action 'self'; "
    "frame-ancestors 'self'"
)
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
    (b"x-frame-options", b"SAMEORIGIN"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
    (b"cross-origin-opener-policy", b"same-origin"),
]
_INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.DOTALL | re.IGNORECASE)


def _websocket_origins() -> str:
    """ws:// and wss:// for the portal's public origin (CSP 'self' does not cover them everywhere)."""
    from opkalla_portal.settings import load_settings

    public = load_settings().public_url
    host = public.split("://", 1)[1]
    return f"ws://{host} wss://{host}"


def _extra_sources() -> str:
    """Other origins the browser may fetch from and show images of (e.g. an external card
    processor), from OPKALLA_CSP_EXTRA_SOURCES: space-separated https:// origins."""
    raw = os.environ.get("OPKALLA_CSP_EXTRA_SOURCES", "")
    origins = [o for o in raw.split() if re.fullmatch(r"https://[A-Za-z0-9.-]+(:\d+)?", o)]
    return "".join(f" {o}" for o in origins)


def content_security_policy(html: bytes | None = None) -> str:
    """The policy for one response; for our HTML pages, their inline scripts by hash."""
    hashes = ""
    if html:
        digests = {base64.b64encode(hashlib.sha256(body).digest()).decode() for body in _INLINE_SCRIPT.findall(html)}
        hashes = "".join(f" 'sha256-{digest}'" for digest in sorted(digests))
    extra = _extra_sources()
    return (
        f"{CSP_BASE}; script-src 'self' 'unsafe-eval'{hashes}; "
        f"connect-src 'self' {_websocket_origins()}{extra}; img-src 'self' data: blob:{extra}"
    )


def _decoded(start: Message, raw: bytes) -> bytes:
    """The HTML of a response body, unzipped when served precompressed."""
    encoding = dict(start.get("headers", [])).get(b"content-encoding", b"")
    try:
        return gzip.decompress(raw) if encoding == b"gzip" else raw
    except OSError:
        return b""


class SecurityHeadersMiddleware:
    """Adds the security headers and the Content-Security-Policy to every HTTP response.

    HTML responses are buffered (our prerendered pages are a few kilobytes) so the policy
    can name the page's own inline scripts by hash. The pages are static build output;
    nothing a user typed is ever rendered into them on the server.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        # Pages that are not the portal's (the demo's stand-ins for Microsoft's sites).
        self._foreign_prefixes = deployment.current().foreign_page_prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        body = bytearray()
        path = scope.get("path", "")
        foreign_page = bool(self._foreign_prefixes) and path.startswith(self._foreign_prefixes)

        def with_headers(message: Message, html: bytes | None) -> Message:
            headers = list(message.get("headers", []))
            present = {name.lower() for name, _ in headers}
            headers += [(name, value) for name, value in SECURITY_HEADERS if name not in present]
            # A 304 carries no body to hash, and its headers replace the cached page's:
            # leave the cached page's policy (with its script hashes) in force.
            if b"content-security-policy" not in present and message.get("status") != 304 and not foreign_page:
                headers.append((b"content-security-policy", content_security_policy(html).encode()))
            return {**message, "headers": headers}

        async def send_with_headers(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                content_type = dict(message.get("headers", [])).get(b"content-type", b"")
                if content_type.startswith(b"text/html"):
                    start = message  # hold it until the body is complete
                    return
                await send(with_headers(message, None))
                return
            if start is not None and message["type"] == "http.response.pathsend":
                # A static file the server sends itself (Granian's pathsend): read it to hash.
                raw = Path(message["path"]).read_bytes()
                await send(with_headers(start, _decoded(start, raw)))
                await send(message)
                return
            if start is not None and message["type"] == "http.response.body":
                body.extend(message.get("body", b""))
                if message.get("more_body", False):
                    return
                raw = bytes(body)
                await send(with_headers(start, _decoded(start, raw)))
                await send({"type": "http.response.body", "body": raw, "more_body": False})
                return
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def health(_: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def favicon(_: Request) -> RedirectResponse:
    # Browsers ask for /favicon.ico on pages without an icon link (the emulator's sign-in pages).
    return RedirectResponse("/favicon.svg", status_code=301)


def portal_routes() -> list[BaseRoute]:
    """Every route the portal serves besides Reflex's own, in match order."""
    routes: list[BaseRoute] = [Route("/health", health), Route("/favicon.ico", favicon)]
    from opkalla_portal.routes import auth, consent, downloads, partner_center

    routes += auth.ROUTES + downloads.ROUTES + consent.ROUTES + partner_center.ROUTES
    # Then whatever the deployment serves beside the portal (the demo: its stand-ins).
    return routes + deployment.current().extra_routes()


def build_api() -> list:
    """The api_transformer list: our routes first, then the headers on everything."""
    return [Starlette(routes=portal_routes()), SecurityHeadersMiddleware]
