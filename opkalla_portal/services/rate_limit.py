"""Rate limits shared by every worker: `hit(key, limit, window_seconds) -> bool`.

With `REDIS_URL` set (the scale-out deployment) the count lives in Redis — a fixed window per
key, `INCR` then `EXPIRE` on the window's own key — so two workers count the same questions.
Without Redis (one process) a sliding window in the process does the same job. A Redis
failure falls back to the process's window: a limit is never a reason to refuse everything.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from collections import defaultdict, deque
from typing import Protocol

log = logging.getLogger(__name__)
KEY_PREFIX = "opkalla:ratelimit:"


class Window(Protocol):
    def attempt(self, key: str, limit: int, window_seconds: float, now: float | None = None) -> tuple[bool, int]:
        """Count one attempt: (allowed, seconds until another is allowed when refused)."""


class SlidingWindow:
    """In-process: at most `limit` attempts in any `window_seconds`."""

    def __init__(self) -> None:
        self._times: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def attempt(self, key: str, limit: int, window_seconds: float, now: float | None = None) -> tuple[bool, int]:
        now = time.monotonic() if now is None else now
        with self._lock:
            times = self._times[key]
            while times and now - times[0] >= window_seconds:
                times.popleft()
            if len(times) >= limit:
                return False, max(1, int(window_seconds - (now - times[0])) + 1)
            times.append(now)
            return True, 0


class RedisWindow:
    """Shared by every worker: a fixed window per key (INCR + EXPIRE)."""

    def __init__(self, client) -> None:
        self.client = client

    def attempt(self, key: str, limit: int, window_seconds: float, now: float | None = None) -> tuple[bool, int]:
        now = time.time() if now is None else now
        bucket = int(now // window_seconds)
        redis_key = f"{KEY_PREFIX}{key}:{bucket}"
        pipe = self.client.pipeline()
        pipe.incr(redis_key)
        pipe.expire(redis_key, int(math.ceil(window_seconds)) + 1)
        count, _ = pipe.execute()
        if count > limit:
            return False, max(1, int(math.ceil((bucket + 1) * window_seconds - now)))
        return True, 0


_memory = SlidingWindow()
_redis: RedisWindow | None = None
_redis_url = ""
_lock = threading.Lock()


def backend() -> Window:
    """Redis when REDIS_URL is set, else this process's sliding window."""
    global _redis, _redis_url
    url = os.environ.get("REDIS_URL", "").strip()
    if not url:
        return _memory
    with _lock:
        if _redis is None or url != _redis_url:
            import redis

            _redis, _redis_url = RedisWindow(redis.Redis.from_url(url, socket_timeout=2)), url
        return _redis


def attempt(key: str, limit: int, window_seconds: float) -> tuple[bool, int]:
    """Count one attempt on the shared backend: (allowed, seconds to wait when refused)."""
    window = backend()
    try:
        return window.attempt(key, limit, window_seconds)
    except Exception as error:  # Redis down: limit within this process rather than refuse everyone
        if window is _memory:
            raise
        log.warning("rate limit: Redis unavailable (%s); counting in this process", error)
        return _memory.attempt(key, limit, window_seconds)


def hit(key: str, limit: int, window_seconds: float) -> bool:
    """Count one attempt; True when it is within the limit."""
    return attempt(key, limit, window_seconds)[0]
