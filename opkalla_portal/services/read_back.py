"""Reading Microsoft back after a write whose answer was lost.

A write that timed out may still have been carried out (Microsoft did it, its answer never
arrived). Only a read tells which, and a read is safe to repeat: a few rounds, each with the
client's own retries, make "Microsoft never told us" rare enough to be a real outage.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from opkalla_portal.microsoft.errors import MicrosoftError

T = TypeVar("T")
ROUNDS = 3


async def read_back(read: Callable[[], Awaitable[T]], rounds: int = ROUNDS) -> T | None:
    """`read()`'s result, or None when Microsoft did not answer in any round."""
    for _ in range(rounds):
        try:
            return await read()
        except MicrosoftError:
            continue
    return None
