"""Fixed-window rate limits, shared across workers through Redis when `REDIS_URL` is set.

    if not rate_limit.hit(f"support-question:{user_id}", limit=10, window_seconds=60):
        wait = rate_limit.retry_after(f"support-question:{user_id}")

`hit` counts one attempt and says whether it is within the limit: Redis INCR, and EXPIRE
when the key is new, so the window starts at the first attempt and every worker counts in
the same key. Without `REDIS_URL` (one process) the counts live in this process. If Redis
does not answer, the process's own count is used and a warning logged: a limit that only
stops noisy guessing should not take the page down with Redis.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from functools import lru_cache

from opkalla_portal.settings import load_settings

log = logging.getLogger(__name__)
KEY_PREFIX = "opkalla:rate:"
_MAX_LOCAL_KEYS = 10_000  # bound memory under a spray of addresses

_local: dict[str, tuple[int, float]] = {}  # key -> (count, window ends at, monotonic)
_local_lock = threading.Lock()


def hit(key: str, limit: int, window_seconds: int) -> bool:
    """Count one attempt under `key`; True while at most `limit` attempts fell in the window."""
    client = _redis()
    if client is not None:
        try:
            full_key = KEY_PREFIX + key
            pipe = client.pipeline()
            pipe.incr(full_key)
            pipe.expire(full_key, window_seconds, nx=True)  # the window starts at the first attempt
            count, _ = pipe.execute()
            return int(count) <= limit
        except Exception as error:  # redis.RedisError, connection refused, timeout
            log.warning("Rate limit: Redis unavailable (%s); counting in this process", error)
    return _local_hit(key, limit, window_seconds)


def count(key: str) -> int:
    """Attempts counted under `key` in its current window (0 when none)."""
    client = _redis()
    if client is not None:
        try:
            value = client.get(KEY_PREFIX + key)
            return int(value) if value is not None else 0
        except Exception as error:
            log.warning("Rate limit: Redis unavailable (%s); counting in this process", error)
    with _local_lock:
        entry = _local.get(key)
        return entry[0] if entry and entry[1] > time.monotonic() else 0


def retry_after(key: str) -> int:
    """Whole seconds until `key`'s window ends (at least 1)."""
    client = _redis()
    if client is not None:
        try:
            ttl = client.ttl(KEY_PREFIX + key)
            return max(1, int(ttl))
        except Exception as error:
            log.warning("Rate limit: Redis unavailable (%s); counting in this process", error)
    with _local_lock:
        entry = _local.get(key)
        return max(1, math.ceil(entry[1] - time.monotonic())) if entry else 1


def reset_local() -> None:
    """Tests: forget the in-process counts."""
    with _local_lock:
        _local.clear()


def _local_hit(key: str, limit: int, window_seconds: int) -> bool:
    now = time.monotonic()
    with _local_lock:
        count_so_far, ends_at = _local.get(key, (0, 0.0))
        if ends_at <= now:
            count_so_far, ends_at = 0, now + window_seconds
        _local[key] = (count_so_far + 1, ends_at)
        if len(_local) > _MAX_LOCAL_KEYS:
            _local.pop(next(iter(_local)))
        return count_so_far + 1 <= limit


def _redis():
    url = load_settings().redis_url
    return _client_for(url) if url else None


@lru_cache(maxsize=4)
def _client_for(url: str):
    import redis

    return redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
