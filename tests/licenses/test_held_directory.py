"""The directory the worker holds per tenant (services/tenant_directory.py): read in full once,
then kept fresh with Graph's users delta (one request when nothing changed); the portal's own
license changes show at once; tenants never mix.

Graph's behaviour relied on is pinned in tests/microsoft/test_users_delta.py (sources named there)."""

from __future__ import annotations

import time
from urllib.parse import unquote

from opkalla_portal.microsoft.graph import DeltaRound, GraphClient
from opkalla_portal.services import licenses, tenant_directory
from tests.licenses.conftest import TOM, admin_of_large_tenant, identity_for

BUSINESS_STANDARD = "f245ecc8-75af-4f8e-b61f-27d8114de5f3"  # Bayview: 35 seats, 30 assigned


def graph_requests(ms) -> list[str]:
    """Record the path and query of every request the clients send to Graph from now on."""
    seen: list[str] = []

    async def record(request):
        if "/graph/" in request.url.path:
            seen.append(
                request.url.path.split("/v1.0", 1)[-1]
                + ("?" + unquote(request.url.query.decode()) if request.url.query else "")
            )

    ms.http.event_hooks["request"].append(record)
    return seen


def by_id(users) -> dict:
    return {u.id: u for u in users}


def unlicensed(store, tenant: str) -> dict:
    with store.read() as tx:
        return next(
            u
            for u in tx.list("user", tenant)
            if u.get("usageLocation") and not u.get("assignedLicenses") and u.get("accountEnabled") is not False
        )


async def test_the_second_open_asks_microsoft_only_for_changes(portal, ms):
    tom = identity_for(TOM)
    seen = graph_requests(ms)
    first = await licenses.list_directory(tom)
    assert [p for p in seen if p.startswith("/users")] == [seen[0]] and seen[0].startswith("/users/delta?$select=")
    seen.clear()
    second = await licenses.list_directory(tom)
    assert len(seen) == 1 and seen[0].startswith("/users/delta?$deltatoken=")  # nothing changed: one request
    assert second == first and len(second) == 40


async def test_a_change_made_at_microsoft_shows_on_the_next_open(portal, ms, store):
    tom = identity_for(TOM)
    before = by_id(await licenses.list_directory(tom))
    user = unlicensed(store, tom.tenant_id)
    await ms.graph(tom.tenant_id).assign_license(user["id"], add_sku_ids=[BUSINESS_STANDARD])  # an admin centre
    with store.transaction() as tx:  # renamed, and another user deleted
        current = tx.get("user", user["id"])
        tx.put("user", user["id"], {**current, "displayName": "Zoe Renamed"}, tenant=tom.tenant_id)
        gone = next(u for u in tx.list("user", tom.tenant_id) if u["id"] != user["id"])
        tx.delete("user", gone["id"])
    after = await licenses.list_directory(tom)
    users = by_id(after)
    assert users[user["id"]].holds(BUSINESS_STANDARD) and users[user["id"]].name == "Zoe Renamed"
    assert gone["id"] in before and gone["id"] not in users
    assert [u.name for u in after] == sorted((u.name for u in after), key=str.lower)  # still in order


async def test_the_portals_own_submit_shows_at_once_even_when_graphs_delta_lags(portal, ms, store, monkeypatch):
    tom = identity_for(TOM)
    users = by_id(await licenses.list_directory(tom))
    user = unlicensed(store, tom.tenant_id)
    outcome = await licenses.apply_changes(tom, sku_id=BUSINESS_STANDARD, pending={user["id"]: True}, users=users)
    assert outcome.assigned == 1
    # Graph's delta may answer from before the write (documented "processing delays"): a round
    # reporting the user without the license must not turn the switch back off.
    stale = {**user, "assignedLicenses": [], "licenseAssignmentStates": []}
    real = GraphClient.users_delta

    async def lagging(self, select, delta_link=None):
        answer = await real(self, select, delta_link)
        return DeltaRound({user["id"]: stale}, set(), answer.delta_link, False, answer.requests)

    with monkeypatch.context() as patch:
        patch.setattr(GraphClient, "users_delta", lagging)
        for _ in range(2):
            assert by_id(await licenses.list_directory(tom))[user["id"]].holds(BUSINESS_STANDARD)
    # once Microsoft reports the same state (here: in a full read), the portal's pin goes
    tenant_directory.held(ms, tom.tenant_id).needs_full = True
    assert by_id(await licenses.list_directory(tom))[user["id"]].holds(BUSINESS_STANDARD)
    assert tenant_directory.held(ms, tom.tenant_id).pins == {}
    # and taking it back shows at once too
    users = by_id(await licenses.list_directory(tom))
    await licenses.apply_changes(tom, sku_id=BUSINESS_STANDARD, pending={user["id"]: False}, users=users)
    assert not by_id(await licenses.list_directory(tom))[user["id"]].holds(BUSINESS_STANDARD)


async def test_a_pin_expires_and_microsofts_word_stands(portal, ms, store, monkeypatch):
    tom = identity_for(TOM)
    users = by_id(await licenses.list_directory(tom))
    user = unlicensed(store, tom.tenant_id)
    await licenses.apply_changes(tom, sku_id=BUSINESS_STANDARD, pending={user["id"]: True}, users=users)
    await ms.graph(tom.tenant_id).remove_license(user["id"], BUSINESS_STANDARD)  # then removed elsewhere
    held = tenant_directory.held(ms, tom.tenant_id)
    for skus in held.pins.values():  # the grace period has passed
        for sku, (on, _) in list(skus.items()):
            skus[sku] = (on, time.monotonic() - 1)
    assert not by_id(await licenses.list_directory(tom))[user["id"]].holds(BUSINESS_STANDARD)


async def test_a_submit_with_failures_makes_the_next_read_a_full_one(portal, ms, store):
    tom = identity_for(TOM)
    users = by_id(await licenses.list_directory(tom))
    nowhere = next(u for u in users.values() if not u.usage_location and not u.holds(BUSINESS_STANDARD))
    outcome = await licenses.apply_changes(tom, sku_id=BUSINESS_STANDARD, pending={nowhere.id: True}, users=users)
    assert len(outcome.failures) == 1  # Graph refuses a user without usage location
    seen = graph_requests(ms)
    await licenses.list_directory(tom)
    assert seen[0].startswith("/users/delta?$select=")


async def test_tenants_never_mix(portal, ms, store):
    tom = identity_for(TOM)
    tenant, ada = admin_of_large_tenant(store, 30, "ada@thirty.test")
    bayview = by_id(await licenses.list_directory(tom))
    large = by_id(await licenses.list_directory(ada))
    assert set(large) == set(tenant["user_ids"]) and not set(large) & set(bayview)
    # a change in one tenant shows in that tenant only
    await licenses.apply_changes(ada, sku_id=tenant["sku_id"], pending={tenant["user_ids"][0]: True}, users=large)
    assert by_id(await licenses.list_directory(ada))[tenant["user_ids"][0]].holds(tenant["sku_id"])
    assert by_id(await licenses.list_directory(tom)) == bayview
    held = {t: tenant_directory.held(ms, t) for t in tenant_directory.held_tenants(ms)}
    assert set(held) == {tom.tenant_id, tenant["tenant_id"]}
    assert held[tom.tenant_id].delta_link != held[tenant["tenant_id"]].delta_link


async def test_only_the_most_recent_tenants_are_held(portal, ms, store, monkeypatch):
    monkeypatch.setattr(tenant_directory, "MAX_TENANTS", 2)
    tom = identity_for(TOM)
    _, first = admin_of_large_tenant(store, 3, "ada@three.test")
    _, second = admin_of_large_tenant(store, 4, "ada@four.test")
    for identity in (tom, first, second):
        await licenses.list_directory(identity)
    assert tenant_directory.held_tenants(ms) == [first.tenant_id, second.tenant_id]


async def test_an_emulator_reset_is_read_in_full(portal, ms, store):
    from opkalla_portal.services import tenant_cache

    tom = identity_for(TOM)
    await licenses.list_directory(tom)
    store.reset()  # the demo's "reset": its deltaLink is gone (410) and the tenant cache cleared
    tenant_cache.clear()
    seen = graph_requests(ms)
    users = await licenses.list_directory(tom)
    assert len(users) == 40 and seen[0].startswith("/users/delta?$select=")


async def test_after_an_hour_a_full_read_in_the_background_brings_what_delta_does_not_track(portal, ms, store):
    """Graph's delta does not track licenseAssignmentStates (Microsoft Learn, user: delta): a
    license that becomes a group's only shows at a full read, which runs in the background."""
    tom = identity_for(TOM)
    users = by_id(await licenses.list_directory(tom))
    holder = next(u for u in users.values() if u.holds(BUSINESS_STANDARD) and u.group_for(BUSINESS_STANDARD) is None)
    with store.transaction() as tx:  # the license now comes from a group only; assignedLicenses unchanged
        group = tx.list("group", tom.tenant_id)[0]
        user = tx.get("user", holder.id)
        user["licenseAssignmentStates"] = [
            {**state, "assignedByGroup": group["id"]} if state["skuId"].lower() == BUSINESS_STANDARD else state
            for state in licenses_states(user)
        ]
        tx.put("user", user["id"], user, tenant=tom.tenant_id)
    assert by_id(await licenses.list_directory(tom))[holder.id].group_for(BUSINESS_STANDARD) is None  # not tracked
    held = tenant_directory.held(ms, tom.tenant_id)
    held.full_at -= tenant_directory.FULL_READ_SECONDS + 1
    seen = graph_requests(ms)
    await licenses.list_directory(tom)  # served at once from the delta round; the full read starts
    assert seen[0].startswith("/users/delta?$deltatoken=") and held.background is not None
    await held.background
    after = by_id(await licenses.list_directory(tom))
    assert after[holder.id].group_for(BUSINESS_STANDARD) == group["displayName"]
    assert held.background is None and len(after) == len(users)


def licenses_states(user: dict) -> list[dict]:
    from opkalla_portal.microsoft.emulator.graph_api import license_states

    return license_states(user)
