"""The My Services dashboard's parts: renewals, pending changes, last changes, billing trend."""

from __future__ import annotations

from decimal import Decimal

import pytest

from opkalla_portal import clock
from opkalla_portal.services import dashboard, invoices
from opkalla_portal.services.access import PermissionDenied
from tests.insight.conftest import DANA, LUIS, PRIYA, TOM, identity_for


async def test_renewals_list_commitments_in_60_days_and_count_monthly_terms(portal, ms):
    today = clock.today()
    renewals, monthly = await dashboard.upcoming_renewals(identity_for(LUIS), today)
    assert [r.name for r in renewals] == ["Microsoft 365 Business Premium"]  # renews in about 45 days
    assert 0 < (renewals[0].renewal_date - today).days <= 60 and renewals[0].quantity == 45
    assert monthly == 5  # Exchange, Archiving, Visio, Apps for business, Project (the Azure plan is usage)
    bayview, _ = await dashboard.upcoming_renewals(identity_for(TOM), today)
    assert all(r.name != "Microsoft 365 Business Premium" for r in bayview)
    with pytest.raises(PermissionDenied):
        await dashboard.upcoming_renewals(identity_for(PRIYA), today)


def test_billing_trend_sums_invoices_by_month_in_decimal(portal):
    dana = identity_for(DANA)
    points = dashboard.billing_trend(dana, clock.today())
    assert 1 <= len(points) <= 12
    every = [s for tab in invoices.TABS for s in invoices.list_invoices(dana, tab=tab)]
    assert sum((p.total for p in points), Decimal("0.00")) == sum((s.total for s in every), Decimal("0.00"))
    assert all(isinstance(p.total, Decimal) and p.total_text.startswith("$") for p in points)
    with pytest.raises(PermissionDenied):  # a Subscription Manager does not see invoices
        dashboard.billing_trend(identity_for(LUIS), clock.today())


def test_no_changes_in_the_seed(portal):
    assert dashboard.pending_changes(identity_for(LUIS)) == [] and dashboard.last_changes(identity_for(LUIS)) == []
