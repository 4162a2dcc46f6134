"""Contract tests of the Partner Center client against the emulator (New Commerce rules)."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import httpx
import pytest

from opkalla_portal import clock
from opkalla_portal.demo import demo_data
from opkalla_portal.microsoft import NotFoundError, ValidationError
from opkalla_portal.microsoft.partner_center import PartnerCenterClient
from tests.microsoft.contracts.partner_center import unknown_fields

LAKESIDE = demo_data.CUSTOMERS["lakeside"].tenant_id
BAYVIEW = demo_data.CUSTOMERS["bayview"].tenant_id


def demo_sub(customer: str, key: str) -> demo_data.DemoSubscription:
    return next(s for s in demo_data.SUBSCRIPTIONS if s.customer_key == customer and s.key == key)


async def test_subscriptions_with_addons(emulator_url, clients):
    subs = await clients.partner_center.list_subscriptions(LAKESIDE)
    expected = demo_data.customer_subscriptions("lakeside")
    assert {s["id"] for s in subs} == {s.id for s in expected}
    spb = next(s for s in subs if s["id"] == demo_sub("lakeside", "spb").id)
    assert spb["offerId"] == demo_sub("lakeside", "spb").offer_id and spb["quantity"] == 45
    assert spb["termDuration"] == "P1Y" and spb["attributes"]["etag"]
    addons = [s for s in subs if s["parentSubscriptionId"] == spb["id"]]
    assert {a["offerName"] for a in addons} >= {"Microsoft Teams Phone Standard", "Microsoft Teams Audio Conferencing"}
    assert {a["id"] for a in await clients.partner_center.list_addons(LAKESIDE, spb["id"])} == {a["id"] for a in addons}
    assert not any(k.startswith("_") for k in spb)


async def test_unknown_customer_and_subscription(emulator_url, clients):
    with pytest.raises(NotFoundError):
        await clients.partner_center.list_subscriptions(str(uuid.uuid4()))
    with pytest.raises(NotFoundError):
        await clients.partner_center.get_subscription(LAKESIDE, str(uuid.uuid4()))


async def test_increase_anytime_and_graph_seats_follow(fresh, clients):
    pc = clients.partner_center
    sub = await pc.get_subscription(BAYVIEW, demo_sub("bayview", "business-standard").id)
    updated = await pc.change_quantity(BAYVIEW, sub, 40)
    assert updated["quantity"] == 40 and updated["attributes"]["etag"] != sub["attributes"]["etag"]
    skus = await clients.graph(BAYVIEW).subscribed_skus()
    assert next(s for s in skus if s["skuPartNumber"] == "O365_BUSINESS_PREMIUM")["prepaidUnits"]["enabled"] == 40
    # Partner Center documents no If-Match/412 on this PATCH (and the .NET SDK sends none):
    # the emulator does not invent one, so a change built on an older read still applies.
    assert (await pc.change_quantity(BAYVIEW, sub, 41))["quantity"] == 41


async def test_decrease_only_inside_168_hours(fresh, clients):
    pc = clients.partner_center
    old = await pc.get_subscription(LAKESIDE, demo_sub("lakeside", "spb").id)  # bought 270 days ago
    with pytest.raises(ValidationError) as exc:
        await pc.change_quantity(LAKESIDE, old, 40)
    assert exc.value.code == "800002" and "scheduledNextTermInstructions" in exc.value.message
    new = await pc.get_subscription(LAKESIDE, demo_sub("lakeside", "copilot").id)  # bought 3 days ago
    assert (await pc.change_quantity(LAKESIDE, new, 4))["quantity"] == 4


async def test_renewal_instructions(fresh, clients):
    pc = clients.partner_center
    sub = await pc.get_subscription(LAKESIDE, demo_sub("lakeside", "spb").id)
    scheduled = await pc.set_renewal_instructions(LAKESIDE, sub, quantity=40)
    instructions = scheduled["scheduledNextTermInstructions"]
    assert instructions["quantity"] == 40 and instructions["product"]["termDuration"] == "P1Y"
    assert scheduled["quantity"] == 45
    off = await pc.set_auto_renew(LAKESIDE, scheduled, False)
    assert off["scheduledNextTermInstructions"] is None
    with pytest.raises(ValidationError):
        await pc.set_renewal_instructions(LAKESIDE, off, quantity=30)


async def test_catalog_products_skus_availabilities(emulator_url, clients):
    pc = clients.partner_center
    products = await pc.list_products()
    assert len(products) >= 40
    titles = {p["title"] for p in products}
    assert {
        "Microsoft 365 Business Premium",
        "Microsoft 365 Copilot",
        "Visio Plan 2",
        "Project Plan 3",
        "Dynamics 365 Business Central Essentials",
        "Power BI Pro",
        "Microsoft Teams Premium",
    } <= titles
    assert {p["title"] for p in await pc.list_products(target_view="Azure")} >= {"Azure plan"}
    spb = next(p for p in products if p["title"] == "Microsoft 365 Business Premium")
    skus = await pc.list_skus(spb["id"])
    availabilities = await pc.list_availabilities(spb["id"], skus[0]["id"])
    terms = {(t["duration"], t["billingCycle"]) for t in availabilities[0]["terms"]}
    assert {("P1M", "monthly"), ("P1Y", "monthly"), ("P1Y", "annual"), ("P3Y", "triennial")} <= terms
    assert all(t["price"]["listPrice"] > 0 for t in availabilities[0]["terms"])


async def test_order_is_idempotent_on_request_id(fresh, clients):
    pc = clients.partner_center
    products = await pc.list_products()
    visio = next(p for p in products if p["title"] == "Visio Plan 1")
    sku = (await pc.list_skus(visio["id"]))[0]
    availability = (await pc.list_availabilities(visio["id"], sku["id"]))[0]
    line = {
        "offerId": availability["catalogItemId"],
        "quantity": 3,
        "termDuration": "P1Y",
        "friendlyName": "Visio for designers",
    }
    request_id = str(uuid.uuid4())
    first = await pc.create_order(BAYVIEW, [line], request_id=request_id)
    again = await pc.create_order(BAYVIEW, [line], request_id=request_id)
    assert first["id"] == again["id"] and first["status"] == "pending"
    subs = await pc.list_subscriptions(BAYVIEW)
    assert len([s for s in subs if s["friendlyName"] == "Visio for designers"]) == 1
    assert (await pc.get_order(BAYVIEW, first["id"]))["lineItems"][0]["quantity"] == 3
    with pytest.raises(ValidationError) as exc:
        await pc.create_order(BAYVIEW, [{**line, "offerId": "NOPE:0001:NOPE"}])
    assert exc.value.code == "800004"
    with pytest.raises(ValidationError):
        await pc.create_order(BAYVIEW, [{**line, "termDuration": "P3Y"}])


async def test_agreements(fresh, app_user_pc):
    pc = app_user_pc  # App+User only (REST reference); see test_partner_delegated.py
    assert (await pc.list_agreements(LAKESIDE))[0]["type"] == "MicrosoftCustomerAgreement"
    created = await pc.confirm_agreement(
        LAKESIDE, first_name="Dana", last_name="Whitaker", email="dana.whitaker@lakesidedental.onmicrosoft.com"
    )
    assert created["primaryContact"]["firstName"] == "Dana"
    assert len(await pc.list_agreements(LAKESIDE)) == 2
    with pytest.raises(ValidationError):
        await pc.confirm_agreement(LAKESIDE, first_name="", last_name="W", email="x@example.com")


async def test_invoices_and_line_items(emulator_url, clients):
    pc = clients.partner_center
    invoices = await pc.list_invoices()
    assert len(invoices) == 12 and invoices[0]["currencyCode"] == "USD"
    lines = await pc.invoice_line_items(invoices[0]["id"], customer_id=LAKESIDE)
    assert lines and all(line["customerId"] == LAKESIDE for line in lines)
    assert (
        round(sum(line["totalForCustomer"] for line in await pc.invoice_line_items(invoices[0]["id"])), 2)
        == invoices[0]["totalCharges"]
    )


def make_legacy_azure_subscription(store, customer: str, sub_id: str) -> None:
    """The utilization API serves legacy Azure subscriptions (offer MS-AZR-0145P), not Azure
    plans: turn a demo Azure plan into one for the tests of that API."""
    with store.transaction() as tx:
        doc = tx.get("subscription", sub_id, customer)
        tx.put(
            "subscription", sub_id, {**doc, "offerId": "MS-AZR-0145P", "offerName": "Microsoft Azure"}, tenant=customer
        )


async def test_utilization_is_refused_for_azure_plans(fresh, clients):
    """ "This API isn't supported for Azure plans" (Partner Center REST reference)."""
    sub = demo_sub("lakeside", "azure-plan")
    with pytest.raises(ValidationError, match="Azure plans"):
        await clients.partner_center.azure_utilization(
            LAKESIDE, sub.id, clock.today() - timedelta(days=5), clock.today()
        )


async def test_azure_utilization_pages_through_a_date_range(fresh, clients, store):
    sub = demo_sub("lakeside", "azure-plan")
    make_legacy_azure_subscription(store, LAKESIDE, sub.id)
    end = clock.today()
    start = end - timedelta(days=200)
    records = await clients.partner_center.azure_utilization(LAKESIDE, sub.id, start, end)
    per_day = len([r for r in demo_data.AZURE_RESOURCES if r.customer_key == "lakeside"])
    assert len(records) == 200 * per_day  # more than one page of 1000
    # The SDK's AzureUtilizationRecord: quantities per resource and day, no costs.
    assert all(
        unknown_fields(r, "AzureUtilizationRecord", {"resource": "AzureResource", "instanceData": "AzureInstanceData"})
        == []
        for r in records
    )
    assert {x["resource"]["category"] for x in records} >= {"Compute", "Storage", "Networking", "Databases"}
    expected = demo_data.azure_usage("lakeside", start, start)
    assert sorted(float(e.quantity) for e in expected) == sorted(
        x["quantity"] for x in records if x["usageStartTime"].startswith(start.isoformat())
    )
    with pytest.raises(ValidationError):
        await clients.partner_center.azure_utilization(LAKESIDE, demo_sub("lakeside", "spb").id, start, end)


async def test_only_partner_tenant_tokens_are_accepted(emulator_url, clients, http):
    url = f"{clients.settings.partner_center_url}/customers/{LAKESIDE}/subscriptions"
    graph_token = await clients.identity.app_token(BAYVIEW)  # Graph audience, customer tenant
    assert (await http.get(url, headers={"Authorization": f"Bearer {graph_token}"})).status_code == 401
    customer_pc = await clients.identity.app_token(BAYVIEW, "https://api.partnercenter.microsoft.com/.default")
    assert (await http.get(url, headers={"Authorization": f"Bearer {customer_pc}"})).status_code == 403
    assert (await http.get(url)).status_code == 401


async def test_refundable_quantity_reflects_the_window(fresh, clients):
    pc = clients.partner_center
    old = await pc.get_subscription(LAKESIDE, demo_sub("lakeside", "spb").id)
    new = await pc.get_subscription(LAKESIDE, demo_sub("lakeside", "copilot").id)
    assert old["refundableQuantity"]["totalQuantity"] == 0
    assert new["refundableQuantity"]["totalQuantity"] == new["quantity"]
    assert new["cancellationAllowedUntilDate"] > new["effectiveStartDate"]
    cancelled = await pc.cancel_subscription(LAKESIDE, new)
    assert cancelled["status"] == "deleted"
    with pytest.raises(ValidationError):
        await pc.cancel_subscription(LAKESIDE, old)


async def test_utilization_next_page_needs_the_continuation_token_header(fresh, clients, store):
    """The next page of Azure utilization is a seek with the MS-ContinuationToken header
    (partner-center-sdk-for-dotNET, PartnerSdkConfiguration.json SeekAzureUtilizationRecords)."""
    sub = demo_sub("lakeside", "azure-plan")
    make_legacy_azure_subscription(store, LAKESIDE, sub.id)
    end = clock.today()
    start = end - timedelta(days=200)
    pc = clients.partner_center
    first = await pc.get_json(
        f"/customers/{LAKESIDE}/subscriptions/{sub.id}/utilizations/azure",
        params={
            "start_time": start.isoformat() + "T00:00:00Z",
            "end_time": end.isoformat() + "T00:00:00Z",
            "size": 1000,
        },
    )
    nxt = first["links"]["next"]
    assert nxt["uri"].endswith("seek_operation=Next")
    assert [h["key"] for h in nxt["headers"]] == ["MS-ContinuationToken"]
    with pytest.raises(ValidationError):  # without the header the seek cannot continue
        await pc.get_json(nxt["uri"])
    second = await pc.get_json(nxt["uri"], headers={"MS-ContinuationToken": nxt["headers"][0]["value"]})
    assert second["items"] and second["items"][0] != first["items"][0]


async def test_a_quantity_change_carries_the_callers_request_id():
    """A scheduled change's retry after a crash must be recognisably the same request: the caller's
    id goes out as MS-RequestId (and MS-CorrelationId), on the one PATCH of the whole resource."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=json.loads(request.content))

    sub = {"id": "sub-1", "quantity": 3, "offerId": "CFQ7TTC0LH18:0001:CFQ7TTC0KDP5"}
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        pc = PartnerCenterClient(http, "https://pc.example/v1")
        assert (await pc.change_quantity("cust-1", sub, 5, request_id="change-42"))["quantity"] == 5
        await pc.change_quantity("cust-1", sub, 6)
    first, second = seen
    assert first.method == "PATCH" and first.url.path == "/v1/customers/cust-1/subscriptions/sub-1"
    assert first.headers["MS-RequestId"] == "change-42" and first.headers["MS-CorrelationId"] == "change-42"
    assert json.loads(first.content) == {**sub, "quantity": 5}
    assert second.headers["MS-RequestId"] not in ("", "change-42")  # a new id when the caller has none
