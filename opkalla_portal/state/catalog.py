"""Product Catalog: choose a Billing Contract, search, Buy a term (on to Subscription Create)."""

from __future__ import annotations

from typing import TypedDict
from urllib.parse import quote

from opkalla_portal.services import subscriptions as subscription_service
from opkalla_portal.services.access import Capability, Identity
from opkalla_portal.services.catalog import purchasable_offers, search_catalog
from opkalla_portal.services.errors import PortalError
from opkalla_portal.state.base import PortalState, guarded

PAGE = 12  # products shown at first; "Show more products" adds as many again


class TermCard(TypedDict):
    key: str
    label: str
    price: str
    href: str


class ProductCard(TypedDict):
    offer: str
    title: str
    category: str
    addon: str
    terms: list[TermCard]


class CatalogState(PortalState):
    contracts: list[dict[str, str]] = []
    contract_id: str = ""
    search: str = ""
    products: list[ProductCard] = []
    matches: int = 0
    limit: int = PAGE
    loading: bool = True  # until the first answer, so no empty state flashes first
    error: str = ""
    _catalog: dict = {}

    def _publish(self, identity) -> None:
        found = search_catalog(identity, self._catalog, self.search)
        self.matches = len(found)
        self.products = [
            ProductCard(
                **{
                    "offer": p.offer_id,
                    "title": p.title,
                    "category": p.category,
                    "addon": "1" if p.is_addon else "",
                    "terms": [
                        {
                            "key": t.key,
                            "label": t.label,
                            "price": t.price_text,
                            "href": f"/my-services/create?contract={quote(self.contract_id)}&offer={quote(p.offer_id)}"
                            f"&term={quote(t.key)}",
                        }
                        for t in p.terms
                    ],
                }
            )
            for p in found[: self.limit]
        ]

    @guarded(Capability.SERVICES, background=True)
    async def load(self, identity: Identity):
        async with self:
            self.contracts = [
                {"id": str(c.id), "label": c.label} for c in subscription_service.billing_contracts(identity)
            ]
            ids = [c["id"] for c in self.contracts]
            wanted = str(self.router.url.query_parameters.get("contract", "") or self.contract_id)
            self.contract_id = wanted if wanted in ids else (ids[0] if ids else "")
            self.loading, self.error = True, ""
        catalog, error = {}, ""
        try:
            catalog = await purchasable_offers(identity)
        except PortalError as failure:  # shown in the page with Retry
            error = failure.message
        async with self:
            self._catalog, self.error, self.loading = catalog, error, False
            self._publish(identity)
        return None

    @guarded(Capability.SERVICES)
    def set_contract(self, identity: Identity, value: str):
        if str(value) in {c["id"] for c in self.contracts}:
            self.contract_id = str(value)
            self._publish(identity)

    @guarded(Capability.SERVICES)
    def set_search(self, identity: Identity, value: str):
        self.search = str(value or "")[:100]
        self.limit = PAGE
        self._publish(identity)

    @guarded(Capability.SERVICES)
    def show_more(self, identity: Identity):
        self.limit = min(self.limit + PAGE, max(self.matches, PAGE))
        self._publish(identity)

    @guarded(Capability.SERVICES)
    def retry(self, identity: Identity):
        return CatalogState.load
