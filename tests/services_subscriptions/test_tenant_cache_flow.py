"""My Services and its dashboard read the customer's subscriptions through the per-tenant cache:
a visit burst costs one Partner Center call, and what the portal itself changes (a quantity,
a renewal change, a purchase) shows on the next visit, not after the cache's TTL."""

from __future__ import annotations

from opkalla_portal import clock
from opkalla_portal.demo import demo_data
from opkalla_portal.services import dashboard, quantity_change, subscriptions
from tests.services_subscriptions.conftest import LUIS, identity_for

SPB = next(s.id for s in demo_data.SUBSCRIPTIONS if s.customer_key == "lakeside" and s.key == "spb")


def _count_list_calls(ms, monkeypatch) -> list[str]:
    calls: list[str] = []
    real = ms.partner_center.list_subscriptions

    async def counted(customer_id):
        calls.append(customer_id)
        return await real(customer_id)

    monkeypatch.setattr(ms.partner_center, "list_subscriptions", counted)
    return calls


def _spb_quantity(lines) -> int:
    return next(line.quantity for line in lines if line.id == SPB)


async def test_a_my_services_visit_reads_the_subscriptions_once(ms, monkeypatch):
    """The list reads Microsoft (it shows an outage as such); the dashboard and insight reuse it."""
    luis = identity_for(LUIS)
    calls = _count_list_calls(ms, monkeypatch)
    contract = subscriptions.billing_contracts(luis)[0].id
    await subscriptions.contract_subscriptions(luis, contract)  # the list
    await dashboard.upcoming_renewals(luis, clock.today())  # the dashboard's renewals tile
    await dashboard.upcoming_renewals(luis, clock.today())  # and again (another tab, a re-render)
    assert len(calls) == 1


async def test_a_change_through_the_portal_shows_on_the_next_visit(ms, monkeypatch):
    luis = identity_for(LUIS)
    contract = subscriptions.billing_contracts(luis)[0].id
    assert _spb_quantity(await subscriptions.contract_subscriptions(luis, contract)) == 45
    sub = await subscriptions.load_subscription(luis, SPB)
    outcome = await quantity_change.submit_change(luis, SPB, "50", "immediately", "", sub.etag)
    assert outcome.status == "succeeded"
    assert _spb_quantity(await subscriptions.contract_subscriptions(luis, contract)) == 50


async def test_a_renewal_change_shows_in_the_dashboards_renewals_at_once(ms):
    luis = identity_for(LUIS)
    before, _ = await dashboard.upcoming_renewals(luis, clock.today())
    target = next((r for r in before if r.id == SPB), None)
    sub = await subscriptions.load_subscription(luis, SPB)
    outcome = await quantity_change.submit_change(luis, SPB, "40", "on_renewal", "", sub.etag)
    assert outcome.status == "scheduled", outcome
    raw = await subscriptions.tenant_subscriptions(luis.tenant_id)
    spb = next(s for s in raw if s["id"] == SPB)
    assert (spb.get("scheduledNextTermInstructions") or {}).get("quantity") == 40
    if target is not None:  # renewing within 60 days on this date: the tile shows the new seat count
        after, _ = await dashboard.upcoming_renewals(luis, clock.today())
        assert next(r for r in after if r.id == SPB).renews_with == 40
