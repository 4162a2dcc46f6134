"""Usage Data reuses an Azure subscription's rated usage for a few minutes (Microsoft
rates usage daily): the period selector and the CSV download do not fetch it again."""

from __future__ import annotations

from opkalla_portal import clock
from opkalla_portal.demo import demo_data
from opkalla_portal.microsoft.billing_reconciliation import BillingReconciliationClient
from opkalla_portal.services import usage
from tests.money.conftest import SUBSCRIPTION_MANAGER

AZURE = next(s for s in demo_data.SUBSCRIPTIONS if s.customer_key == "lakeside" and s.key == "azure-plan")


async def test_rated_usage_is_fetched_once_per_subscription_and_period(identity_of, microsoft, monkeypatch):
    calls = []
    real = BillingReconciliationClient.wait_for_manifest

    async def counted(self, operation_url):
        calls.append(operation_url)
        return await real(self, operation_url)

    monkeypatch.setattr(BillingReconciliationClient, "wait_for_manifest", counted)
    identity = identity_of(SUBSCRIPTION_MANAGER)
    first = await usage.usage_report(identity, AZURE.id, 3, today=clock.today())
    again = await usage.usage_report(identity, AZURE.id, 3, today=clock.today())
    exports = len(calls)  # the reconciliation exports covering three months
    assert again.total == first.total and 1 <= exports <= 4
    await usage.usage_report(identity, AZURE.id, 6, today=clock.today())  # another period: its own records
    assert len(calls) > exports
    fetched = len(calls)
    monkeypatch.setattr(usage, "USAGE_CACHE_SECONDS", 0)  # expired: fetched again
    await usage.usage_report(identity, AZURE.id, 3, today=clock.today())
    assert len(calls) == fetched + exports
