"""Client settings pointing the portal at an emulator: its URLs and the demo app registration it knows."""

from __future__ import annotations

from dataclasses import replace

from opkalla_portal.demo.demo_data import DEMO_APP_CLIENT_ID as EMULATOR_CLIENT_ID
from opkalla_portal.demo.demo_data import DEMO_APP_CLIENT_SECRET as EMULATOR_CLIENT_SECRET

from ..config import MicrosoftSettings
from .paths import emulator_urls

__all__ = [
    "EMULATOR_CLIENT_ID",
    "EMULATOR_CLIENT_SECRET",
    "EMULATOR_OPENAI_KEY",
    "EMULATOR_OPENAI_DEPLOYMENT",
    "EMULATOR_EMBEDDINGS_DEPLOYMENT",
    "emulator_settings",
]

EMULATOR_OPENAI_KEY = "emulator-openai-key"
EMULATOR_OPENAI_DEPLOYMENT = "support-gpt"
EMULATOR_EMBEDDINGS_DEPLOYMENT = "support-embeddings"


def emulator_settings(base_url: str, **overrides) -> MicrosoftSettings:
    """Settings pointing every client at an emulator served from ``base_url``."""
    urls = emulator_urls(base_url)
    settings = MicrosoftSettings(
        graph_url=urls["graph_url"],
        partner_center_url=urls["partner_center_url"],
        login_url=urls["login_url"],
        openai_url=urls["openai_url"],
        openai_deployment=EMULATOR_OPENAI_DEPLOYMENT,
        openai_key=EMULATOR_OPENAI_KEY,
        openai_embeddings_deployment=EMULATOR_EMBEDDINGS_DEPLOYMENT,
        client_id=EMULATOR_CLIENT_ID,
        client_secret=EMULATOR_CLIENT_SECRET,
        timeout_seconds=10.0,
        partner_tenant_id=urls["partner_tenant_id"],
    )
    return replace(settings, **overrides) if overrides else settings
