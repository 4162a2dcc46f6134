"""Shared HTTP behaviour for every Microsoft client.

One place implements what Microsoft asks of callers:
- a bearer token (or api-key) on every call, obtained from a token provider;
- a correlation id on every request (``client-request-id`` for Graph, ``MS-CorrelationId``
  plus ``MS-RequestId`` for Partner Center) that stays the same across retries, because
  Partner Center uses ``MS-RequestId`` as its idempotency key;
- ``Retry-After`` honoured on 429 and 503, otherwise capped exponential back-off with jitter;
- a timeout on every call;
- failures turned into the typed exceptions of :mod:`errors`.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import email.utils
import importlib.util
import random
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from .errors import (
    AuthError,
    ConflictError,
    MicrosoftError,
    NotFoundError,
    ThrottledError,
    UnavailableError,
    ValidationError,
)

TokenProvider = Callable[[], Awaitable[str]]


class WouldCallMicrosoft(Exception):  # noqa: N818 - not an error: "the answer is not at hand"
    """Raised instead of sending a request while `answers_at_hand()` is in force."""


_answers_at_hand_only: contextvars.ContextVar[bool] = contextvars.ContextVar("answers_at_hand_only", default=False)


@contextlib.contextmanager
def answers_at_hand():
    """Inside this block no request leaves for Microsoft: the first one raises WouldCallMicrosoft
    (before a token is fetched). A page's load uses it to paint what the caches already hold
    and leaves the rest to a background load. Caches check `calls_allowed()` before starting a
    load other callers would share."""
    token = _answers_at_hand_only.set(True)
    try:
        yield
    finally:
        _answers_at_hand_only.reset(token)


def calls_allowed() -> bool:
    return not _answers_at_hand_only.get()


# httpcore runs `import sniffio` on every request and falls back to asyncio when it is
# missing; a failed import is not remembered, so each request searched sys.path again
# (about 10% of a worker's CPU under load, see docs/performance.md). Remember the miss.
if importlib.util.find_spec("sniffio") is None:
    sys.modules.setdefault("sniffio", None)  # type: ignore[arg-type]

RETRY_STATUSES = {429, 503}
# Other transient failures; retried only when repeating the call is safe (see _may_retry).
TRANSIENT_STATUSES = {500, 502, 504}
IDEMPOTENT_METHODS = {"GET", "HEAD", "OPTIONS", "PUT", "DELETE"}


@dataclass
class RetryPolicy:
    """How often and how long to wait. ``sleep`` is injectable so tests need not wait."""

    max_attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 30.0
    # Never wait longer than this for one Retry-After (a stuck service should surface).
    max_retry_after: float = 120.0
    sleep: Callable[[float], Awaitable[None]] = field(default=asyncio.sleep)
    rng: random.Random = field(default_factory=random.Random)

    def backoff(self, attempt: int) -> float:
        """Full-jitter exponential back-off for ``attempt`` (1-based), capped."""
        ceiling = min(self.max_delay, self.base_delay * (2 ** (attempt - 1)))
        return self.rng.uniform(ceiling / 2, ceiling)


def parse_retry_after(value: str | None) -> float | None:
    """``Retry-After`` is either delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
        return max(0.0, when.timestamp() - time.time())
    except (TypeError, ValueError):
        return None


class ServiceClient:
    """Base for one Microsoft service: request building, retries and error mapping.

    ``flavor`` selects header conventions and error envelopes: ``graph``,
    ``partner_center`` or ``openai``.
    """

    flavor = "graph"

    def __init__(
        self,
        http: httpx.AsyncClient,
        base_url: str,
        *,
        token_provider: TokenProvider | None = None,
        api_key: str | None = None,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
    ) -> None:
        self._http = http
        self.base_url = base_url.rstrip("/")
        self._token_provider = token_provider
        self._api_key = api_key
        self.timeout = timeout
        self.retry = retry or RetryPolicy()

    # ----------------------------------------------------------------- requests
    def url(self, path_or_url: str) -> str:
        if path_or_url.startswith(("http://", "https://")):
            return path_or_url  # nextLink and similar are followed verbatim
        return self.base_url + "/" + path_or_url.lstrip("/")

    async def _auth_headers(self) -> dict[str, str]:
        if self._api_key:
            return {"api-key": self._api_key}
        if self._token_provider:
            return {"Authorization": f"Bearer {await self._token_provider()}"}
        return {}

    def correlation_headers(self, request_id: str) -> dict[str, str]:
        if self.flavor == "partner_center":
            return {"MS-RequestId": request_id, "MS-CorrelationId": request_id}
        return {"client-request-id": request_id, "return-client-request-id": "true"}

    async def request(
        self,
        method: str,
        path_or_url: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        headers: dict[str, str] | None = None,
        request_id: str | None = None,
        idempotent: bool | None = None,
        ok_statuses: tuple[int, ...] = (),
    ) -> httpx.Response:
        """Send one logical request, retrying transient failures; raise typed errors."""
        if not calls_allowed():
            raise WouldCallMicrosoft(f"{method} {path_or_url}")
        method = method.upper()
        request_id = request_id or str(uuid.uuid4())  # reused on every retry
        if idempotent is None:
            # Partner Center deduplicates by MS-RequestId, so its writes are safe to repeat.
            idempotent = method in IDEMPOTENT_METHODS or self.flavor == "partner_center"
        attempt = 0
        while True:
            attempt += 1
            all_headers = {"Accept": "application/json", **self.correlation_headers(request_id)}
            all_headers.update(await self._auth_headers())
            all_headers.update(headers or {})
            try:
                response = await self._http.request(
                    method,
                    self.url(path_or_url),
                    params=params,
                    json=json,
                    headers=all_headers,
                    timeout=self.timeout,
                )
            except httpx.TimeoutException as exc:
                if idempotent and attempt < self.retry.max_attempts:
                    await self.retry.sleep(self.retry.backoff(attempt))
                    continue
                raise UnavailableError(
                    "Microsoft did not answer in time. Please try again.",
                    detail=str(exc) or "timeout",
                    request_id=request_id,
                ) from exc
            except httpx.TransportError as exc:
                if idempotent and attempt < self.retry.max_attempts:
                    await self.retry.sleep(self.retry.backoff(attempt))
                    continue
                raise UnavailableError(detail=str(exc), request_id=request_id) from exc

            status = response.status_code
            if status < 400 or status in ok_statuses:
                return response
            retryable = status in RETRY_STATUSES or (status in TRANSIENT_STATUSES and idempotent)
            if retryable and attempt < self.retry.max_attempts:
                wait = parse_retry_after(response.headers.get("Retry-After"))
                if wait is None:
                    wait = self.retry.backoff(attempt)
                await self.retry.sleep(min(wait, self.retry.max_retry_after))
                continue
            raise error_from_response(response, self.flavor, request_id)

    async def get_json(self, path_or_url: str, **kwargs) -> Any:
        response = await self.request("GET", path_or_url, **kwargs)
        return response.json() if response.content else None


# ------------------------------------------------------------------- errors
def _error_fields(body: Any, flavor: str) -> tuple[str | None, str | None]:
    """(code, message) from Graph's, Partner Center's or Azure OpenAI's error envelope."""
    if not isinstance(body, dict):
        return None, None
    if isinstance(body.get("error"), dict):  # Graph and Azure OpenAI
        err = body["error"]
        return (str(err["code"]) if err.get("code") is not None else None), err.get("message")
    if "code" in body or "description" in body:  # Partner Center
        code = body.get("code")
        return (str(code) if code is not None else None), body.get("description") or body.get("message")
    if "message" in body:  # Partner Center throttling body {"statusCode", "message"}
        return (str(body.get("statusCode")) if body.get("statusCode") else None), body["message"]
    return None, None


def error_for_status(
    status: int,
    code: str | None,
    message: str | None,
    *,
    request_id: str | None = None,
    retry_after: float | None = None,
) -> MicrosoftError:
    """The typed exception for an HTTP status and Microsoft's (code, message)."""
    kwargs = dict(status=status, code=code, detail=message, request_id=request_id, retry_after=retry_after)
    if status in (401, 403):
        return AuthError(**kwargs)
    if status == 404:
        return NotFoundError(**kwargs)
    if status in (409, 412):
        return ConflictError(**kwargs)
    if status == 429:
        return ThrottledError(**kwargs)
    if status >= 500:
        return UnavailableError(**kwargs)
    # 400-class: Microsoft's own message is the most useful thing to show.
    return ValidationError(message or ValidationError.default_message, **kwargs)


def error_from_response(response: httpx.Response, flavor: str, request_id: str | None = None) -> MicrosoftError:
    try:
        body = response.json()
    except ValueError:
        body = None
    code, message = _error_fields(body, flavor)
    return error_for_status(
        response.status_code,
        code,
        message,
        request_id=request_id,
        retry_after=parse_retry_after(response.headers.get("Retry-After")),
    )
