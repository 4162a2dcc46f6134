"""Settings for the Microsoft clients, read from environment variables.

Only base URLs and credentials differ between production and the emulator: switching
``OPKALLA_MS_*_URL`` is all it takes to point the portal at Microsoft or at the emulator
(whose settings, with the demo app registration, come from ``microsoft/emulator/settings.py``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace

PRODUCTION_GRAPH_URL = "https://graph.microsoft.com/v1.0"
PRODUCTION_PARTNER_CENTER_URL = "https://api.partnercenter.microsoft.com/v1"
PRODUCTION_LOGIN_URL = "https://login.microsoftonline.com"


@dataclass(frozen=True)
class MicrosoftSettings:
    """Where Microsoft lives and how the portal's app registration authenticates."""

    graph_url: str = PRODUCTION_GRAPH_URL
    partner_center_url: str = PRODUCTION_PARTNER_CENTER_URL
    login_url: str = PRODUCTION_LOGIN_URL
    openai_url: str = ""
    openai_deployment: str = ""
    openai_key: str = ""
    # An Azure OpenAI embeddings deployment (e.g. text-embedding-3-small); empty: BM25 only.
    openai_embeddings_deployment: str = ""
    client_id: str = ""
    client_secret: str = ""
    timeout_seconds: float = 30.0
    # The partner's own tenant (Partner Center app-only tokens are issued there).
    partner_tenant_id: str = "organizations"
    max_attempts: int = 4
    api_version: str = "2024-02-01"

    @property
    def is_microsoft_authority(self) -> bool:
        """True when the login URL is Microsoft's own (then MSAL's instance discovery applies)."""
        return "login.microsoftonline.com" in self.login_url or "login.microsoft.com" in self.login_url

    def authority(self, tenant: str = "organizations") -> str:
        """Authority URL for a tenant: ``<login>/<tenant>/v2.0``."""
        return f"{self.login_url.rstrip('/')}/{tenant}/v2.0"

    def without_embeddings(self) -> MicrosoftSettings:
        """The same settings with no embeddings deployment (retrieval by BM25 alone)."""
        return replace(self, openai_embeddings_deployment="")

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> MicrosoftSettings:
        """Read ``OPKALLA_MS_*`` variables; unset ones keep production defaults."""
        env = os.environ if env is None else env
        d = cls()
        return cls(
            graph_url=env.get("OPKALLA_MS_GRAPH_URL", d.graph_url),
            partner_center_url=env.get("OPKALLA_MS_PARTNER_CENTER_URL", d.partner_center_url),
            login_url=env.get("OPKALLA_MS_LOGIN_URL", d.login_url),
            openai_url=env.get("OPKALLA_MS_OPENAI_URL", d.openai_url),
            openai_deployment=env.get("OPKALLA_MS_OPENAI_DEPLOYMENT", d.openai_deployment),
            openai_key=env.get("OPKALLA_MS_OPENAI_KEY", d.openai_key),
            openai_embeddings_deployment=env.get(
                "OPKALLA_MS_OPENAI_EMBEDDINGS_DEPLOYMENT", d.openai_embeddings_deployment
            ),
            client_id=env.get("OPKALLA_MS_CLIENT_ID", d.client_id),
            client_secret=env.get("OPKALLA_MS_CLIENT_SECRET", d.client_secret),
            timeout_seconds=float(env.get("OPKALLA_MS_TIMEOUT_SECONDS", d.timeout_seconds)),
            partner_tenant_id=env.get("OPKALLA_MS_PARTNER_TENANT_ID", d.partner_tenant_id),
            max_attempts=int(env.get("OPKALLA_MS_MAX_ATTEMPTS", d.max_attempts)),
        )
