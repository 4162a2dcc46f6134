"""Microsoft integration: Graph, Partner Center, identity (MSAL) and Azure OpenAI clients.

Configured only by :class:`MicrosoftSettings` (base URLs + credentials). The emulator in
:mod:`.emulator` serves the same APIs for demos and tests.
"""

from .clients import MicrosoftClients
from .config import MicrosoftSettings
from .errors import (
    AuthError,
    ConflictError,
    MicrosoftError,
    NotFoundError,
    ThrottledError,
    UnavailableError,
    ValidationError,
)

__all__ = [
    "MicrosoftClients",
    "MicrosoftSettings",
    "MicrosoftError",
    "NotFoundError",
    "ThrottledError",
    "ConflictError",
    "ValidationError",
    "UnavailableError",
    "AuthError",
]
