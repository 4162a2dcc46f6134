"""What every emulator route needs: the store, the signer, faults and URL helpers."""

from __future__ import annotations

import asyncio
import functools
import inspect
import json
import os
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import jwt
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .faults import FaultInjector
from .paths import GRAPH_PREFIX, LOGIN_PREFIX, PARTNER_CENTER_PREFIX, PARTNER_TENANT_ID
from .store import EmulatorStore
from .tokens import GRAPH_AUDIENCE, PARTNER_CENTER_AUDIENCE, Signer

BaseUrlGetter = Callable[[Request], str] | Callable[[], str] | None


class Emulator:
    """Shared state of one emulator app (everything persistent is in ``store``)."""

    def __init__(self, store: EmulatorStore, public_base_url: BaseUrlGetter = None) -> None:
        self.store = store
        self._public_base_url = public_base_url
        # The getter may take the request or nothing; decide once.
        self._getter_takes_request = bool(public_base_url) and bool(inspect.signature(public_base_url).parameters)
        self.faults = FaultInjector()
        # Graph runs the requests of a $batch in no guaranteed order; the emulator picks a
        # random one, seeded so that a failing order can be replayed (EMULATOR_BATCH_SEED).
        self.batch_rng = random.Random(int(os.environ.get("EMULATOR_BATCH_SEED", "20")))
        self._signer: Signer | None = None

    @property
    def signer(self) -> Signer:
        if self._signer is None:
            with self.store.transaction() as tx:
                self._signer = Signer.load_or_create(tx)
        return self._signer

    def base_url(self, request: Request) -> str:
        """Public base URL, computed from the incoming request unless a getter was given,
        so issuers and links are right on any port and when mounted in the portal."""
        getter = self._public_base_url
        if getter is not None:
            value = getter(request) if self._getter_takes_request else getter()  # type: ignore[call-arg]
            return value.rstrip("/")
        headers = request.headers
        scheme = headers.get("x-forwarded-proto", request.url.scheme).split(",")[0].strip()
        host = headers.get("x-forwarded-host") or headers.get("host") or request.url.netloc
        return f"{scheme}://{host.split(',')[0].strip()}"

    def graph_base(self, request: Request) -> str:
        return self.base_url(request) + GRAPH_PREFIX

    def partner_center_base(self, request: Request) -> str:
        return self.base_url(request) + PARTNER_CENTER_PREFIX

    def issuer(self, request: Request, tenant: str) -> str:
        return f"{self.base_url(request)}{LOGIN_PREFIX}/{tenant}/v2.0"


def utc_now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")


# ------------------------------------------------------------ error envelopes
def graph_error(
    status: int, code: str, message: str, request: Request | None = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    body = graph_error_body(code, message, request)
    return JSONResponse(body, status_code=status, headers=headers)


def graph_error_body(code: str, message: str, request: Request | None = None) -> dict:
    return {
        "error": {
            "code": code,
            "message": message,
            "innerError": {
                "date": utc_now_iso(),
                "request-id": str(uuid.uuid4()),
                "client-request-id": (request.headers.get("client-request-id") if request else None)
                or str(uuid.uuid4()),
            },
        }
    }


def pc_error(status: int, code: int | str, description: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(
        {"code": code, "description": description, "data": [], "source": "PartnerFD"},
        status_code=status,
        headers=headers,
    )


def openai_error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status, headers=headers)


def service_error(service: str, status: int, request: Request, headers: dict[str, str] | None = None) -> Response:
    """An injected fault in the service's own envelope."""
    if status == 429:
        retry = (headers or {}).get("Retry-After", "1")
        if service == "graph":
            return graph_error(429, "TooManyRequests", "Too many requests. Please try again later.", request, headers)
        if service == "partner_center":
            return JSONResponse(
                {"statusCode": 429, "message": f"Rate limit is exceeded. Try again in {retry} seconds."},
                status_code=429,
                headers=headers,
            )
        return openai_error(
            429, "429", f"Requests have exceeded the call rate limit. Retry after {retry} seconds.", headers
        )
    if service == "graph":
        return graph_error(
            status,
            "serviceNotAvailable" if status == 503 else "generalException",
            "The service is temporarily unavailable. Please retry later.",
            request,
            headers,
        )
    if service == "partner_center":
        return pc_error(status, 3000, "The service is temporarily unavailable. Please retry later.", headers)
    return openai_error(status, str(status), "The service is temporarily unavailable.", headers)


# ------------------------------------------------------------------- auth
AUDIENCES = {"graph": GRAPH_AUDIENCE, "partner_center": PARTNER_CENTER_AUDIENCE}


def unauthorized(service: str, request: Request, message: str) -> Response:
    if service == "graph":
        return graph_error(
            401,
            "InvalidAuthenticationToken",
            message,
            request,
            {"WWW-Authenticate": 'Bearer realm="", error="invalid_token"'},
        )
    if service == "partner_center":
        return pc_error(401, 900, message)
    return openai_error(401, "401", message)


def service_endpoint(emulator: Emulator, service: str, *, apply_faults: bool = True):
    """Decorator for a service handler: check the bearer token this emulator issued (or
    the api-key for Azure OpenAI), then apply the configured faults. Done per route, not as
    middleware, so the routes keep working when the portal mounts them into its own app."""

    def wrap(handler: Callable[..., Awaitable[Response]]):
        @functools.wraps(handler)
        async def endpoint(request: Request) -> Response:
            claims = authenticate(emulator, service, request)
            if isinstance(claims, Response):
                return claims
            request.state.claims = claims
            if apply_faults:
                with emulator.store.read() as tx:
                    config = emulator.faults.config(tx)
                decision = emulator.faults.decide(config, service)
                await emulator.faults.delay(decision)
                if decision.error_status:
                    return service_error(service, decision.error_status, request)
                if decision.throttle:
                    return service_error(service, 429, request, {"Retry-After": _fmt(decision.retry_after)})
                request.state.fault_config = config
                if decision.hang_after:
                    response = await handler(request)
                    await asyncio.sleep(decision.hang_after)  # done, but the answer comes too late
                    return response
            return await handler(request)

        return endpoint

    return wrap


def _fmt(seconds: float) -> str:
    return str(int(seconds)) if float(seconds).is_integer() else str(seconds)


def authenticate(emulator: Emulator, service: str, request: Request) -> dict | Response:
    if service == "openai":
        from .settings import EMULATOR_OPENAI_KEY

        if request.headers.get("api-key") == EMULATOR_OPENAI_KEY:
            return {"apiKey": True}
    auth = request.headers.get("authorization", "")
    if not auth.lower().startswith("bearer "):
        if service == "openai":
            return openai_error(401, "401", "Access denied due to invalid subscription key or wrong API endpoint.")
        return unauthorized(service, request, "Access token is empty.")
    token = auth[7:].strip()
    try:
        claims = emulator.signer.verify(token, AUDIENCES.get(service))
    except jwt.ExpiredSignatureError:
        return unauthorized(service, request, "Lifetime validation failed, the token is expired.")
    except jwt.PyJWTError:
        return unauthorized(service, request, "Access token validation failure. Invalid audience or signature.")
    if service == "partner_center" and claims.get("tid") != PARTNER_TENANT_ID:
        # Partner Center only accepts tokens issued in the partner's own tenant.
        return pc_error(403, 900, "The token was not issued for the partner tenant.")
    return claims


async def json_body(request: Request) -> Any:
    raw = await request.body()
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return ValueError("invalid JSON")


def now_ts() -> int:
    return int(time.time())
