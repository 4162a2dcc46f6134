"""Usage Data: choose an Azure subscription and a period; chart, top resources, totals.

Figures are summed by services.usage in Decimal; the chart gets numbers (display only),
every amount shown as text is formatted from the Decimal.
"""

from __future__ import annotations

from typing import Any, TypedDict
from urllib.parse import urlencode

import reflex as rx

from opkalla_portal.services import tenant_cache
from opkalla_portal.services.access import Capability, Identity
from opkalla_portal.services.errors import MicrosoftFailure
from opkalla_portal.services.money import format_money
from opkalla_portal.services.usage import (
    PERIODS,
    TOP_RESOURCES,
    UsageError,
    azure_subscriptions,
    month_label,
    usage_report,
)
from opkalla_portal.state.base import PortalState, guarded

MONTHS_BY_LABEL = {label: months for months, label in PERIODS.items()}
# One colour per service category, stable across periods (Radix step-9 colours).
CATEGORY_COLORS = {
    "Compute": "var(--indigo-9)",
    "Storage": "var(--teal-9)",
    "Networking": "var(--amber-9)",
    "Databases": "var(--crimson-9)",
    "Backup": "var(--cyan-9)",
    "Security": "var(--grass-9)",
}
FALLBACK_COLORS = ["var(--orange-9)", "var(--violet-9)", "var(--brown-9)", "var(--pink-9)"]


class SubscriptionOption(TypedDict):
    id: str
    name: str


class Series(TypedDict):
    category: str
    color: str
    total: str


class ResourceRow(TypedDict):
    resource: str
    resource_group: str
    category: str
    cost: str
    share: str


class MonthRow(TypedDict):
    month: str
    total: str


async def _read_report(identity: Identity, subscription_id: str, months: int) -> tuple[Any, str]:
    """(the report, "") or (None, why not); (None, "") when no subscription is chosen."""
    if not subscription_id:
        return None, ""
    try:
        return await usage_report(identity, subscription_id, months), ""
    except MicrosoftFailure as failure:
        return None, f"Microsoft could not provide the usage: {failure.message}"
    except UsageError as refusal:
        return None, refusal.message


class UsageState(PortalState):
    subscriptions: list[SubscriptionOption] = []
    subscription_id: str = ""
    period_label: str = PERIODS[3]
    loading: bool = False
    loaded: bool = False
    error: str = ""
    chart: list[dict[str, Any]] = []
    series: list[Series] = []
    resources: list[ResourceRow] = []
    months: list[MonthRow] = []
    total: str = ""
    period_text: str = ""
    is_empty: bool = False
    # Which load's answer the page shows: a newer choice makes an older answer stale.
    _generation: int = 0

    @rx.var
    def download_url(self) -> str:
        if not self.subscription_id:
            return ""
        months = MONTHS_BY_LABEL.get(self.period_label, 3)
        return "/downloads/usage-data.csv?" + urlencode({"subscription": self.subscription_id, "months": months})

    @guarded(Capability.USAGE)
    async def load(self, identity: Identity):
        """on_load: the page paints at once, with the figures when the caches hold Microsoft's
        answers; otherwise with its loading state, the subscriptions and then the report filling
        in from the background (`fetch`)."""
        generation = self._start_loading(chart=True)
        found = await tenant_cache.if_at_hand(lambda: azure_subscriptions(identity))
        if found is not None:
            self._choose(found)
            chosen, months = self.subscription_id, MONTHS_BY_LABEL.get(self.period_label, 3)
            answer = await tenant_cache.if_at_hand(lambda: _read_report(identity, chosen, months))
            if answer is not None:
                self._show_report(generation, chosen, *answer)
                return None
        return UsageState.fetch(generation)

    @guarded(Capability.USAGE, background=True)
    async def fetch(self, identity: Identity, generation: int):
        """The load's answer; shown only while no newer choice was made (`generation`)."""
        try:
            found = await azure_subscriptions(identity)
        except MicrosoftFailure as error:
            async with self:
                if generation == self._generation:
                    self.loading, self.loaded = False, True
                    self.error = f"Your Azure subscriptions could not be loaded: {error.message}"
            return
        async with self:
            if generation != self._generation:
                return
            self._choose(found)
            chosen, months = self.subscription_id, MONTHS_BY_LABEL.get(self.period_label, 3)
        await self._report(identity, generation, chosen, months)

    def _choose(self, found: list) -> None:
        """The subscriptions offered, and the one shown: the link's ?subscription=, else the
        current choice, else the only one."""
        self.subscriptions = [SubscriptionOption(id=s.id, name=s.name) for s in found]
        wanted = self.router.url.query_parameters.get("subscription", "")
        ids = [s.id for s in found]
        if wanted in ids:
            self.subscription_id = wanted
        elif self.subscription_id not in ids:
            self.subscription_id = ids[0] if len(ids) == 1 else ""

    def _start_loading(self, chart: bool = False) -> int:
        self._generation += 1
        self.loading, self.error = True, ""
        if chart:
            self.chart, self.loaded = [], False
        return self._generation

    async def _report(self, identity, generation: int, subscription_id: str, months: int) -> None:
        """Fetch the report outside the tab's lock, publish it if no newer choice was made meanwhile."""
        answer = await _read_report(identity, subscription_id, months)
        async with self:
            self._show_report(generation, subscription_id, *answer)

    def _show_report(self, generation: int, subscription_id: str, report, error: str) -> None:
        if generation != self._generation:
            return
        self.loading, self.loaded, self.error = False, True, error
        if not subscription_id:
            self.chart, self.resources = [], []
        elif report is not None:
            self._publish(report)

    def _publish(self, report) -> None:
        colors = dict(CATEGORY_COLORS)
        for index, category in enumerate(c for c in report.categories if c not in colors):
            colors[category] = FALLBACK_COLORS[index % len(FALLBACK_COLORS)]
        self.series = [
            Series(category=c, color=colors[c], total=format_money(report.by_category[c])) for c in report.categories
        ]
        self.chart = [
            {"month": month_label(m), **{c: float(report.by_month_category.get((m, c), 0)) for c in report.categories}}
            for m in report.month_keys
        ]
        self.months = [
            MonthRow(month=month_label(m), total=format_money(report.month_total(m))) for m in report.month_keys
        ]
        total = report.total or 1
        self.resources = [
            ResourceRow(
                resource=r.resource,
                resource_group=r.resource_group,
                category=r.category,
                cost=format_money(r.cost),
                share=f"{(r.cost * 100 / total):.1f}%",
            )
            for r in report.resources[:TOP_RESOURCES]
        ]
        self.total = format_money(report.total)
        self.period_text = f"{report.start:%b %d, %Y} – {report.end:%b %d, %Y}"
        self.is_empty = report.is_empty

    @guarded(Capability.USAGE, background=True)
    async def select_subscription(self, identity: Identity, subscription_id: str):
        async with self:
            if subscription_id not in [s["id"] for s in self.subscriptions]:
                return rx.toast.error("Select one of your Azure subscriptions.")
            self.subscription_id = subscription_id
            generation, months = self._start_loading(), MONTHS_BY_LABEL.get(self.period_label, 3)
        await self._report(identity, generation, subscription_id, months)
        return None

    @guarded(Capability.USAGE, background=True)
    async def select_period(self, identity: Identity, label: str | list[str]):
        if not isinstance(label, str) or label not in MONTHS_BY_LABEL:
            return
        async with self:
            self.period_label = label
            generation, chosen = self._start_loading(), self.subscription_id
        await self._report(identity, generation, chosen, MONTHS_BY_LABEL[label])
