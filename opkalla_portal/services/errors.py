"""The one error type a user may see.

Every refusal the portal shows — a role without access, a field that fails validation, a
rule of Microsoft's — is a `PortalError`: `message` is safe to show a customer, `field`
names the form field it belongs beside (None: the whole action), and `code` is what the UI
decides by (never the message text). Services translate Microsoft's typed failures into it
(`from_microsoft`, `microsoft_errors`), so the state layer never imports `microsoft/`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from opkalla_portal.microsoft.errors import (
    AuthError,
    ConflictError,
    MicrosoftError,
    NotFoundError,
    ThrottledError,
    UnavailableError,
    ValidationError,
)


class PortalError(Exception):
    """A refusal a user may see. `code` is stable and what the UI branches on."""

    code_default = "refused"

    def __init__(self, message: str, field: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.code = code or self.code_default

    def __str__(self) -> str:
        return self.message


class MicrosoftFailure(PortalError):
    """Microsoft refused or could not answer; `code` is "microsoft.<kind>", the cause is chained."""

    code_default = "microsoft"


_KINDS: tuple[tuple[type[MicrosoftError], str], ...] = (
    (NotFoundError, "not_found"),
    (ThrottledError, "throttled"),
    (ConflictError, "conflict"),
    (ValidationError, "rejected"),
    (UnavailableError, "unavailable"),
    (AuthError, "auth"),
)


def from_microsoft(error: MicrosoftError, field: str | None = None) -> MicrosoftFailure:
    """Microsoft's failure as the portal's: its customer-safe message, a code by kind."""
    kind = next((name for cls, name in _KINDS if isinstance(error, cls)), "failed")
    failure = MicrosoftFailure(error.message, field=field, code=f"microsoft.{kind}")
    failure.__cause__ = error
    return failure


@contextmanager
def microsoft_errors(field: str | None = None) -> Iterator[None]:
    """Around a service's call to Microsoft: any MicrosoftError leaves as a MicrosoftFailure."""
    try:
        yield
    except MicrosoftError as error:
        raise from_microsoft(error, field) from error
