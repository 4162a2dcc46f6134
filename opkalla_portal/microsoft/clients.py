"""One object holding every Microsoft client, sharing a single ``httpx.AsyncClient``."""

from __future__ import annotations

import httpx

from .billing_reconciliation import BillingReconciliationClient
from .config import MicrosoftSettings
from .graph import GRAPH_SCOPE, GraphClient
from .http import RetryPolicy, TokenProvider
from .identity import IdentityClient
from .partner_center import PARTNER_CENTER_SCOPE, PartnerCenterClient
from .partner_delegated import PartnerDelegatedAuth
from .support_ai import EmbeddingsClient, SupportAIClient


class MicrosoftClients:
    """Facade: ``clients.graph(tenant_id)``, ``clients.partner_center``, ``clients.identity``,
    ``clients.support_ai``, ``clients.embeddings``. Call :meth:`aclose` on shutdown."""

    def __init__(
        self,
        settings: MicrosoftSettings | None = None,
        *,
        http: httpx.AsyncClient | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.settings = settings or MicrosoftSettings.from_env()
        self._owns_http = http is None
        self.http = http or httpx.AsyncClient(
            timeout=self.settings.timeout_seconds, limits=httpx.Limits(max_connections=100)
        )
        self.retry = retry or RetryPolicy(max_attempts=self.settings.max_attempts)
        self.identity = IdentityClient(self.settings, self.http)
        # The partner's delegated (App+User) connection: connect once, refresh per use.
        self.partner_delegated = PartnerDelegatedAuth(self.identity)
        self._graph: dict[str, GraphClient] = {}
        self.partner_center = PartnerCenterClient(
            self.http,
            self.settings.partner_center_url,
            timeout=self.settings.timeout_seconds,
            retry=self.retry,
            token_provider=lambda: self.identity.app_token(self.settings.partner_tenant_id, PARTNER_CENTER_SCOPE),
        )
        self.support_ai = SupportAIClient(
            self.http,
            self.settings.openai_url,
            api_key=self.settings.openai_key or None,
            timeout=self.settings.timeout_seconds,
            retry=self.retry,
            deployment=self.settings.openai_deployment,
            api_version=self.settings.api_version,
        )
        self.embeddings = EmbeddingsClient(
            self.http,
            self.settings.openai_url,
            api_key=self.settings.openai_key or None,
            timeout=self.settings.timeout_seconds,
            retry=self.retry,
            deployment=self.settings.openai_embeddings_deployment,
            api_version=self.settings.api_version,
        )

    def partner_center_as_user(self, token_provider: TokenProvider) -> PartnerCenterClient:
        """Partner Center with App+User tokens from ``token_provider`` (the partner's delegated
        connection), for the calls Microsoft documents as App+User only (agreements)."""
        return PartnerCenterClient(
            self.http,
            self.settings.partner_center_url,
            timeout=self.settings.timeout_seconds,
            retry=self.retry,
            token_provider=token_provider,
        )

    def graph(self, tenant_id: str) -> GraphClient:
        """Graph client for a customer tenant, with app-only tokens issued in that tenant."""
        if tenant_id not in self._graph:
            self._graph[tenant_id] = GraphClient(
                self.http,
                self.settings.graph_url,
                timeout=self.settings.timeout_seconds,
                retry=self.retry,
                token_provider=lambda: self.identity.app_token(tenant_id, GRAPH_SCOPE),
            )
        return self._graph[tenant_id]

    @property
    def billing_reconciliation(self) -> BillingReconciliationClient:
        """Reconciliation v2 exports (Graph, the partner's own tenant, PartnerBilling.Read.All)."""
        return BillingReconciliationClient(self.graph(self.settings.partner_tenant_id))

    async def aclose(self) -> None:
        if self._owns_http:
            await self.http.aclose()

    async def __aenter__(self) -> MicrosoftClients:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
