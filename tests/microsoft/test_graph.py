"""Contract tests of the Graph client against the emulator, and Graph's rules."""

from __future__ import annotations

import pytest

from opkalla_portal.demo import demo_data
from opkalla_portal.microsoft import AuthError, NotFoundError, UnavailableError, ValidationError
from opkalla_portal.microsoft.graph import LicenseChange

LAKESIDE = demo_data.CUSTOMERS["lakeside"].tenant_id
BAYVIEW = demo_data.CUSTOMERS["bayview"].tenant_id
EXO2 = "19ec0d23-8335-4cbd-94ac-6050e30712fa"  # Bayview: 5 seats, 4 assigned
BSTD = "f245ecc8-75af-4f8e-b61f-27d8114de5f3"  # Bayview: 35 seats, 30 assigned


def sku(skus, sku_id):
    return next(s for s in skus if s["skuId"] == sku_id)


async def test_list_users_follows_next_links_across_pages(fresh, clients):
    graph = clients.graph(BAYVIEW)
    pages = [page async for page in graph.iter_user_pages(top=7)]
    assert len(pages) == 6 and [len(p) for p in pages] == [7, 7, 7, 7, 7, 5]
    users = [u for p in pages for u in p]
    assert len({u["id"] for u in users}) == 40
    assert set(users[0]) == {
        "id",
        "displayName",
        "givenName",
        "surname",
        "userPrincipalName",
        "mail",
        "jobTitle",
        "department",
        "usageLocation",
        "accountEnabled",
        "assignedLicenses",
    }
    assert any(u["usageLocation"] is None for u in users)
    assert "Tom Becker" in {u["displayName"] for u in users}


async def test_next_link_is_full_url_with_skiptoken(fresh, clients, http):
    token = await clients.identity.app_token(BAYVIEW)
    r = await http.get(
        f"{clients.settings.graph_url}/users",
        params={"$top": "10", "$select": "id"},
        headers={"Authorization": f"Bearer {token}"},
    )
    link = r.json()["@odata.nextLink"]
    assert link.startswith(clients.settings.graph_url + "/users?") and "$skiptoken=" in link
    assert len(r.json()["value"]) == 10


async def test_page_size_limits(emulator_url, clients):
    graph = clients.graph(BAYVIEW)
    with pytest.raises(ValidationError) as exc:
        await graph.list_users(top=1000)
    assert exc.value.code == "Request_UnsupportedQuery" and "between 1 and 999" in exc.value.message
    assert len(await graph.list_users(top=999)) == 40


async def test_filter_and_get_user(emulator_url, clients):
    graph = clients.graph(BAYVIEW)
    tom = await graph.list_users(filter="displayName eq 'Tom Becker'")
    assert len(tom) == 1
    same = await graph.get_user(tom[0]["userPrincipalName"])
    assert same["id"] == tom[0]["id"]
    with pytest.raises(NotFoundError):
        await graph.get_user("nobody@bayviewlogistics.onmicrosoft.com")


async def test_tenant_without_admin_consent_is_refused(fresh, clients):
    with pytest.raises(AuthError) as exc:
        await clients.graph(LAKESIDE).subscribed_skus()
    assert exc.value.status == 403 and exc.value.code == "Authorization_RequestDenied"


async def test_requests_without_valid_token_get_401(emulator_url, clients, http):
    url = f"{clients.settings.graph_url}/users"
    r = await http.get(url)
    assert r.status_code == 401 and r.json()["error"]["code"] == "InvalidAuthenticationToken"
    token = await clients.identity.app_token(BAYVIEW)
    head, payload, sig = token.split(".")
    forged = f"{head}.{payload}.{sig[:-4]}AAAA"
    r = await http.get(url, headers={"Authorization": f"Bearer {forged}"})
    assert r.status_code == 401


async def test_subscribed_skus_and_assign_remove(fresh, clients):
    graph = clients.graph(BAYVIEW)
    before = sku(await graph.subscribed_skus(), EXO2)
    assert before["skuPartNumber"] == "EXCHANGEENTERPRISE"
    assert (before["prepaidUnits"]["enabled"], before["consumedUnits"]) == (5, 4)
    users = await graph.list_users()
    free = [u for u in users if u["usageLocation"] and all(lic["skuId"] != EXO2 for lic in u["assignedLicenses"])]
    updated = await graph.assign_license(free[0]["id"], add_sku_ids=[EXO2])
    assert EXO2 in {lic["skuId"] for lic in updated["assignedLicenses"]}
    assert sku(await graph.subscribed_skus(), EXO2)["consumedUnits"] == 5
    details = await graph.license_details(free[0]["id"])
    assert "EXCHANGEENTERPRISE" in {d["skuPartNumber"] for d in details}
    # No seats left: Graph refuses.
    with pytest.raises(ValidationError) as exc:
        await graph.assign_license(free[1]["id"], add_sku_ids=[EXO2])
    assert exc.value.code == "Request_BadRequest" and "available licenses" in exc.value.message
    await graph.remove_license(free[0]["id"], EXO2)
    assert sku(await graph.subscribed_skus(), EXO2)["consumedUnits"] == 4
    await graph.assign_license(free[1]["id"], add_sku_ids=[EXO2])


async def test_usage_location_required(fresh, clients):
    graph = clients.graph(BAYVIEW)
    nowhere = [u for u in await graph.list_users() if not u["usageLocation"]]
    with pytest.raises(ValidationError) as exc:
        await graph.assign_license(nowhere[0]["id"], add_sku_ids=[BSTD])
    assert "invalid usage location" in exc.value.message


async def test_unknown_user_is_not_found(emulator_url, clients):
    with pytest.raises(NotFoundError) as exc:
        await clients.graph(BAYVIEW).assign_license("00000000-0000-0000-0000-000000000000", add_sku_ids=[BSTD])
    assert exc.value.code == "Request_ResourceNotFound"


async def test_bulk_assign_maps_mixed_results_to_users(fresh, clients):
    graph = clients.graph(BAYVIEW)
    users = await graph.list_users()
    located = [u for u in users if u["usageLocation"] and all(lic["skuId"] != BSTD for lic in u["assignedLicenses"])]
    nowhere = next(u for u in users if not u["usageLocation"])
    changes = [LicenseChange(u["id"], [BSTD]) for u in located[:5]]  # 35 seats, 30 used: 5 free
    changes.insert(2, LicenseChange(nowhere["id"], [BSTD]))
    changes.append(LicenseChange("11111111-1111-1111-1111-111111111111", [BSTD]))
    results = await graph.bulk_assign(changes)
    assert [r.user_id for r in results] == [c.user_id for c in changes]
    by_user = {r.user_id: r for r in results}
    assert all(by_user[u["id"]].ok for u in located[:5])
    assert isinstance(by_user[nowhere["id"]].error, ValidationError)
    assert isinstance(by_user["11111111-1111-1111-1111-111111111111"].error, NotFoundError)
    assert sku(await graph.subscribed_skus(), BSTD)["consumedUnits"] == 35


async def test_bulk_assign_retries_inner_429_exactly_once_each(fresh, clients, store):
    info = __import__("opkalla_portal.microsoft.emulator", fromlist=["generate_large_tenant"]).generate_large_tenant(
        store, users=120
    )
    graph = clients.graph(info["tenant_id"])
    store.set_faults(throttle_probability=0.4, retry_after_seconds=2, seed=11)
    results = await graph.bulk_assign([LicenseChange(u, [info["sku_id"]]) for u in info["user_ids"]])
    store.clear_faults()
    assert all(r.ok for r in results) and len(results) == 120
    assert 2 in clients.sleeps  # waited the Retry-After of the throttled inner requests
    skus = await graph.subscribed_skus()
    assert skus[0]["consumedUnits"] == 120  # each change applied exactly once
    users = await graph.list_users(top=999)
    assert all(len(u["assignedLicenses"]) == 1 for u in users)


async def test_batch_rules(emulator_url, clients, http):
    token = await clients.identity.app_token(BAYVIEW)
    url = f"{clients.settings.graph_url}/$batch"
    auth = {"Authorization": f"Bearer {token}"}
    get = {"method": "GET", "url": "/users?$top=1&$select=id"}
    r = await http.post(url, json={"requests": [{"id": str(i), **get} for i in range(21)]}, headers=auth)
    assert r.status_code == 400
    r = await http.post(url, json={"requests": [{"id": "1", **get}, {"id": "1", **get}]}, headers=auth)
    assert r.status_code == 400
    r = await http.post(
        url,
        json={
            "requests": [
                {"id": "1", "method": "GET", "url": "/users/does-not-exist"},
                {"id": "2", "dependsOn": ["1"], **get},
                {"id": "3", **get},
            ]
        },
        headers=auth,
    )
    assert r.status_code == 200
    statuses = {x["id"]: x["status"] for x in r.json()["responses"]}
    assert statuses == {"1": 404, "2": 424, "3": 200}
    body = {"addLicenses": [], "removeLicenses": []}
    r = await http.post(
        url,
        json={"requests": [{"id": "1", "method": "POST", "url": "/users/x/assignLicense", "body": body}]},
        headers=auth,
    )
    assert r.status_code == 400  # a body needs a Content-Type header


async def test_throttled_then_success(emulator_url, clients, store):
    store.set_faults(throttle_probability=0.5, retry_after_seconds=3, seed=1)
    graph = clients.graph(BAYVIEW)
    for _ in range(6):
        assert await graph.subscribed_skus()
    assert 3 in clients.sleeps


async def test_server_errors_and_timeouts_become_unavailable(emulator_url, clients, store):
    graph = clients.graph(BAYVIEW)
    await graph.subscribed_skus()  # token cached before faults
    store.set_faults(error_probability=1.0, error_status=503)
    with pytest.raises(UnavailableError) as exc:
        await graph.subscribed_skus()
    assert exc.value.status == 503 and len(clients.sleeps) == 3
    store.set_faults(timeout_probability=1.0, hang_seconds=3)
    graph.timeout = 0.3
    graph.retry.max_attempts = 2
    with pytest.raises(UnavailableError) as exc:
        await graph.subscribed_skus()
    assert "time" in exc.value.message


async def test_batch_runs_in_random_order_unless_depends_on_says_so(emulator_url, clients, http):
    """concepts/json-batching.md: requests run in the order the server chooses unless
    sequenced with dependsOn. The emulator's seeded order differs from the request order
    for some batch; a dependsOn chain always runs in its order."""
    import random

    from opkalla_portal.microsoft.emulator.graph_api import batch_execution_order

    rng = random.Random(1)
    plain = [{"id": str(i)} for i in range(6)]
    orders = {tuple(batch_execution_order(plain, rng)) for _ in range(10)}
    assert len(orders) > 1  # not one fixed order
    chain = [{"id": "a"}, {"id": "b", "dependsOn": ["a"]}, {"id": "c", "dependsOn": ["b"]}, {"id": "x"}]
    for _ in range(10):
        order = batch_execution_order(chain, rng)
        assert order.index("a") < order.index("b") < order.index("c")
    assert batch_execution_order([{"id": "1", "dependsOn": ["2"]}, {"id": "2", "dependsOn": ["1"]}], rng) is None
    token = await clients.identity.app_token(BAYVIEW)
    r = await http.post(
        f"{clients.settings.graph_url}/$batch",
        headers={"Authorization": f"Bearer {token}"},
        json={"requests": [{"id": "1", "method": "GET", "url": "/users?$top=1", "dependsOn": ["9"]}]},
    )
    assert r.status_code == 400  # a dependency that is not in the batch


async def test_sign_in_activity_needs_premium_and_caps_the_page_at_120(fresh, clients, store):
    """User resource docs: signInActivity needs Entra ID P1/P2 (403 otherwise) and
    AuditLog.Read.All; with it selected the page size is at most 120."""
    from opkalla_portal.microsoft.errors import AuthError

    with pytest.raises(AuthError) as exc:
        await clients.graph(BAYVIEW).list_users(select=("id", "signInActivity"))
    assert exc.value.code == "Authentication_RequestFromNonPremiumTenantOrB2CTenant"
    from opkalla_portal.microsoft.emulator.large_tenant import generate_large_tenant
    from opkalla_portal.microsoft.emulator.seed import sku_document

    info = generate_large_tenant(store, users=130)
    with store.transaction() as tx:  # give it Entra ID P1
        sku = sku_document(info["tenant_id"], "AAD_PREMIUM", "078d2b04-f1bd-4111-bbd4-b4b1b354cef4", 5, [])
        tx.put("sku", sku["id"], sku, tenant=info["tenant_id"])
    graph = clients.graph(info["tenant_id"])
    pages = [len(p) async for p in graph.iter_user_pages(select=("id", "signInActivity"), top=999)]
    assert pages == [120, 10]
