"""A cancelled event never strands a tab's Redis lock (opkalla_portal/state/redis_lock.py).

Real Redis (the scale-out fixtures' database), Reflex's own StateManagerRedis and its `_lock`: the code
every event of a two-worker deployment runs. Reflex cancels a tab's page-load chain when the tab
navigates again; before the fix, each case below left the next event waiting out the lock's expiry.
"""

from __future__ import annotations

import asyncio
import time
from types import SimpleNamespace

import pytest
from redis.asyncio import Redis
from reflex.istate.manager.redis import StateManagerRedis

from opkalla_portal.state import redis_lock

LOCK_EXPIRY_MS = 10_000  # Reflex's default: what a stranded lock costs the tab
PROMPTLY = 2.0  # seconds: far below the expiry


@pytest.fixture
async def manager(redis_url):
    redis_lock.install()
    manager = StateManagerRedis(redis=Redis.from_url(redis_url), lock_expiration=LOCK_EXPIRY_MS)
    yield manager
    await manager.close()


def _tab(name: str) -> SimpleNamespace:
    return SimpleNamespace(lock_key=f"test-{name}-{time.monotonic_ns()}")


async def _take(manager: StateManagerRedis, tab, taken: asyncio.Event, release: asyncio.Event) -> None:
    async with manager._lock(tab):
        taken.set()
        await release.wait()


async def _next_event_takes_the_lock_promptly(manager: StateManagerRedis, tab) -> None:
    started = time.monotonic()
    taken, release = asyncio.Event(), asyncio.Event()
    next_event = asyncio.create_task(_take(manager, tab, taken, release))
    await asyncio.wait_for(taken.wait(), timeout=LOCK_EXPIRY_MS / 1000 + 2)
    assert time.monotonic() - started < PROMPTLY  # not the lock's expiry
    release.set()
    await next_event


async def test_a_waiter_leaving_without_the_lock_passes_its_wake_up_to_the_next(manager):
    lock_key = manager._lock_key(_tab("waiter"))
    first_in_line, next_in_line = manager._lock_waiter(lock_key), manager._lock_waiter(lock_key)
    first, following = await first_in_line.__aenter__(), await next_in_line.__aenter__()
    manager._notify_next_waiter(lock_key)  # what a release does: wakes the first in line
    assert first.is_set() and not following.is_set()
    cancelled = asyncio.CancelledError()  # its event chain was superseded before it ran
    assert not await first_in_line.__aexit__(asyncio.CancelledError, cancelled, None)  # leaves, re-raising
    assert following.is_set()  # the turn was passed on, not lost until the lock's expiry
    await next_in_line.__aexit__(None, None, None)


async def test_a_holder_cancelled_releases_at_once(manager):
    tab = _tab("holder")
    taken = asyncio.Event()
    holder = asyncio.create_task(_take(manager, tab, taken, asyncio.Event()))
    await taken.wait()
    holder.cancel()
    await _next_event_takes_the_lock_promptly(manager, tab)


class _SlowReplies:
    """The Redis client, with every SET's reply arriving `delay` s after Redis executed it."""

    def __init__(self, redis: Redis, delay: float) -> None:
        self._redis, self._delay = redis, delay

    def __getattr__(self, name):
        return getattr(self._redis, name)

    async def set(self, *args, **kwargs):
        result = await self._redis.set(*args, **kwargs)
        await asyncio.sleep(self._delay)
        return result


async def test_an_attempt_cancelled_while_its_set_is_in_flight_gives_the_lock_back(manager, redis_url):
    tab = _tab("in-flight")
    lock_key = manager._lock_key(tab)
    real = manager.redis
    manager.redis = _SlowReplies(real, delay=0.5)
    attempt = asyncio.create_task(manager._lock(tab).__aenter__())
    await asyncio.sleep(0.2)
    assert await real.get(lock_key) is not None  # Redis gave it the lock; the reply is on its way
    attempt.cancel()
    with pytest.raises(asyncio.CancelledError):
        await attempt
    manager.redis = real
    await _next_event_takes_the_lock_promptly(manager, tab)
