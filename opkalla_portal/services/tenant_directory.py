"""Each tenant's directory (its users as Graph returns them) held by this worker, kept fresh with
Graph's users delta: the first read is a full delta round, every later one asks Microsoft only
for what changed since (one request when nothing did).

- Held per Microsoft client set (as the tenant cache is: a test's clients never see another's)
  and per tenant id, never shared between tenants; at most MAX_TENANTS, the least recently used
  forgotten first.
- Graph does not track changes to `licenseAssignmentStates` (user: delta, Microsoft Learn), so
  a group starting or stopping to assign a license the user also holds directly shows only at
  the next full read: the first read after FULL_READ_SECONDS starts one in the background
  (its caller, and those after, are served from the delta-refreshed copy meanwhile).
- The portal's own license changes are applied here as soon as Microsoft accepts them (Graph's
  delta may lag behind a write, and a lagging answer must not turn the switches back): each is
  pinned for PIN_SECONDS (a minute), during which Microsoft's older view of that user does not override it;
  once Microsoft reports the same state the pin goes. A submit with failures, and a change made
  through the portal on another worker (the tenant cache's version says so), make the next
  read a full one.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from opkalla_portal.services import tenant_cache

MAX_TENANTS = 32
FULL_READ_SECONDS = 3600.0
# Graph's replicas catch up with a write in seconds; a minute covers that without hiding for long a change
# someone makes elsewhere (the admin center) right after the portal's.
PIN_SECONDS = 60.0


@dataclass(eq=False)
class HeldDirectory:
    tenant_id: str
    raw: dict[str, dict] = field(default_factory=dict)  # user id -> Graph's user (merged delta entries)
    delta_link: str = ""
    fields: tuple[str, ...] = ()
    version: tuple[int, int] | None = None  # the tenant cache's LICENSES version this reflects
    full_at: float = 0.0
    needs_full: bool = True
    group_names: dict[str, str] = field(default_factory=dict)  # group id -> name ("" unreadable)
    pins: dict[str, dict[str, tuple[bool, float]]] = field(default_factory=dict)  # uid -> sku -> (on, until)
    views: dict[str, Any] = field(default_factory=dict)  # what callers derive from `raw`, theirs to keep
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    background: asyncio.Future | None = None  # a full read under way


@dataclass(frozen=True)
class Refresh:
    full: bool  # everything was read again: every user in `raw` is new
    changed: frozenset[str]
    removed: frozenset[str]


_held: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def held(clients: object, tenant_id: str) -> HeldDirectory:
    """The directory held for this tenant (an empty one, to be read in full, the first time)."""
    tenants: OrderedDict[str, HeldDirectory] = _held.setdefault(clients, OrderedDict())
    entry = tenants.get(tenant_id)
    if entry is None:
        entry = tenants[tenant_id] = HeldDirectory(tenant_id)
    tenants.move_to_end(tenant_id)
    while len(tenants) > MAX_TENANTS:
        tenants.popitem(last=False)
    return entry


def clear() -> None:
    """Forget every held directory (the demo's reset restores the world behind the portal's back)."""
    _held.clear()


def held_tenants(clients: object) -> list[str]:
    return list(_held.get(clients, {}))


async def refresh(entry: HeldDirectory, graph, fields: Sequence[str]) -> Refresh:
    """Bring `entry` up to date with one delta round (a full one when due). The caller holds
    `entry.lock`. Microsoft's failures leave the entry as it was."""
    now = time.monotonic()
    version = tenant_cache.version(entry.tenant_id, tenant_cache.LICENSES)
    seen_version = entry.version
    full = (
        entry.needs_full
        or not entry.delta_link
        or version is None
        or version != entry.version
        or tuple(fields) != entry.fields
    )
    answer = await graph.users_delta(fields, None if full else entry.delta_link)
    if answer.full:
        entry.raw = dict(answer.users)
        entry.full_at, entry.fields = now, tuple(fields)
        changed, removed = set(entry.raw), set()
    else:
        for uid, user in answer.users.items():
            entry.raw[uid] = {**entry.raw.get(uid, {}), **user}
        removed = {uid for uid in answer.removed if entry.raw.pop(uid, None) is not None}
        changed = set(answer.users)
    changed |= _keep_pins(entry, answer.users, now)
    entry.delta_link, entry.needs_full = answer.delta_link, False
    if entry.version == seen_version:  # not moved on by a submit applied meanwhile
        entry.version = version
    return Refresh(answer.full, frozenset(changed), frozenset(removed))


def full_read_due(entry: HeldDirectory) -> bool:
    """Time for a full read in the background (see the module's docstring)."""
    return bool(entry.delta_link) and entry.background is None and time.monotonic() - entry.full_at > FULL_READ_SECONDS


def begin_full_read(entry: HeldDirectory) -> tuple[float, tuple[int, int] | None, tuple[int, int] | None]:
    """What a full read started now must remember: (when, the tenant cache's version, the
    version this entry reflects)."""
    return time.monotonic(), tenant_cache.version(entry.tenant_id, tenant_cache.LICENSES), entry.version


def install_full_read(entry: HeldDirectory, answer, fields: Sequence[str], begun: tuple) -> None:
    """Replace the entry with a full round read in the background (the caller holds the lock):
    its deltaLink takes over; the portal's pinned changes stay on top."""
    started, version, seen_version = begun
    entry.raw = dict(answer.users)
    entry.delta_link, entry.fields, entry.full_at = answer.delta_link, tuple(fields), started
    _keep_pins(entry, answer.users, time.monotonic())
    if entry.version == seen_version:
        entry.version = version


def _keep_pins(entry: HeldDirectory, reported: Mapping[str, dict], now: float) -> set[str]:
    """Put the portal's own recent changes back over Microsoft's older view of those users;
    forget a pin once Microsoft reports the same state, or when it has expired."""
    changed = set()
    for uid in list(entry.pins):
        skus, user = entry.pins[uid], entry.raw.get(uid)
        for sku, (on, until) in list(skus.items()):
            if user is None or until < now or (uid in reported and holds(user, sku) == on):
                del skus[sku]
            elif holds(user, sku) != on:
                entry.raw[uid] = user = with_license(user, sku, on)
                changed.add(uid)
        if not skus:
            del entry.pins[uid]
    return changed


def applied(clients: object, tenant_id: str, sku_id: str, outcomes: Mapping[str, bool], *, failed: bool) -> set[str]:
    """The portal changed these users' license `sku_id` at Microsoft (uid -> assigned): show it
    at once. `failed`: some changes failed (their outcome may be unknown): read in full next
    time. Returns the ids whose Graph user changed here."""
    entry = _held.get(clients, {}).get(tenant_id)
    if entry is None:
        return set()
    until = time.monotonic() + PIN_SECONDS
    changed = set()
    for uid, on in outcomes.items():
        user = entry.raw.get(uid)
        if user is None:
            continue
        entry.pins.setdefault(uid, {})[sku_id] = (on, until)
        if holds(user, sku_id) != on:
            entry.raw[uid] = with_license(user, sku_id, on)
            changed.add(uid)
    entry.version = tenant_cache.version(tenant_id, tenant_cache.LICENSES)  # this change is known here
    entry.needs_full = entry.needs_full or failed
    return changed


def holds(user: dict, sku_id: str) -> bool:
    return any(str(lic.get("skuId", "")).lower() == sku_id for lic in user.get("assignedLicenses") or [])


def with_license(user: dict, sku_id: str, on: bool) -> dict:
    """Graph's user after assignLicense added (`on`) or removed `sku_id` directly: a license a
    group also assigns stays assigned when the direct assignment goes."""
    licenses = [dict(lic) for lic in user.get("assignedLicenses") or []]
    states = [dict(state) for state in user.get("licenseAssignmentStates") or []]

    def same(item: dict) -> bool:
        return str(item.get("skuId", "")).lower() == sku_id

    if on:
        if not any(same(lic) for lic in licenses):
            licenses.append({"skuId": sku_id, "disabledPlans": []})
        if not any(same(s) and not s.get("assignedByGroup") for s in states):
            states.append(
                {"skuId": sku_id, "assignedByGroup": None, "state": "Active", "error": "None", "disabledPlans": []}
            )
    else:
        states = [s for s in states if not (same(s) and not s.get("assignedByGroup"))]
        if not any(same(s) for s in states):
            licenses = [lic for lic in licenses if not same(lic)]
    return {**user, "assignedLicenses": licenses, "licenseAssignmentStates": states}
