"""The dashboard at the top of My Services: renewals coming up, Future Changes, the last Change Logs
entries and the 12-month billing trend. Each part re-checks its own capability."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from opkalla_portal.models import ChangeLogEntry, ScheduledChange
from opkalla_portal.services import change_logs, invoices, quantity_change, subscriptions
from opkalla_portal.services.access import Capability, Identity, require
from opkalla_portal.services.errors import microsoft_errors
from opkalla_portal.services.insight_report import active_seat_subscriptions
from opkalla_portal.services.money import format_money

RENEWAL_DAYS = 60
LAST_CHANGES = 5


@dataclass(frozen=True)
class Renewal:
    id: str
    name: str
    quantity: int
    renews_with: int  # after a scheduled renewal change
    renewal_date: date
    term: str


async def upcoming_renewals(identity: Identity, today: date) -> tuple[list[Renewal], int]:
    """Commitment (annual, multi-year) subscriptions renewing in the next 60 days, and how many
    monthly-term subscriptions there are (they renew every month, so they are counted, not listed)."""
    require(identity, Capability.SERVICES)
    with microsoft_errors():
        raw, catalog = await active_seat_subscriptions(identity)
    renewals, monthly = [], 0
    for sub in raw:
        line = subscriptions._line(sub, catalog)  # the My Services row: name, quantity, renewal date
        if sub.get("termDuration") == "P1M":
            monthly += 1
        elif line.renewal_date and today < line.renewal_date <= today + timedelta(days=RENEWAL_DAYS):
            scheduled = (sub.get("scheduledNextTermInstructions") or {}).get("quantity")
            renewals.append(
                Renewal(line.id, line.name, line.quantity, scheduled or line.quantity, line.renewal_date, line.term)
            )
    return sorted(renewals, key=lambda r: (r.renewal_date, r.name.lower())), monthly


def pending_changes(identity: Identity) -> list[ScheduledChange]:
    return [c for c in quantity_change.future_changes(identity) if c.status in ("pending", "applying")]


def last_changes(identity: Identity) -> list[ChangeLogEntry]:
    rows, _ = change_logs.change_log_page(identity, change_logs.LogFilter(), 0)
    return rows[:LAST_CHANGES]


@dataclass(frozen=True)
class TrendPoint:
    month: str  # "Mar 2026"
    total: Decimal

    @property
    def total_text(self) -> str:
        return format_money(self.total)


def billing_trend(identity: Identity, today: date) -> list[TrendPoint]:
    """Invoice totals by invoice month for the last 12 months, oldest first (Decimal sums)."""
    require(identity, Capability.INVOICES)
    first = (today.replace(day=1) - timedelta(days=335)).replace(day=1)
    by_month: dict[date, Decimal] = defaultdict(lambda: Decimal("0.00"))
    for summary in invoices.invoice_summaries(identity, today):  # both tabs, read once
        month = summary.invoice_date.replace(day=1)
        if first <= month <= today:
            by_month[month] += summary.total
    return [TrendPoint(f"{month:%b %Y}", by_month[month]) for month in sorted(by_month)]
