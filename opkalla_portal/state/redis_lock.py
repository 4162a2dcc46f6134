"""Reflex's Redis state lock, made safe against cancelled events (two workers and more: REDIS_URL).

Reflex 0.10 cancels a tab's unfinished page-load chain when the tab navigates again (`supersedes=True` on
`on_load_internal`), and the background loads it queued with it (My Services, license insight). A task cancelled
while it waited for the tab's lock, or while its `SET NX` was on its way to Redis, left the next event of that
tab waiting out the lock's expiry: nearly every bench run of 1,000 navigations had one that took 10 s
(docs/performance.md, "Two workers + Redis: 10-second stalls fixed"). Two places, patched here:

- `_lock_waiter`: a release wakes one local waiter; one that leaves the queue without the lock (cancelled)
  wakes the next, so a turn is never lost.
- `_try_get_lock`: a cancelled attempt still finishes its `SET NX` in the background; if it took the lock,
  it gives it back at once (compare-and-delete, which wakes waiters in every worker by the keyspace event).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from reflex.istate.manager.redis import StateManagerRedis

# Delete the lock only if it is still ours (the value is the attempt's lock id).
_RELEASE_IF_OURS = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('DEL', KEYS[1])
end
return 0
"""

_original_lock_waiter = StateManagerRedis._lock_waiter
_original_try_get_lock = StateManagerRedis._try_get_lock
_pending_releases: set[asyncio.Task] = set()  # held until done (a bare task may be garbage-collected)


@contextlib.asynccontextmanager
async def _lock_waiter(self: StateManagerRedis, lock_key: bytes) -> AsyncIterator[asyncio.Event]:
    took_turn = False
    try:
        async with _original_lock_waiter(self, lock_key) as released:
            yield released
            took_turn = True
    finally:
        if not took_turn:  # left the queue without the lock: the wake-up it may have had goes to the next
            self._notify_next_waiter(lock_key)


async def _try_get_lock(self: StateManagerRedis, lock_key: bytes, lock_id: bytes) -> bool | None:
    attempt = asyncio.ensure_future(_original_try_get_lock(self, lock_key, lock_id))
    try:
        return await asyncio.shield(attempt)
    except asyncio.CancelledError:
        attempt.add_done_callback(lambda done: _give_back_if_taken(self, done, lock_key, lock_id))
        raise


def _give_back_if_taken(self: StateManagerRedis, attempt: asyncio.Future, lock_key: bytes, lock_id: bytes) -> None:
    if attempt.cancelled() or attempt.exception() is not None or not attempt.result():
        return

    async def release() -> None:
        await self.redis.eval(_RELEASE_IF_OURS, 1, lock_key, lock_id)  # pyright: ignore[reportGeneralTypeIssues]
        self._notify_next_waiter(lock_key)

    task = asyncio.ensure_future(release())
    _pending_releases.add(task)
    task.add_done_callback(_pending_releases.discard)


def install() -> None:
    """Patch Reflex's Redis state manager (idempotent); the app module calls it at import."""
    StateManagerRedis._lock_waiter = _lock_waiter  # type: ignore[method-assign]
    StateManagerRedis._try_get_lock = _try_get_lock  # type: ignore[method-assign]
