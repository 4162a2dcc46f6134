"""Manage Licenses: consent first, then the products table; a product's Manage License window.

One state for the screen, written in one module per part: the consent pop-up and requests
(state/manage_licenses_consent.py), the products table (here) and the window with reclaim
(state/manage_licenses_window.py). Every handler runs through the one guard.
"""

from __future__ import annotations

from typing import TypedDict

from opkalla_portal.services import licenses, tenant_cache
from opkalla_portal.services.access import Capability, Identity
from opkalla_portal.services.errors import PortalError
from opkalla_portal.services.licenses import ConsentRequired
from opkalla_portal.state.base import PortalState, guarded
from opkalla_portal.state.manage_licenses_consent import CONSENT_NOTICES, LicenseConsent
from opkalla_portal.state.manage_licenses_window import LicenseWindow


class ProductRow(TypedDict):
    sku_id: str
    part_number: str
    name: str
    purchased: int
    assigned: int
    available: int


class LicensesState(LicenseConsent, LicenseWindow, PortalState):
    """Public vars are what the page shows; the directory and the diff are backend-only."""

    # Products
    loading: bool = False
    load_error: str = ""
    products: list[ProductRow] = []

    @guarded(Capability.LICENSES)
    async def load(self, identity: Identity):
        """on_load: consent first; products only once consent exists."""
        notice = CONSENT_NOTICES.get(self.router.url.query_parameters.get("consent", ""))
        self.consent_notice_kind, self.consent_notice = notice if notice else ("", "")
        self.window_open = False
        self.redirecting = False
        self._refresh_consent(identity)
        # The products at once while the per-tenant cache holds them; else a loading state first.
        if self.consent_granted and not await tenant_cache.if_at_hand(lambda: self._load_products(identity)):
            self.loading = True
            yield
            await self._load_products(identity)
            self.loading = False

    async def _load_products(self, identity) -> bool:
        """The products table, or the reason it could not be filled (True either way)."""
        self.load_error = ""
        try:
            products = await licenses.list_products(identity)
        except ConsentRequired as error:
            self._refresh_consent(identity)
            self.consent_notice_kind, self.consent_notice = "error", str(error)
            self.products = []
            return True
        except PortalError as error:  # shown above the table with Retry
            self.load_error = error.message
            return True
        self.products = [
            ProductRow(
                sku_id=p.sku_id,
                part_number=p.part_number,
                name=p.name,
                purchased=p.purchased,
                assigned=p.assigned,
                available=p.available,
            )
            for p in products
        ]
        return True

    @guarded(Capability.LICENSES)
    async def retry_load(self, identity: Identity):
        self.loading = True
        yield
        await self._load_products(identity)
        self.loading = False
