"""The portal reads "now" and "today" from one clock (opkalla_portal/clock.py), so tests and the
demo can move it. Reading the system clock directly anywhere else is a bug in waiting."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DIRECT = re.compile(r"\b(?:date\.today|datetime\.(?:now|utcnow|today))\(")
# Protocol timestamps another party checks against its own real clock stay real.
ALLOWED = {
    "opkalla_portal/clock.py": "the clock itself",
    "opkalla_portal/microsoft/emulator/context.py": "the HTTP Date header of the emulator's responses",
}


def test_nothing_reads_the_system_clock_but_the_clock():
    offenders = []
    for folder in ("opkalla_portal", "tests", "bench"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            name = path.relative_to(ROOT).as_posix()
            if name in ALLOWED or name == "tests/unit/test_one_clock.py":
                continue
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if DIRECT.search(line) and not line.lstrip().startswith("#"):
                    offenders.append(f"{name}:{number}: {line.strip()}")
    assert offenders == [], "read opkalla_portal.clock instead:\n" + "\n".join(offenders)
