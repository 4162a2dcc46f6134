"""Contract tests: what the clients send and what the emulator answers, checked against
Microsoft's own definitions kept under tests/microsoft/contracts/ (each names its source):

- Graph: tests/microsoft/contracts/graph-v1.0-subset.csdl, verbatim elements of
  microsoftgraph/msgraph-metadata schemas/v1.0-Prod.csdl;
- Partner Center: tests/microsoft/contracts/partner_center_sdk_models.json, the model fields
  of microsoft/partner-center-sdk-for-dotNET (Source/PartnerSdk.Models).
"""

from __future__ import annotations

from opkalla_portal.demo import demo_data
from opkalla_portal.microsoft.graph import LicenseChange
from opkalla_portal.services.licenses import SIGN_IN_FIELD, USER_FIELDS
from tests.microsoft.contracts import csdl
from tests.microsoft.contracts.partner_center import unknown_fields

LAKESIDE = demo_data.CUSTOMERS["lakeside"].tenant_id
BAYVIEW = demo_data.CUSTOMERS["bayview"].tenant_id


def test_the_validators_catch_what_they_should():
    """The contract checks themselves can fail (so a pass below means something)."""
    assert csdl.validate({"id": "x", "displayName": "A", "accountEnabled": "yes"}, "graph.user") == [
        "$.accountEnabled: 'yes' is not Edm.Boolean"
    ]
    assert csdl.validate({"id": "x", "costCenterCode": 3}, "graph.user") == [
        "$.costCenterCode: not a property of microsoft.graph.user"
    ]
    assert csdl.validate({"skuId": "not-a-guid", "disabledPlans": []}, "graph.assignedLicense")
    assert csdl.validate(
        {"skuId": "f245ecc8-75af-4f8e-b61f-27d8114de5f3", "disabledPlans": None}, "graph.assignedLicense"
    ) == ["$.disabledPlans: null but Nullable=false"]
    assert csdl.validate_action_body("graph.assignLicense", "graph.user", {"addLicenses": []}) == [
        "$.removeLicenses: required parameter missing"
    ]
    assert unknown_fields({"quantity": 1, "cost": 3}, "AzureUtilizationRecord") == [
        "$.cost: not a field of AzureUtilizationRecord"
    ]


# ----------------------------------------------------------------- Graph requests
def test_assign_license_bodies_match_the_action_parameters():
    """POST /users/{id}/assignLicense: addLicenses Collection(assignedLicense), removeLicenses
    Collection(Edm.Guid), both Nullable=false (v1.0-Prod.csdl, Action assignLicense)."""
    sku = "f245ecc8-75af-4f8e-b61f-27d8114de5f3"
    plan = "8e0c0a52-6a6c-4d40-8370-dd62790dcd70"
    for change in (
        LicenseChange("u", add_sku_ids=(sku,)),
        LicenseChange("u", remove_sku_ids=(sku,)),
        LicenseChange("u", add_sku_ids=(sku,), disabled_plans={sku: (plan,)}),
    ):
        assert csdl.validate_action_body("graph.assignLicense", "graph.user", change.body()) == []


def test_user_fields_the_portal_selects_exist():
    declared = csdl.properties("graph.user")
    assert set(USER_FIELDS) | {SIGN_IN_FIELD, "licenseAssignmentStates"} <= set(declared)


# ---------------------------------------------------------------- Graph responses
async def test_emulator_graph_responses_match_the_metadata(fresh, clients):
    graph = clients.graph(BAYVIEW)
    users = await graph.list_users(select=(*USER_FIELDS, "licenseAssignmentStates"), top=999)
    default = await graph.get_json("/users", params={"$top": 5})
    assert users and default["value"]
    for user in users + default["value"]:
        assert csdl.validate(user, "graph.user") == []
    skus = await graph.subscribed_skus()
    assert skus
    for sku in skus:
        assert csdl.validate(sku, "graph.subscribedSku") == []
    holder = next(u for u in users if u["assignedLicenses"])
    for detail in await graph.license_details(holder["id"]):
        assert csdl.validate(detail, "graph.licenseDetails") == []
    organization = await graph.get_json("/organization")
    for org in organization["value"]:
        assert csdl.validate(org, "graph.organization") == []
    free = next(s for s in skus if s["prepaidUnits"]["enabled"] > s["consumedUnits"])
    target = next(
        u for u in users if u.get("usageLocation") and free["skuId"] not in {x["skuId"] for x in u["assignedLicenses"]}
    )
    assigned = await graph.assign_license(target["id"], add_sku_ids=[free["skuId"]])
    assert csdl.validate(assigned, "graph.user") == []


async def test_emulator_users_delta_matches_the_metadata(fresh, clients, store):
    """users/delta: Function delta bound to Collection(graph.user), returning Collection(graph.user)
    (v1.0-Prod.csdl); a deleted user is its id and the @removed instance annotation
    (concepts/delta-query-users.md)."""
    assert ("Collection(graph.user)", "Collection(graph.user)") in csdl.bound_signatures("microsoft.graph.delta")
    graph = clients.graph(BAYVIEW)
    first = await graph.users_delta((*USER_FIELDS,))
    for user in first.users.values():
        assert csdl.validate(user, "graph.user") == []
    gone = next(iter(first.users))
    with store.transaction() as tx:
        tx.delete("user", gone)
    page = await graph.get_json(first.delta_link)
    assert page["value"] == [{"id": gone, "@removed": {"reason": "changed"}}]
    assert csdl.validate({"id": gone}, "graph.user") == []


async def test_emulator_sign_in_activity_matches_the_metadata(fresh, clients, store):
    with store.transaction() as tx:  # Lakeside (which has Entra ID P1) grants consent
        tx.put(
            "consent",
            LAKESIDE,
            {
                "tenant": LAKESIDE,
                "clientId": demo_data.DEMO_APP_CLIENT_ID,
                "scope": "https://graph.microsoft.com/.default",
                "grantedAt": "now",
            },
        )
    graph = clients.graph(LAKESIDE)
    users = await graph.list_users(select=("id", SIGN_IN_FIELD), top=100)
    assert any(u.get(SIGN_IN_FIELD) for u in users)
    for user in users:
        assert csdl.validate(user, "graph.user") == []


# --------------------------------------------------------- Partner Center payloads
SUBSCRIPTION_NESTED = {"scheduledNextTermInstructions": "ScheduledNextTermInstructions"}


async def test_emulator_subscriptions_use_the_sdk_fields(fresh, clients):
    pc = clients.partner_center
    for customer in (LAKESIDE, BAYVIEW):
        for sub in await pc.list_subscriptions(customer):
            assert unknown_fields(sub, "Subscription", SUBSCRIPTION_NESTED) == []
            instructions = sub.get("scheduledNextTermInstructions")
            if instructions:
                assert unknown_fields(instructions.get("product") or {}, "ProductTerm") == []


async def test_emulator_catalog_orders_agreements_invoices_use_the_sdk_fields(fresh, clients, app_user_pc):
    pc = clients.partner_center
    products = await pc.list_products()
    assert [x for p in products for x in unknown_fields(p, "Product")] == []
    skus = await pc.list_skus(products[0]["id"])
    assert [x for s in skus for x in unknown_fields(s, "Sku")] == []
    availabilities = await pc.list_availabilities(products[0]["id"], skus[0]["id"])
    assert [x for a in availabilities for x in unknown_fields(a, "Availability")] == []
    for order in await pc.list_orders(BAYVIEW):
        assert unknown_fields(order, "Order", {"lineItems": "OrderLineItem"}) == []
    for agreement in await app_user_pc.list_agreements(LAKESIDE):
        assert unknown_fields(agreement, "Agreement", {"primaryContact": "Contact"}) == []
    invoices = await pc.list_invoices()
    for invoice in invoices:
        assert unknown_fields(invoice, "Invoice") == []


async def test_partner_center_request_bodies_use_the_sdk_fields(fresh, clients, monkeypatch):
    """What the client sends: the agreement it confirms, the order it places, the
    subscription it PATCHes."""
    pc = clients.partner_center
    sent: list[tuple[str, str, dict]] = []
    original = pc.request

    async def spy(method, path, **kwargs):
        if kwargs.get("json") is not None:
            sent.append((method, path, kwargs["json"]))
        return await original(method, path, **kwargs)

    monkeypatch.setattr(pc, "request", spy)
    subs = await pc.list_subscriptions(BAYVIEW)
    sub = next(s for s in subs if s.get("unitType") == "Licenses" and s["status"] == "active")
    await pc.set_auto_renew(BAYVIEW, sub, True)
    products = await pc.list_products()
    skus = await pc.list_skus(products[0]["id"])
    availability = (await pc.list_availabilities(products[0]["id"], skus[0]["id"]))[0]
    await pc.create_order(
        BAYVIEW,
        [
            {
                "offerId": availability["catalogItemId"],
                "quantity": 1,
                "termDuration": availability["terms"][0]["duration"],
            }
        ],
    )
    kinds = {path.rsplit("/", 1)[-1] if "subscriptions" not in path else "subscription": body for _, path, body in sent}
    assert unknown_fields(kinds["subscription"], "Subscription", SUBSCRIPTION_NESTED) == []
    assert unknown_fields(kinds["orders"], "Order", {"lineItems": "OrderLineItem"}) == []


# ------------------------------------------------------------------- Azure OpenAI
async def test_chat_request_and_stream_chunks_match_the_2024_02_01_spec(emulator_url, clients, monkeypatch, http):
    """The body SupportAIClient posts and every SSE chunk the emulator streams, against
    Azure/azure-rest-api-specs inference/stable/2024-02-01/inference.json (subset kept in
    tests/microsoft/contracts/azure_openai_2024-02-01.json)."""
    import json

    from opkalla_portal.microsoft.support_ai import Passage
    from tests.microsoft.contracts.azure_openai import chunk_problems, request_problems

    assert request_problems({"messages": [{"role": "robot", "content": "x"}], "temperature": 3}) == [
        "$.temperature: outside 0..2",
        "$.messages[0].role: 'robot' is not a role",
    ]
    ai = clients.support_ai
    sent = []
    original = ai._http.stream

    def spy(method, url, **kwargs):
        sent.append(kwargs.get("json"))
        return original(method, url, **kwargs)

    monkeypatch.setattr(ai._http, "stream", spy)
    passages = [Passage("Reset a password", "Open Manage Users and choose Reset password.", "https://x/kb/1")]
    text = "".join([d async for d in ai.answer("How do I reset a password?", passages)])
    assert text and sent and request_problems(sent[0]) == []
    url = f"{ai.base_url}/openai/deployments/{ai.deployment}/chat/completions"
    async with http.stream(
        "POST", url, params={"api-version": ai.api_version}, json=sent[0], headers={"api-key": ai._api_key}
    ) as response:
        chunks = [
            json.loads(line[5:])
            async for line in response.aiter_lines()
            if line.startswith("data:") and line[5:].strip() != "[DONE]"
        ]
    assert chunks
    for chunk in chunks:
        assert chunk_problems(chunk) == []
