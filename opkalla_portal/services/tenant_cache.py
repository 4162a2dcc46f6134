"""A short per-tenant cache of Microsoft reads that pages repeat on every visit.

My Services (its dashboard and license insight), Manage Licenses and Usage Data each read the
customer's subscriptions, products and directory from Microsoft; before this cache a visit
to My Services made three identical Partner Center calls and read the whole directory.
Entries are kept per (Microsoft client set, tenant, kind) for at most TTL_SECONDS, and
dropped at once when the portal itself changes that data: the services that write to
Microsoft call `invalidate` (subscription changes, renewal instructions, orders, license
assignments) whether the write succeeded or not (an unanswered write may have happened).
Changes made outside the portal (Microsoft's admin centres) show after TTL_SECONDS.

Several workers agree through Redis when REDIS_URL is set: `invalidate` increments a version
counter per (tenant, kind) there and every read compares it (one GET), so a change made on
one worker is seen by the next visit on any other. Without Redis (one worker) the counter is
in the process. If Redis cannot be reached the cache is bypassed (always fresh, never stale).

Callers read from it only what they display or sum; anything that changes Microsoft
(Subscription Edit, Submit in the Manage License window, accepting a recommendation) reads
fresh from Microsoft first.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import time
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from opkalla_portal.microsoft.http import WouldCallMicrosoft, answers_at_hand, calls_allowed
from opkalla_portal.settings import load_settings

T = TypeVar("T")
log = logging.getLogger(__name__)

TTL_SECONDS = 120.0
SUBSCRIPTIONS = "subscriptions"  # Partner Center: the customer's subscriptions (and add-ons)
LICENSES = "licenses"  # Graph: subscribed SKUs and the directory's license assignments
KINDS = (SUBSCRIPTIONS, LICENSES)
_REDIS_PREFIX = "opkalla:tenant-cache:"


@dataclass
class _Entry:
    version: tuple[int, int]
    stored_at: float
    value: Any


# Keyed by the client set (as the usage cache is): a test's fresh clients and emulator never
# see another test's entries, and entries go with the clients.
_entries: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_inflight: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_local_versions: dict[tuple[str, str], int] = {}
_local_generation = 0  # bumped by clear(): every tenant's data changed (the demo world was reset)
_redis_clients: dict[str, Any] = {}


def _redis():
    url = load_settings().redis_url
    if not url:
        return None
    client = _redis_clients.get(url)
    if client is None:
        import redis

        client = _redis_clients[url] = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
    return client


def version(tenant_id: str, kind: str) -> tuple[int, int] | None:
    """The data's current version as every worker sees it: (generation, how many times the portal
    changed this tenant's `kind`); a reader holding its own copy compares it. None: unknown
    (Redis down), do not use the cache."""
    client = _redis()
    if client is None:
        return _local_generation, _local_versions.get((tenant_id, kind), 0)
    try:
        generation, changes = client.mget(_REDIS_PREFIX + "generation", _REDIS_PREFIX + f"{tenant_id}:{kind}")
        return int(generation or 0), int(changes or 0)
    except Exception as error:  # noqa: BLE001 - Redis down: no caching, never stale data
        log.warning("tenant cache bypassed, Redis unavailable: %s", error)
        return None


def invalidate(tenant_id: str, *kinds: str) -> None:
    """The portal changed (or may have changed) this tenant's data at Microsoft: forget it here
    and, through Redis, on every worker."""
    for kind in kinds or KINDS:
        _local_versions[(tenant_id, kind)] = _local_versions.get((tenant_id, kind), 0) + 1
        for entries in list(_entries.values()):
            for key in [k for k in entries if k[0] == tenant_id and k[1] == kind]:
                entries.pop(key, None)
        client = _redis()
        if client is not None:
            try:
                client.incr(_REDIS_PREFIX + f"{tenant_id}:{kind}")
            except Exception as error:  # noqa: BLE001
                log.warning("tenant cache: could not record a change in Redis: %s", error)


async def cached(
    clients: object,
    tenant_id: str,
    kind: str,
    load: Callable[[], Awaitable[T]],
    *,
    variant: str = "",
    ttl: float = TTL_SECONDS,
    immutable: bool = False,
    fresh: bool = False,
) -> T:
    """`load()`'s value for this tenant, from the cache while fresh. Concurrent callers for the
    same entry share one load (a burst of visits makes one Microsoft call, not one each).
    Returns a deep copy, so no caller can change what the next one gets (`immutable`: the value
    is a list of frozen objects, a shallow copy of the list is enough). `fresh`: load now whatever
    the cache holds, and keep the answer for the next callers (a page that must show Microsoft's
    current state, or its outage, still refreshes the cache for the others)."""
    current = version(tenant_id, kind)
    if current is None or not tenant_id:
        return await load()
    key = (tenant_id, kind, variant)
    entries = _entries.setdefault(clients, {})
    entry = None if fresh else entries.get(key)
    if entry is not None and entry.version == current and time.monotonic() - entry.stored_at < ttl:
        return _copy(entry.value, immutable)
    if not calls_allowed():  # not at hand: neither start nor join a load other callers share
        raise WouldCallMicrosoft(f"{kind} of {tenant_id}")
    flights = _inflight.setdefault(clients, {})
    flight = None if fresh else flights.get((key, current))
    if flight is None:
        flight = asyncio.ensure_future(_load_and_store(entries, key, current, load))
        if not fresh:
            flights[(key, current)] = flight
            flight.add_done_callback(lambda _: flights.pop((key, current), None))
    return _copy(await asyncio.shield(flight), immutable)


async def if_at_hand(load: Callable[[], Awaitable[T]]) -> T | None:
    """`load()`'s answer if every Microsoft read it makes is already in a cache, else None at
    once (no request sent, nothing waited for). A page's load paints with it while the caches
    are warm, and leaves the rest to a background load when they are not: that saves the
    background event and its second round on the tab's lock. `load` must not return None."""
    with answers_at_hand():
        try:
            return await load()
        except WouldCallMicrosoft:
            return None


def _copy(value: Any, immutable: bool) -> Any:
    if immutable:  # frozen objects in a tuple (as is) or a list (a new list)
        return value if isinstance(value, tuple) else list(value)
    return copy.deepcopy(value)


async def _load_and_store(entries: dict, key: tuple, seen: tuple[int, int], load: Callable[[], Awaitable[T]]) -> T:
    value = await load()
    if version(key[0], key[1]) == seen:  # not changed by the portal meanwhile
        entries[key] = _Entry(seen, time.monotonic(), value)
    return value


def clear() -> None:
    """Every tenant's data changed at once (demo mode: the emulator's world was reset): forget
    everything, here and, through Redis, on every worker."""
    global _local_generation
    _local_generation += 1
    for entries in list(_entries.values()):
        entries.clear()
    client = _redis()
    if client is not None:
        try:
            client.incr(_REDIS_PREFIX + "generation")
        except Exception as error:  # noqa: BLE001
            log.warning("tenant cache: could not record a reset in Redis: %s", error)
