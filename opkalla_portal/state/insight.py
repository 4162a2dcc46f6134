"""License insight and right-size recommendations (Manage Licenses and the My Services dashboard).

The report stays in a backend var; the browser gets display rows. Accept and Dismiss take only a
subscription id: the numbers (and the fingerprint) are the server's, recomputed on accept.
"""

from __future__ import annotations

from typing import TypedDict

import reflex as rx

from opkalla_portal.services import insight_report, tenant_cache
from opkalla_portal.services.access import Capability, Identity
from opkalla_portal.services.errors import PortalError
from opkalla_portal.services.insight import IDLE_THRESHOLDS, RECOMMEND_IDLE_DAYS
from opkalla_portal.services.licenses import ConsentRequired
from opkalla_portal.services.pricing import format_money
from opkalla_portal.state.base import PortalState, guarded
from opkalla_portal.state.dashboard import DashboardState
from opkalla_portal.state.deltas import assign_changed


class InsightRow(TypedDict):
    sku_id: str
    name: str
    purchased: int
    assigned: int
    unassigned: int
    idle30: int
    idle60: int
    idle90: int
    disabled: int
    cost: str  # monthly cost of idle + disabled seats at the chosen threshold
    excluded: bool


class RecommendationRow(TypedDict):
    id: str
    name: str
    headline: str
    saving: str
    detail: str
    extra: str
    renewal: str
    ready: bool


def _recommendation_row(rec) -> RecommendationRow:
    extra = ""
    if rec.extra_seats > 0:
        extra = (
            f"{rec.reclaimable} seats are held by users idle {RECOMMEND_IDLE_DAYS}+ days or disabled: "
            f"reclaim them in Manage Licenses to go down to {rec.ideal_quantity} and save "
            f"{format_money(rec.extra_annual_saving)} more a year."
        )
    if rec.ready:
        headline = (
            f"Reduce {rec.name} from {rec.current_quantity} to {rec.target_quantity} on renewal, saving "
            f"{format_money(rec.annual_saving)} a year"
        )
    else:
        headline = f"Reclaim idle seats of {rec.name} before it renews"
    return RecommendationRow(
        id=rec.subscription_id,
        name=rec.name,
        headline=headline,
        saving=format_money(rec.annual_saving) if rec.ready else "",
        detail=(
            f"Renews {rec.renewal_date:%b %d, %Y}. {rec.unassigned} of {rec.current_quantity} seats are "
            f"unassigned; {format_money(rec.unit_price)} per seat per month."
        ),
        extra=extra,
        renewal=f"{rec.renewal_date:%b %d, %Y}",
        ready=rec.ready,
    )


async def _read_report(identity: Identity) -> tuple[insight_report.InsightReport | None, str]:
    """(the report, "") or (None, why it could not be read)."""
    try:
        return await insight_report.load_report(identity), ""
    except ConsentRequired:
        return insight_report.InsightReport(consented=False), ""
    except PortalError as failure:  # shown in the panel, not as a toast
        return None, failure.message


# Insight needs users and licenses, and subscriptions (Administrators, Subscription Managers).
INSIGHT = (Capability.LICENSES, Capability.SERVICES)


class InsightState(PortalState):
    loading: bool = True
    error: str = ""
    consent_needed: bool = False
    sign_in_known: bool = True
    sign_in_missing: str = ""  # why Microsoft did not share sign-in activity ("premium" / "permission")
    threshold: str = str(RECOMMEND_IDLE_DAYS)
    products: list[InsightRow] = []
    idle_seats: int = 0
    idle_cost: str = "$0.00"
    recommendations: list[RecommendationRow] = []
    dismissed_count: int = 0
    busy_id: str = ""  # the recommendation being accepted (a second click does nothing)
    _report: insight_report.InsightReport | None = None

    def _publish(self) -> None:
        report = self._report
        days = int(self.threshold)
        if report is None:
            assign_changed(self, products=[], recommendations=[], idle_seats=0, idle_cost="$0.00")
            return
        assign_changed(
            self,
            consent_needed=not report.consented,
            sign_in_known=report.sign_in_known,
            products=[
                InsightRow(
                    sku_id=p.sku_id,
                    name=p.name,
                    purchased=p.purchased,
                    assigned=p.usage.assigned,
                    unassigned=p.unassigned,
                    idle30=p.usage.idle[30],
                    idle60=p.usage.idle[60],
                    idle90=p.usage.idle[90],
                    disabled=p.usage.disabled,
                    cost=format_money(p.idle_cost(days)),
                    excluded=p.excluded,
                )
                for p in report.products
            ],
            idle_seats=report.idle_seats(days),
            idle_cost=format_money(report.idle_cost(days)),
            recommendations=[_recommendation_row(r) for r in report.recommendations],
            dismissed_count=report.dismissed,
            sign_in_missing=report.sign_in_missing,
        )

    @guarded(*INSIGHT)
    async def load(self, identity: Identity):
        """on_load (and after every change): the report at once when the per-tenant cache holds
        Microsoft's answers; otherwise a loading indicator, and the report in the background."""
        found = await tenant_cache.if_at_hand(lambda: _read_report(identity))
        if found is None:
            assign_changed(self, loading=True, error="")
            return InsightState.fetch_report
        self._show(*found)
        return None

    @guarded(*INSIGHT, background=True)
    async def fetch_report(self, identity: Identity):
        found = await _read_report(identity)
        async with self:
            self._show(*found)
        return None

    def _show(self, report: insight_report.InsightReport | None, error: str) -> None:
        self._report = report
        assign_changed(self, error=error, loading=False)
        self._publish()

    @guarded(*INSIGHT)
    def set_threshold(self, identity: Identity, value: str):
        """Idle for 30, 60 or 90 days: which count drives the cost of idle seats."""
        if str(value) in {str(d) for d in IDLE_THRESHOLDS}:
            self.threshold = str(value)
            self._publish()
        return None

    @guarded(*INSIGHT)
    def set_excluded(self, identity: Identity, sku_id: str, excluded: bool):
        """The Exclude switch: a product meant to sit unassigned leaves idle totals and recommendations."""
        if self._report is None or str(sku_id) not in {p.sku_id for p in self._report.products}:
            return rx.toast.error("That product could not be found.")
        insight_report.set_exclusion(identity, sku_id, excluded)
        return InsightState.load

    @guarded(*INSIGHT)
    def dismiss(self, identity: Identity, subscription_id: str):
        rec = self._find(subscription_id)
        if rec is None:
            return rx.toast.error("That recommendation could not be found.")
        insight_report.dismiss(identity, rec.subscription_id, rec.fingerprint)
        return [
            rx.toast.info(f"Recommendation for {rec.name} dismissed. It returns if the numbers change."),
            InsightState.load,
        ]

    def _find(self, subscription_id: object):
        recs = self._report.recommendations if self._report else []
        return next((r for r in recs if r.subscription_id == str(subscription_id)), None)

    @guarded(*INSIGHT, background=True)
    async def accept(self, identity: Identity, subscription_id: str):
        """One click: the recommended quantity as an On Renewal change through Subscription Edit's path."""
        async with self:
            rec = self._find(subscription_id)
            if self.busy_id or rec is None or not rec.ready:
                return None
            self.busy_id = rec.subscription_id
        try:
            outcome = await insight_report.accept(identity, rec.subscription_id, rec.fingerprint)
            message, ok = outcome.message, outcome.status == "scheduled"
            if outcome.errors:
                message = next(iter(outcome.errors.values()))
        except PortalError as error:  # toasted below, with the reload that shows the current figures
            message, ok = error.message, False
        async with self:
            self.busy_id = ""
        # The dashboard's Future Changes and last changes show the new change too.
        return [rx.toast.success(message) if ok else rx.toast.error(message), InsightState.load, DashboardState.load]
