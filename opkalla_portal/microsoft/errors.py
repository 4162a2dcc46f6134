"""Typed failures of Microsoft's services.

Every client call raises one of these instead of an httpx error, so callers can map
failure kinds to UI messages without knowing HTTP. ``.message`` is always safe to show a
customer; technical detail (status, Microsoft's code, request id) is kept alongside.
"""

from __future__ import annotations


class MicrosoftError(Exception):
    """Base class: any failure talking to a Microsoft service."""

    default_message = "Microsoft's service could not complete the request."

    def __init__(
        self,
        message: str | None = None,
        *,
        status: int | None = None,
        code: str | None = None,
        detail: str | None = None,
        request_id: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.message = message or self.default_message
        self.status = status
        self.code = code
        self.detail = detail
        self.request_id = request_id
        self.retry_after = retry_after
        super().__init__(self.message)

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"{type(self).__name__}(status={self.status!r}, code={self.code!r}, message={self.message!r})"


class NotFoundError(MicrosoftError):
    """404: the user, subscription, product... does not exist (or is not visible)."""

    default_message = "The requested item was not found at Microsoft."


class ThrottledError(MicrosoftError):
    """429 after all retries were used up."""

    default_message = "Microsoft is receiving too many requests right now. Please try again in a minute."


class ConflictError(MicrosoftError):
    """409/412: someone else changed the item first (etag mismatch)."""

    default_message = "This item was changed by someone else. Reload it and try again."


class ValidationError(MicrosoftError):
    """400-class rejection; carries Microsoft's own error code and message."""

    default_message = "Microsoft rejected the request."


class UnavailableError(MicrosoftError):
    """5xx responses and timeouts (after retries)."""

    default_message = "Microsoft's service is temporarily unavailable. Please try again later."


class AuthError(MicrosoftError):
    """401/403 and sign-in failures: missing/expired token, no consent, no permission."""

    default_message = "Access to Microsoft was denied. An administrator may need to grant consent."
