"""One outbox sender process for the exactly-once race (tests/scaleout/test_outbox_race.py).

    python -m tests.scaleout.outbox_racer NAME

Prints "ready", waits for a line on stdin (the start signal, sent to all racers at once), then
runs services/mail.send_outbox until a pass finds nothing left, and prints its totals as JSON.
DATABASE_URL and the OPKALLA_SMTP_* settings come from the environment.
"""

from __future__ import annotations

import asyncio
import json
import sys
from dataclasses import asdict

from opkalla_portal.services.mail import SendReport, send_outbox


async def race(name: str) -> dict:
    totals = SendReport()
    for _ in range(20):
        report = await send_outbox(name)
        for key, value in asdict(report).items():
            setattr(totals, key, getattr(totals, key) + value)
        if report == SendReport():
            break
    return asdict(totals)


def main() -> None:
    print("ready", flush=True)
    sys.stdin.readline()
    print(json.dumps(asyncio.run(race(sys.argv[1]))), flush=True)


if __name__ == "__main__":
    main()
