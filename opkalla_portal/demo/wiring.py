"""The demo's deployment profile, installed by the entry points (app module, cli, tests).

While OPKALLA_DEMO is on: the Microsoft clients call the emulator served on the portal's own
origin (unless OPKALLA_MS_GRAPH_URL names other endpoints), the emulator and the card
processor stand-in are served beside the portal, the Outbox page shows the emails held for
want of SMTP, and a secret key is generated when none is configured.
"""

from __future__ import annotations

import os

from opkalla_portal import deployment
from opkalla_portal.microsoft import MicrosoftSettings
from opkalla_portal.microsoft.emulator import paths
from opkalla_portal.microsoft.emulator.settings import emulator_settings
from opkalla_portal.settings import load_settings


def _microsoft_settings() -> MicrosoftSettings:
    if os.environ.get("OPKALLA_MS_GRAPH_URL"):
        return MicrosoftSettings.from_env()
    return emulator_settings(load_settings().public_url)


def _routes() -> list:
    from opkalla_portal.demo.emulator import emulator_routes
    from opkalla_portal.demo.payment_processor import processor_routes

    return processor_routes() + emulator_routes()


DEMO = deployment.Deployment(
    microsoft_settings=_microsoft_settings,
    extra_routes=_routes,
    # The emulator's stand-ins for Microsoft's own sites (its sign-in page auto-submits with an
    # inline handler): the portal's page policy is not theirs.
    foreign_page_prefixes=(
        paths.LOGIN_PREFIX + "/",
        paths.ADMIN_PREFIX,
        paths.GRAPH_PREFIX,
        paths.PARTNER_CENTER_PREFIX,
        paths.OPENAI_PREFIX + "/",
    ),
    held_mail_viewer=True,
    generated_secret_key=True,
)


def _choose() -> deployment.Deployment:
    return DEMO if load_settings().demo_mode else deployment.PRODUCTION


def install() -> None:
    deployment.use(_choose)
