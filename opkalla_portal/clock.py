"""The portal's one clock: what "now" and "today" are, for the portal and its emulator.

Production reads the real clock. Tests and the demo can move it:

- ``OPKALLA_TODAY=2028-02-29`` (read when the process starts) makes every reading that many
  days later or earlier, keeping the time of day, so time still runs; an ISO date-time
  (``2028-02-29T23:59:30Z``) moves it to that instant instead.
- ``clock.shift_to(...)`` does the same in-process; ``clock.freeze(...)`` stops it.

Business dates (renewals, the 7-day decrease window, usage periods, invoices, blog dates,
scheduled changes, sessions) come from here. Protocol timestamps that another party checks
against its own real clock (token ``iat``/``exp``, ``Retry-After``) stay on ``time.time()``.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta

ENV_VAR = "OPKALLA_TODAY"

_offset = timedelta(0)
_frozen: datetime | None = None


def _real_now() -> datetime:
    return datetime.now(UTC)


def now() -> datetime:
    """The current moment, timezone-aware UTC."""
    if _frozen is not None:
        return _frozen
    return _real_now() + _offset


def today() -> date:
    """Today's date in UTC (Microsoft bills and renews on UTC dates)."""
    return now().date()


def parse(text: str) -> datetime | date:
    """A date (``YYYY-MM-DD``) or an ISO date-time (naive means UTC); ValueError otherwise."""
    text = text.strip()
    if len(text) == 10:
        return date.fromisoformat(text)
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def shift_to(target: datetime | date) -> None:
    """Run the clock from ``target``: a date keeps the real time of day, a date-time is exact."""
    global _offset, _frozen
    _frozen = None
    real = _real_now()
    if isinstance(target, datetime):
        _offset = target.astimezone(UTC) - real
    else:
        _offset = timedelta(days=(target - real.date()).days)


def freeze(moment: datetime) -> None:
    """Stop the clock at ``moment`` (tests that need an exact instant)."""
    global _frozen
    _frozen = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def reset() -> None:
    """Back to the real clock, or to the environment's setting when there is one."""
    global _offset, _frozen
    _offset, _frozen = timedelta(0), None
    setting = os.environ.get(ENV_VAR, "").strip()
    if setting:
        try:
            shift_to(parse(setting))
        except ValueError as error:
            raise SystemExit(f"{ENV_VAR}={setting!r} is not a date (YYYY-MM-DD) or an ISO date-time") from error


reset()
