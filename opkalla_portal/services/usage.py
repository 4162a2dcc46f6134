"""Usage Data: an Azure subscription's rated usage over the last 3, 6, 9 or 12 months.

Rated daily records come from Microsoft's billing reconciliation v2 exports
(services/azure_usage.py; the emulator in demo mode); costs are
summed in Decimal by month and service category (the chart), by resource (the table), and
exported as CSV with exactly the figures shown.
"""

from __future__ import annotations

import asyncio
import csv
import io
import time
import weakref
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from opkalla_portal import clock
from opkalla_portal.microsoft.http import WouldCallMicrosoft, calls_allowed
from opkalla_portal.services.access import Capability, Identity, require
from opkalla_portal.services.azure_usage import azure_plan_usage
from opkalla_portal.services.errors import PortalError, microsoft_errors
from opkalla_portal.services.invoices import UsageRow
from opkalla_portal.services.spreadsheet import safe_cell

PERIODS = {3: "last 3 months", 6: "6 months", 9: "9 months", 12: "12 months"}
TOP_RESOURCES = 10
USAGE_CACHE_SECONDS = 300
USAGE_CACHE_ENTRIES = 64  # (tenant, subscription, period) entries per process
# Keyed by the client set, so a test's fresh clients (and emulator) never see another's rows.
_usage_cache: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
# (tenant, subscription, months, start, today) -> (the cached rows it was built from, report)
_report_cache: OrderedDict = OrderedDict()
# The exports running now, per client set: (tenant, subscription, start, today) -> task.
_in_flight: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
USAGE_CSV_COLUMNS = [
    "Month",
    "Service Category",
    "Resource",
    "Resource Group",
    "Meter",
    "Quantity",
    "Unit",
    "Cost",
    "Currency",
]


class UsageError(PortalError):
    """A refusal safe to show next to the selector."""

    code_default = "usage.invalid"


@dataclass(frozen=True)
class AzureSubscription:
    id: str
    name: str


@dataclass(frozen=True)
class ResourceCost:
    resource: str
    resource_group: str
    category: str
    cost: Decimal


@dataclass(frozen=True)
class UsageReport:
    subscription: AzureSubscription
    months: int
    start: date
    end: date  # inclusive (yesterday: today's usage is not rated yet)
    month_keys: list[str] = field(default_factory=list)  # "2026-09"
    categories: list[str] = field(default_factory=list)
    by_month_category: dict[tuple[str, str], Decimal] = field(default_factory=dict)
    by_category: dict[str, Decimal] = field(default_factory=dict)
    resources: list[ResourceCost] = field(default_factory=list)  # all, most expensive first
    rows: list[UsageRow] = field(default_factory=list)
    total: Decimal = Decimal("0.00")

    @property
    def is_empty(self) -> bool:
        return not self.rows

    def month_total(self, month: str) -> Decimal:
        return sum((v for (m, _), v in self.by_month_category.items() if m == month), Decimal("0.00"))


def month_label(key: str) -> str:
    """ "2026-09" -> "Sep 2026"."""
    return date(int(key[:4]), int(key[5:7]), 1).strftime("%b %Y")


def period_start(months: int, today: date) -> date:
    """First day of the month `months - 1` months before this one (this month counts as one)."""
    index = today.year * 12 + today.month - 1 - (months - 1)
    return date(index // 12, index % 12 + 1, 1)


async def azure_subscriptions(identity: Identity) -> list[AzureSubscription]:
    """The customer's Azure plan subscriptions (usage-based), from Partner Center."""
    require(identity, Capability.USAGE)
    from opkalla_portal.services.subscriptions import tenant_subscriptions

    with microsoft_errors():
        subscriptions = await tenant_subscriptions(identity.tenant_id)
    return sorted(
        (
            AzureSubscription(s["id"], s.get("friendlyName") or s.get("offerName") or s["id"])
            for s in subscriptions
            if s.get("unitType") == "Usage-based"
        ),
        key=lambda s: s.name,
    )


async def usage_report(
    identity: Identity, subscription_id: object, months: object, *, today: date | None = None
) -> UsageReport:
    """The figures Usage Data shows for one of the customer's Azure subscriptions."""
    require(identity, Capability.USAGE)
    today = today or clock.today()
    if not isinstance(months, int) or isinstance(months, bool) or months not in PERIODS:
        raise UsageError("Choose last 3 months, 6 months, 9 months or 12 months.")
    # Only the customer's own Azure subscriptions: never trust an id from the browser.
    subscription = next((s for s in await azure_subscriptions(identity) if s.id == subscription_id), None)
    if subscription is None:
        raise UsageError("Select one of your Azure subscriptions.")
    from opkalla_portal.services.microsoft_clients import microsoft

    start = period_start(months, today)
    with microsoft_errors():
        rows = await _usage_rows(microsoft(), identity.tenant_id, subscription.id, start, today)
    # The sums are as stable as the rows they come from: kept with them (a visit re-summed
    # thousands of Decimal rows before).
    key = (identity.tenant_id, subscription, months, start, today)
    hit = _report_cache.get(key)
    if hit is not None and hit[0] is rows:
        return hit[1]
    report = build_report(subscription, months, start, today, rows)
    _report_cache[key] = (rows, report)
    _report_cache.move_to_end(key)
    while len(_report_cache) > USAGE_CACHE_ENTRIES:
        _report_cache.popitem(last=False)
    return report


async def _usage_rows(clients, tenant_id: str, subscription_id: str, start: date, today: date) -> list[UsageRow]:
    """The subscription's rated usage rows, kept USAGE_CACHE_SECONDS per Microsoft client set.

    Partner Center rates usage about once a day; the page, its period selector and the CSV
    download ask for the same records, and fetching them is the costliest part of a visit.
    """
    cache = _usage_cache.setdefault(clients, OrderedDict())
    key = (tenant_id, subscription_id, start, today)
    hit = cache.get(key)
    if hit is not None and time.monotonic() - hit[0] < USAGE_CACHE_SECONDS:
        return hit[1]
    # One export per key at a time: visitors arriving while it runs wait for the same rows
    # (each export is a job at Microsoft, and a burst of first visits used to start one each).
    if not calls_allowed():  # tenant_cache.if_at_hand: the rows are not at hand
        raise WouldCallMicrosoft("usage rows")
    in_flight = _in_flight.setdefault(clients, {})
    task = in_flight.get(key)
    if task is None:
        task = in_flight[key] = asyncio.ensure_future(_export_and_keep(clients, cache, key))
        task.add_done_callback(lambda _: in_flight.pop(key, None))
    return await asyncio.shield(task)


async def _export_and_keep(clients, cache: OrderedDict, key: tuple) -> list[UsageRow]:
    # The task, not the visitor who started it, keeps the rows: a visitor who navigates away
    # (its load cancelled) used to drop them, and the next visit ran every export again.
    tenant_id, subscription_id, start, today = key
    rows = await azure_plan_usage(clients, tenant_id, subscription_id, start, today - timedelta(days=1), today)
    cache[key] = (time.monotonic(), rows)
    cache.move_to_end(key)
    while len(cache) > USAGE_CACHE_ENTRIES:
        cache.popitem(last=False)
    return rows


def build_report(
    subscription: AzureSubscription, months: int, start: date, today: date, rows: list[UsageRow]
) -> UsageReport:
    """Sum the rows by month and category, by category, and by resource (Decimal throughout)."""
    month_keys: list[str] = []
    cursor = start
    while cursor <= today:
        month_keys.append(cursor.strftime("%Y-%m"))
        cursor = date(cursor.year + cursor.month // 12, cursor.month % 12 + 1, 1)
    by_month_category: dict[tuple[str, str], Decimal] = {}
    by_category: dict[str, Decimal] = {}
    by_resource: dict[tuple[str, str, str], Decimal] = {}
    for row in rows:
        month = row.day[:7]
        by_month_category[(month, row.category)] = by_month_category.get((month, row.category), Decimal(0)) + row.cost
        by_category[row.category] = by_category.get(row.category, Decimal(0)) + row.cost
        key = (row.resource, row.resource_group, row.category)
        by_resource[key] = by_resource.get(key, Decimal(0)) + row.cost
    categories = sorted(by_category, key=lambda c: (-by_category[c], c))
    resources = sorted(
        (ResourceCost(r, g, c, cost) for (r, g, c), cost in by_resource.items()),
        key=lambda item: (-item.cost, item.resource),
    )
    total = sum((row.cost for row in rows), Decimal("0.00"))
    end = min(today, date.fromordinal(today.toordinal() - 1)) if rows else today
    return UsageReport(
        subscription, months, start, end, month_keys, categories, by_month_category, by_category, resources, rows, total
    )


def report_csv(report: UsageReport) -> str:
    """What the page shows, one row per month, service category, resource and meter."""
    grouped: dict[tuple[str, str, str, str, str, str], tuple[Decimal, Decimal]] = {}
    for row in report.rows:
        key = (row.day[:7], row.category, row.resource, row.resource_group, row.meter, row.unit)
        quantity, cost = grouped.get(key, (Decimal(0), Decimal(0)))
        grouped[key] = (quantity + row.quantity, cost + row.cost)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(USAGE_CSV_COLUMNS)
    for (month, category, resource, group, meter, unit), (quantity, cost) in sorted(grouped.items()):
        writer.writerow(
            [
                month,
                *map(safe_cell, (category, resource, group, meter)),
                f"{quantity.normalize():f}",
                safe_cell(unit),
                f"{cost:.2f}",
                "USD",
            ]
        )
    return buffer.getvalue()
