"""What differs between deployments, chosen once by the entry point (the composition root).

Production code asks this profile for a named behaviour (which Microsoft endpoints, whether
held emails may be read on the Outbox page...), never whether it runs as the demo. The app
module and the cli install the demo's profile (opkalla_portal/demo) when OPKALLA_DEMO is on;
without it every answer is production's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from opkalla_portal.microsoft.config import MicrosoftSettings


@dataclass(frozen=True)
class Deployment:
    # Where the Microsoft clients go (production: the OPKALLA_MS_* variables).
    microsoft_settings: Callable[[], MicrosoftSettings] = MicrosoftSettings.from_env
    # Starlette routes served beside the portal's own (the demo's stand-ins for Microsoft and
    # the card processor), and the path prefixes of pages that are not the portal's (its CSP
    # does not apply to them).
    extra_routes: Callable[[], list] = list
    foreign_page_prefixes: tuple[str, ...] = field(default=())
    # The Outbox page lists the emails held for want of SMTP, invitation links included.
    held_mail_viewer: bool = False
    # Without OPKALLA_SECRET_KEY, generate a key file next to the database instead of refusing.
    generated_secret_key: bool = False


PRODUCTION = Deployment()
_choose: Callable[[], Deployment] = lambda: PRODUCTION  # noqa: E731


def use(choose: Callable[[], Deployment]) -> None:
    """Entry points: install how the deployment is chosen (asked on every call, so a test may
    switch it through the environment)."""
    global _choose
    _choose = choose


def current() -> Deployment:
    return _choose()
