"""The per-tenant cache of Microsoft reads (services/tenant_cache.py): one load per burst,
dropped by the portal's own writes, shared by workers through Redis, never stale when
Redis is down."""

from __future__ import annotations

import asyncio

import pytest

from opkalla_portal.services import tenant_cache, tenant_directory


class Clients:  # stands in for a MicrosoftClients set (the cache is keyed weakly by it)
    pass


class Counter:
    def __init__(self, value=None):
        self.calls = 0
        self.value = value if value is not None else [{"id": "a", "quantity": 1}]

    async def __call__(self):
        self.calls += 1
        await asyncio.sleep(0.01)
        return self.value


@pytest.fixture(autouse=True)
def _no_redis(monkeypatch):
    monkeypatch.delenv("REDIS_URL", raising=False)


async def test_a_burst_of_visits_makes_one_microsoft_call_and_each_gets_its_own_copy():
    clients, load = Clients(), Counter()
    results = await asyncio.gather(
        *(tenant_cache.cached(clients, "t1", tenant_cache.SUBSCRIPTIONS, load) for _ in range(5))
    )
    again = await tenant_cache.cached(clients, "t1", tenant_cache.SUBSCRIPTIONS, load)
    assert load.calls == 1 and all(r == load.value for r in [*results, again])
    results[0][0]["quantity"] = 99  # a caller changing its copy changes nobody else's
    assert (await tenant_cache.cached(clients, "t1", tenant_cache.SUBSCRIPTIONS, load))[0]["quantity"] == 1


async def test_a_change_by_the_portal_is_seen_at_once_and_other_tenants_keep_theirs():
    clients, mine, theirs = Clients(), Counter(), Counter()
    await tenant_cache.cached(clients, "t2", tenant_cache.SUBSCRIPTIONS, mine)
    await tenant_cache.cached(clients, "t3", tenant_cache.SUBSCRIPTIONS, theirs)
    tenant_cache.invalidate("t2", tenant_cache.SUBSCRIPTIONS)
    await tenant_cache.cached(clients, "t2", tenant_cache.SUBSCRIPTIONS, mine)
    await tenant_cache.cached(clients, "t3", tenant_cache.SUBSCRIPTIONS, theirs)
    assert (mine.calls, theirs.calls) == (2, 1)


async def test_an_answer_loaded_while_the_portal_changed_the_data_is_not_kept():
    clients = Clients()

    async def slow_then_changed():
        await asyncio.sleep(0.02)
        return ["old"]

    reading = asyncio.ensure_future(tenant_cache.cached(clients, "t4", tenant_cache.LICENSES, slow_then_changed))
    await asyncio.sleep(0.005)
    tenant_cache.invalidate("t4", tenant_cache.LICENSES)  # a Submit finished meanwhile
    assert await reading == ["old"]  # that visit shows what it read...
    fresh = Counter(["new"])
    assert await tenant_cache.cached(clients, "t4", tenant_cache.LICENSES, fresh) == ["new"]  # ...the next reads anew


async def test_entries_expire_after_the_ttl():
    clients, load = Clients(), Counter()
    await tenant_cache.cached(clients, "t5", tenant_cache.SUBSCRIPTIONS, load, ttl=0.0)
    await tenant_cache.cached(clients, "t5", tenant_cache.SUBSCRIPTIONS, load, ttl=0.0)
    assert load.calls == 2


async def test_workers_agree_through_redis(monkeypatch):
    """A change made on one worker (its invalidate increments the counter in Redis) is seen by
    the next visit on another worker, whose entry was cached before."""
    from tests.scaleout.harness import private_redis_database

    with private_redis_database("redis://127.0.0.1:6379/14") as url:
        monkeypatch.setenv("REDIS_URL", url)
        worker_b, load = Clients(), Counter()
        await tenant_cache.cached(worker_b, "t6", tenant_cache.SUBSCRIPTIONS, load)
        await tenant_cache.cached(worker_b, "t6", tenant_cache.SUBSCRIPTIONS, load)
        assert load.calls == 1
        import redis

        redis.Redis.from_url(url).incr("opkalla:tenant-cache:t6:subscriptions")  # worker A's invalidate
        await tenant_cache.cached(worker_b, "t6", tenant_cache.SUBSCRIPTIONS, load)
        assert load.calls == 2


async def test_without_redis_reachable_every_read_goes_to_microsoft(monkeypatch):
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")  # nothing listens there
    clients, load = Clients(), Counter()
    await tenant_cache.cached(clients, "t7", tenant_cache.SUBSCRIPTIONS, load)
    await tenant_cache.cached(clients, "t7", tenant_cache.SUBSCRIPTIONS, load)
    assert load.calls == 2


async def test_a_fresh_read_goes_to_microsoft_and_serves_the_next_visits():
    clients, load = Clients(), Counter()
    await tenant_cache.cached(clients, "t8", tenant_cache.SUBSCRIPTIONS, load)
    await tenant_cache.cached(clients, "t8", tenant_cache.SUBSCRIPTIONS, load, fresh=True)
    await tenant_cache.cached(clients, "t8", tenant_cache.SUBSCRIPTIONS, load)
    assert load.calls == 2


async def test_resetting_the_demo_world_forgets_every_tenant(monkeypatch, tmp_path):
    """POST /emulator/reset (demo mode) restores Microsoft's data behind the portal's back."""
    import httpx

    monkeypatch.setenv("OPKALLA_EMULATOR_DB", str(tmp_path / "emulator.db"))
    from starlette.applications import Starlette

    from opkalla_portal.demo import emulator as demo_emulator

    demo_emulator.emulator_store.cache_clear()
    try:
        clients, load = Clients(), Counter()
        await tenant_cache.cached(clients, "t9", tenant_cache.LICENSES, load)
        held = tenant_directory.held(clients, "t9")  # with the portal's own change pinned over Microsoft's view
        held.pins["u1"] = {"sku": (True, float("inf"))}
        app = Starlette(routes=demo_emulator.emulator_routes())
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://portal") as http:
            assert (await http.post("/emulator/reset")).status_code == 200
        await tenant_cache.cached(clients, "t9", tenant_cache.LICENSES, load)
        assert load.calls == 2
        assert tenant_directory.held(clients, "t9") is not held  # the held directory and its pins are gone
    finally:
        demo_emulator.emulator_store.cache_clear()


async def test_if_at_hand_answers_from_the_cache_or_at_once_with_none_and_never_spoils_a_shared_load():
    """A page's load paints what is cached (`if_at_hand`): it never waits on, starts or joins a
    load others share, and a visitor loading meanwhile still gets Microsoft's answer."""
    clients, load = Clients(), Counter()

    def read():
        return tenant_cache.cached(clients, "t9", tenant_cache.SUBSCRIPTIONS, load)

    assert await tenant_cache.if_at_hand(read) is None and load.calls == 0  # cold: nothing sent
    visitor = asyncio.ensure_future(read())  # someone else's load in flight
    await asyncio.sleep(0)
    assert await tenant_cache.if_at_hand(read) is None  # not joined: the tab is not held waiting
    assert await visitor == load.value and load.calls == 1
    assert await tenant_cache.if_at_hand(read) == load.value and load.calls == 1  # warm: from the cache
    fresh = tenant_cache.cached(clients, "t9", tenant_cache.SUBSCRIPTIONS, load, fresh=True)
    assert await tenant_cache.if_at_hand(lambda: fresh) is None and load.calls == 1  # a fresh read is a call


async def test_inside_if_at_hand_no_request_leaves_for_microsoft():
    import httpx

    from opkalla_portal.microsoft.http import ServiceClient

    sent = []
    transport = httpx.MockTransport(lambda request: sent.append(request) or httpx.Response(200, json={}))
    async with httpx.AsyncClient(transport=transport) as http:
        client = ServiceClient(http, "https://graph.microsoft.com/v1.0")
        assert await tenant_cache.if_at_hand(lambda: client.get_json("subscribedSkus")) is None
        assert sent == []
        assert await client.get_json("subscribedSkus") == {} and len(sent) == 1  # outside: sent as always
