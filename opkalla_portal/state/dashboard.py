"""The dashboard at the top of My Services: renewals, Future Changes, last changes, billing trend."""

from __future__ import annotations

from typing import TypedDict

from opkalla_portal import clock
from opkalla_portal.services import dashboard, tenant_cache
from opkalla_portal.services.access import Capability, Identity
from opkalla_portal.services.change_logs import MODE_LABELS, RESULT_LABELS
from opkalla_portal.services.errors import MicrosoftFailure
from opkalla_portal.state.base import PortalState, guarded
from opkalla_portal.state.deltas import assign_changed


class RenewalRow(TypedDict):
    id: str
    name: str
    when: str
    seats: str


class ChangeRow(TypedDict):
    name: str
    change: str
    when: str


class TrendPoint(TypedDict):
    month: str
    total: float  # for drawing only; the text figures come from Decimal
    label: str


def _quantity_change(old, new) -> str:
    return f"{old} → {new} licenses" if old is not None and new is not None else ""


class DashboardState(PortalState):
    loading: bool = True  # until the database's parts are in (then the tiles show)
    renewals_loading: bool = True  # until Partner Center answered (the renewals tile's own spinner)
    error: str = ""
    renewals: list[RenewalRow] = []
    monthly_count: int = 0
    future: list[ChangeRow] = []
    changes: list[ChangeRow] = []
    can_see_billing: bool = False
    trend: list[TrendPoint] = []
    trend_total: str = ""

    @guarded(Capability.SERVICES)
    async def load(self, identity: Identity):
        """on_load of My Services: each part from its source; billing only for roles that see invoices.

        What the database knows (Future Changes, last changes, billing) goes out with the page's
        first update, and so do the renewals when the per-tenant cache holds Partner Center's
        answer; otherwise they follow in their tile (`load_renewals`, in the background).
        """
        today = clock.today()
        future = [
            ChangeRow(
                name=c.subscription_name,
                change=_quantity_change(c.old_quantity, c.new_quantity),
                when=f"{MODE_LABELS.get(c.effective_mode, '')} · {c.due_date:%b %d, %Y}",
            )
            for c in dashboard.pending_changes(identity)
        ]
        changes = [
            ChangeRow(
                name=e.subscription_name,
                change=_quantity_change(e.old_quantity, e.new_quantity),
                when=f"{RESULT_LABELS.get(e.result, e.result)} · {e.created_at:%b %d, %Y} · {e.actor_name}",
            )
            for e in dashboard.last_changes(identity)
        ]
        can_see_billing = identity.can(Capability.INVOICES)
        points = dashboard.billing_trend(identity, today) if can_see_billing else []
        assign_changed(
            self,
            future=future,
            changes=changes,
            can_see_billing=can_see_billing,
            trend=[TrendPoint(month=p.month, total=float(p.total), label=p.total_text) for p in points],
            trend_total=dashboard.format_money(sum((p.total for p in points), dashboard.Decimal("0.00"))),
            loading=False,
        )
        tile = await tenant_cache.if_at_hand(lambda: _renewals_tile(identity))
        assign_changed(self, **(tile or {"error": "", "renewals_loading": True}))
        return None if tile else DashboardState.load_renewals

    @guarded(Capability.SERVICES, background=True)
    async def load_renewals(self, identity: Identity):
        """The renewals tile from Partner Center (the page's load found it not at hand)."""
        tile = await _renewals_tile(identity)
        async with self:
            assign_changed(self, **tile)
        return None


async def _renewals_tile(identity: Identity) -> dict:
    """The renewals tile's vars: Partner Center's subscriptions due in the next 60 days."""
    today = clock.today()
    try:
        found, monthly = await dashboard.upcoming_renewals(identity, today)
    except MicrosoftFailure as failure:  # the tile says so; the rest of the dashboard stands
        return {
            "renewals": [],
            "monthly_count": 0,
            "error": f"Renewals could not be loaded: {failure.message}",
            "renewals_loading": False,
        }
    renewals = [
        RenewalRow(
            id=r.id,
            name=r.name,
            when=f"{r.renewal_date:%b %d, %Y} ({(r.renewal_date - today).days} days)",
            seats=f"{r.quantity} licenses" + (f", renews with {r.renews_with}" if r.renews_with != r.quantity else ""),
        )
        for r in found
    ]
    return {"renewals": renewals, "monthly_count": monthly, "error": "", "renewals_loading": False}
