"""The Product Catalog as the portal uses it: products, their terms and prices, cached.

Partner Center's catalog is the one source of unit prices (My Services, Subscription Edit
and Subscription Create all read `unit_price_for`). It changes rarely, so it is fetched
once and kept for CACHE_SECONDS per process.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from decimal import Decimal

from opkalla_portal.microsoft.http import WouldCallMicrosoft, calls_allowed
from opkalla_portal.services.access import Capability, Identity, require
from opkalla_portal.services.errors import microsoft_errors
from opkalla_portal.services.microsoft_clients import microsoft
from opkalla_portal.services.pricing import BILLING_LABELS, format_money, to_money

CACHE_SECONDS = 900
STALE_LIMIT_SECONDS = 4 * CACHE_SECONDS
TERM_NAMES = {"P1M": "Monthly", "P1Y": "Annual", "P3Y": "Triennial"}


@dataclass(frozen=True)
class CatalogTerm:
    duration: str  # P1M | P1Y | P3Y
    billing_cycle: str  # monthly | annual | triennial
    description: str
    price: Decimal  # per unit per month
    per: str  # "month" or "usage"

    @property
    def key(self) -> str:
        return f"{self.duration}:{self.billing_cycle}"

    @property
    def label(self) -> str:
        """'Annual, billed monthly' — the term, then how it is billed."""
        billed = BILLING_LABELS.get(self.billing_cycle, self.billing_cycle).lower()
        return f"{TERM_NAMES.get(self.duration, self.duration)}, billed {billed}"

    @property
    def price_text(self) -> str:
        return "Pay as you go" if self.per == "usage" else f"{format_money(self.price)}/unit/month"


@dataclass(frozen=True)
class CatalogProduct:
    offer_id: str  # productId:skuId:availabilityId
    title: str
    category: str
    description: str
    is_addon: bool
    is_usage_based: bool
    minimum_quantity: int
    maximum_quantity: int
    terms: tuple[CatalogTerm, ...]

    def term(self, duration: str, billing_cycle: str) -> CatalogTerm | None:
        return next((t for t in self.terms if t.duration == duration and t.billing_cycle == billing_cycle), None)


_cache: dict[str, tuple[float, dict[str, CatalogProduct]]] = {}
_fetching: dict[int, asyncio.Task] = {}  # the fetch running now per event loop (a task belongs to its loop)
log = logging.getLogger(__name__)


def _parse(product: dict, sku: dict, availability: dict) -> CatalogProduct:
    terms = tuple(
        CatalogTerm(
            duration=t["duration"],
            billing_cycle=t["billingCycle"],
            description=t.get("description", ""),
            price=to_money((t.get("price") or {}).get("listPrice", 0)),
            per=(t.get("price") or {}).get("per", "month"),
        )
        for t in availability.get("terms", [])
    )
    attributes = sku.get("dynamicAttributes") or {}
    return CatalogProduct(
        offer_id=f"{product['id']}:{sku['id']}:{availability['id']}",
        title=product.get("title", ""),
        category=product.get("category", ""),
        description=product.get("description", ""),
        is_addon=bool(attributes.get("isAddon")),
        is_usage_based=(product.get("productType") or {}).get("id") == "Azure",
        minimum_quantity=int(sku.get("minimumQuantity", 1)),
        maximum_quantity=int(sku.get("maximumQuantity", 10000)),
        terms=terms,
    )


async def _fetch() -> dict[str, CatalogProduct]:
    pc = microsoft().partner_center
    gate = asyncio.Semaphore(6)  # a few calls in flight: fast, yet polite to Partner Center

    async def one_product(product: dict) -> list[CatalogProduct]:
        async with gate:
            skus = await pc.list_skus(product["id"])
        found = []
        for sku in skus:
            async with gate:
                availabilities = await pc.list_availabilities(product["id"], sku["id"])
            found += [_parse(product, sku, a) for a in availabilities if a.get("isPurchasable", True)]
        return found

    products = []
    for view in ("OnlineServices", "Azure"):
        products += await pc.list_products(target_view=view)
    groups = await asyncio.gather(*(one_product(p) for p in products))
    return {item.offer_id: item for group in groups for item in group}


async def load_catalog(*, refresh: bool = False) -> dict[str, CatalogProduct]:
    """Every purchasable offer by offer id (cached; raises MicrosoftError when unreachable).

    An expired catalog is still served while one background task fetches the new one:
    fetching takes dozens of Partner Center calls, and every page needing prices would
    otherwise wait on it (up to STALE_LIMIT_SECONDS; older than that, callers wait).
    """
    cached = _cache.get("catalog")
    if cached and not refresh:
        age = time.monotonic() - cached[0]
        if age < CACHE_SECONDS:
            return cached[1]
        if age < STALE_LIMIT_SECONDS and calls_allowed():
            _refresh_in_background()
            return cached[1]
    if not calls_allowed():  # tenant_cache.if_at_hand: the catalog is not at hand
        raise WouldCallMicrosoft("catalog")
    return await _fetch_and_store(refresh=refresh)


async def _fetch_and_store(*, refresh: bool) -> dict[str, CatalogProduct]:
    cached = _cache.get("catalog")
    if cached and not refresh and time.monotonic() - cached[0] < CACHE_SECONDS:
        return cached[1]
    return await asyncio.shield(_fetch_task())


def _fetch_task() -> asyncio.Task:
    """The catalog fetch running on this loop, started if none is. One fetch at a time, and a task
    of its own: callers arriving meanwhile take its result, and a caller cancelled on the way (a
    visitor who navigated away) neither stops it nor loses what it fetched (a cancelled fetch used
    to leave the next caller to start its dozens of Partner Center calls again)."""
    loop = asyncio.get_running_loop()
    task = _fetching.get(id(loop))
    if task is None or task.get_loop() is not loop:  # none, or a closed loop's
        task = _fetching[id(loop)] = asyncio.ensure_future(_fetch_into_cache())
        task.add_done_callback(lambda done: _fetch_ended(id(loop), done))
    return task


async def _fetch_into_cache() -> dict[str, CatalogProduct]:
    catalog = await _fetch()
    _cache["catalog"] = (time.monotonic(), catalog)
    return catalog


def _fetch_ended(loop_id: int, task: asyncio.Task) -> None:
    _fetching.pop(loop_id, None)
    if not task.cancelled() and task.exception() is not None:  # a background refresh has no caller to tell
        log.warning("Fetching the product catalog failed", exc_info=task.exception())


def _refresh_in_background() -> None:
    """An expired catalog is refreshed by the one fetch (Microsoft unreachable: the cached
    catalog is still served, and the next visitor tries again)."""
    _fetch_task()


async def warm_catalog() -> None:
    """Lifespan task: fetch the catalog once the server is up, before the first visitor needs it."""
    await asyncio.sleep(2)  # in demo mode the emulator is served by this very server
    try:
        await load_catalog()
    except Exception:  # the first page needing prices fetches it (and reports what failed)
        log.warning("Warming the product catalog failed", exc_info=True)


def clear_cache() -> None:
    """Tests and demo resets: fetch the catalog again on next use."""
    _cache.clear()


def offer_key(offer_id: str) -> str:
    """Partner Center subscriptions carry the offer id, sometimes with extra ':'-parts."""
    return ":".join(offer_id.split(":")[:3])


def unit_price_for(
    catalog: dict[str, CatalogProduct], offer_id: str, term_duration: str, billing_cycle: str
) -> Decimal | None:
    """The per-unit monthly price of an offer on a term, or None when the catalog lacks it."""
    product = catalog.get(offer_key(offer_id))
    if product is None:
        return None
    term = product.term(term_duration, billing_cycle) or next(
        (t for t in product.terms if t.duration == term_duration), None
    )
    return term.price if term else None


async def purchasable_offers(identity: Identity) -> dict[str, CatalogProduct]:
    """The catalog for the Product Catalog page; Microsoft's failures leave as MicrosoftFailure."""
    require(identity, Capability.SERVICES)
    with microsoft_errors():
        return await load_catalog()


def search_catalog(identity: Identity, catalog: dict[str, CatalogProduct], text: str) -> list[CatalogProduct]:
    """Products whose name or category contains every word of `text`, by name."""
    require(identity, Capability.SERVICES)
    words = [w for w in str(text or "").lower().split() if w][:8]
    found = [p for p in catalog.values() if all(w in f"{p.title} {p.category}".lower() for w in words)]
    return sorted(found, key=lambda p: p.title.lower())
