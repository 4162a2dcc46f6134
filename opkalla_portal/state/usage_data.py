"""Usage Data: choose an Azure subscription and a period; chart, top resources, totals.

Figures are summed by services.usage in Decimal; the chart gets numbers (display only),
every amount shown as text is formatted from the Decimal.
"""

from __future__ import annotations

from typing import Any, TypedDict
from urllib.parse import urlencode

import reflex as rx

from opkalla_portal.microsoft.errors import MicrosoftError
from opkalla_portal.services.access import Capability, PermissionDenied
from opkalla_portal.services.money import format_money
from opkalla_portal.services.usage import (
    PERIODS,
    TOP_RESOURCES,
    UsageError,
    azure_subscriptions,
    month_label,
    usage_report,
)
from opkalla_portal.state.base import PortalState, refused

MONTHS_BY_LABEL = {label: months for months, label in PERIODS.items()}
# One colour per service category, stable across periods (Radix step-9 colours).
CATEGORY_COLORS = {"Compute": "var(--indigo-9)", "Storage": "var(--teal-9)", "Networking": "var(--amber-9)",
                   "Databases": "var(--crimson-9)", "Backup": "var(--cyan-9)", "Security": "var(--grass-9)"}
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

    @rx.var
    def download_url(self) -> str:
        if not self.subscription_id:
            return ""
        months = MONTHS_BY_LABEL.get(self.period_label, 3)
        return "/downloads/usage-data.csv?" + urlencode({"subscription": self.subscription_id, "months": months})

    @rx.event
    async def load(self):
        try:
            identity = self._require(Capability.USAGE)
        except PermissionDenied:
            return  # the page guard, first on_load, sends the visitor to sign-in or not-allowed
        self.loading, self.error, self.chart, self.loaded = True, "", [], False
        yield
        try:
            found = await azure_subscriptions(identity)
        except MicrosoftError as error:
            self.loading, self.loaded = False, True
            self.error = f"Your Azure subscriptions could not be loaded: {error.message}"
            return
        self.subscriptions = [SubscriptionOption(id=s.id, name=s.name) for s in found]
        wanted = self.router.url.query_parameters.get("subscription", "")
        ids = [s.id for s in found]
        if wanted in ids:
            self.subscription_id = wanted
        elif self.subscription_id not in ids:
            self.subscription_id = ids[0] if len(ids) == 1 else ""
        await self._report(identity)

    async def _report(self, identity) -> None:
        """Fetch and publish the report for the selected subscription and period."""
        if not self.subscription_id:
            self.loading, self.loaded, self.chart, self.resources = False, True, [], []
            return
        self.loading, self.error = True, ""
        try:
            report = await usage_report(identity, self.subscription_id, MONTHS_BY_LABEL.get(self.period_label, 3))
        except UsageError as error:
            self.error = error.message
            self.loading, self.loaded = False, True
            return
        except MicrosoftError as error:
            self.error = f"Microsoft could not provide the usage: {error.message}"
            self.loading, self.loaded = False, True
            return
        colors = dict(CATEGORY_COLORS)
        for index, category in enumerate(c for c in report.categories if c not in colors):
            colors[category] = FALLBACK_COLORS[index % len(FALLBACK_COLORS)]
        self.series = [Series(category=c, color=colors[c], total=format_money(report.by_category[c]))
                       for c in report.categories]
        self.chart = [
            {"month": month_label(m),
             **{c: float(report.by_month_category.get((m, c), 0)) for c in report.categories}}
            for m in report.month_keys
        ]
        self.months = [MonthRow(month=month_label(m), total=format_money(report.month_total(m)))
                       for m in report.month_keys]
        total = report.total or 1
        self.resources = [
            ResourceRow(resource=r.resource, resource_group=r.resource_group, category=r.category,
                        cost=format_money(r.cost), share=f"{(r.cost * 100 / total):.1f}%")
            for r in report.resources[:TOP_RESOURCES]
        ]
        self.total = format_money(report.total)
        self.period_text = f"{report.start:%b %d, %Y} – {report.end:%b %d, %Y}"
        self.is_empty = report.is_empty
        self.loading, self.loaded = False, True

    @rx.event
    async def select_subscription(self, subscription_id: str):
        try:
            identity = self._require(Capability.USAGE)
        except PermissionDenied as error:
            yield refused(error)
            return
        if subscription_id not in [s["id"] for s in self.subscriptions]:
            yield rx.toast.error("Select one of your Azure subscriptions.")
            return
        self.subscription_id = subscription_id
        self.loading = True
        yield
        await self._report(identity)

    @rx.event
    async def select_period(self, label: str | list[str]):
        try:
            identity = self._require(Capability.USAGE)
        except PermissionDenied as error:
            yield refused(error)
            return
        if not isinstance(label, str) or label not in MONTHS_BY_LABEL:
            return
        self.period_label = label
        self.loading = True
        yield
        await self._report(identity)
