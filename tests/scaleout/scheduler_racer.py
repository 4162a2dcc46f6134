"""One scheduler process for the exactly-once race (tests/scaleout/test_scheduler_race.py).

    python -m tests.scaleout.scheduler_racer NAME NOW_ISO

Imports everything, prints "ready", waits for a line on stdin (the start signal, sent to
all racers at once), then runs the scheduler's `run_due_changes` as of NOW until a pass
finds nothing left, and prints its totals as JSON. DATABASE_URL and OPKALLA_PUBLIC_URL
(the emulator, in demo mode) come from the environment.
"""

from __future__ import annotations

import asyncio
import json
import sys
from dataclasses import asdict
from datetime import datetime

from opkalla_portal.services.scheduler import RunReport, run_due_changes


async def race(name: str, now: datetime) -> dict:
    totals = RunReport()
    for _ in range(10):
        report = await run_due_changes(name, now)
        for key, value in asdict(report).items():
            setattr(totals, key, getattr(totals, key) + value)
        if report == RunReport():
            break
    return asdict(totals)


def main() -> None:
    name, now = sys.argv[1], datetime.fromisoformat(sys.argv[2])
    print("ready", flush=True)
    sys.stdin.readline()
    print(json.dumps(asyncio.run(race(name, now))), flush=True)


if __name__ == "__main__":
    main()
