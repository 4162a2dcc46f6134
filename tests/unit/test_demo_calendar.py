"""The demo world makes the same sense on every day of the calendar.

Walks five years of days (leap days, month ends and year ends included), independent of the
day the suite runs, and checks what the demo's story relies on.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from opkalla_portal import clock
from opkalla_portal.demo import demo_data
from opkalla_portal.demo.seed import invoice_due_date, post_published_on
from opkalla_portal.services.invoices import invoice_status

SUBSCRIPTIONS = {(s.customer_key, s.key): s for s in demo_data.SUBSCRIPTIONS}
SPB = SUBSCRIPTIONS[("lakeside", "spb")]
DAYS = [date(2026, 1, 1) + timedelta(days=n) for n in range(5 * 366)]


def _in_decrease_window(subscription: demo_data.DemoSubscription, today: date) -> bool:
    """Inside the 7 days after the current term began (New Commerce's decrease window)."""
    end = subscription.commitment_end_date(today) + timedelta(days=1)
    start = demo_data._add_months(end, -demo_data.TERM_MONTHS[subscription.term_duration])
    return (today - start).days < 7


def test_the_demo_story_holds_on_every_day():
    broken = []
    for today in DAYS:
        renewal = SPB.commitment_end_date(today)
        # Business Premium renews 45 days out, so License insight recommends right-sizing it (a
        # 12-month term cannot end on 29 February unless it began on one: then it is 44).
        after_term = today + timedelta(days=46)
        expected = 44 if (after_term.month, after_term.day) == (2, 29) else 45
        story = {
            "Business Premium renews in 45 days": (renewal - today).days == expected,
            # Copilot was bought 3 days ago: its seats can still be reduced; Business Premium's not.
            "Copilot inside the 7-day window": _in_decrease_window(SUBSCRIPTIONS[("lakeside", "copilot")], today),
            "Business Premium outside it": not _in_decrease_window(SPB, today),
            "the newest blog post is the newest": post_published_on(1, today) < post_published_on(0, today) < today,
            # This month's invoice is open, last month's overdue.
            "the newest invoice is open": invoice_status(Decimal("1.00"), invoice_due_date(today.replace(day=1)), today)
            == "Open",
            "the one before it is overdue": invoice_status(
                Decimal("1.00"), invoice_due_date(today.replace(day=1) - timedelta(days=1)), today
            )
            == "Overdue",
        }
        broken += [f"{today}: {claim}" for claim, holds in story.items() if not holds]
    assert broken == []


def test_the_clock_moves_by_whole_days_and_keeps_running(monkeypatch):
    monkeypatch.setenv(clock.ENV_VAR, "2028-02-29")
    clock.reset()
    first = clock.now()
    assert clock.today() == date(2028, 2, 29)
    assert clock.now() >= first  # time still runs
    clock.freeze(first)
    assert clock.now() == first
    monkeypatch.setenv(clock.ENV_VAR, "2028-02-29T23:59:30Z")
    clock.reset()
    assert clock.now().isoformat().startswith("2028-02-29T23:59:3")
    monkeypatch.setenv(clock.ENV_VAR, "the 29th")
    with pytest.raises(SystemExit, match="OPKALLA_TODAY"):
        clock.reset()
