"""Emulator behaviour not covered by the client contract tests: mounting, reset, faults
over HTTP, concurrent writers on one database."""

from __future__ import annotations

import threading

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from opkalla_portal.demo import demo_data
from opkalla_portal.microsoft.emulator import EmulatorStore, build_emulator_app, generate_large_tenant
from opkalla_portal.microsoft.emulator.context import Emulator
from opkalla_portal.microsoft.emulator.graph_api import GraphTenant

LAKESIDE = demo_data.CUSTOMERS["lakeside"].tenant_id


async def test_routes_mount_into_another_app_and_urls_follow_the_request(store):
    emulator = build_emulator_app(store)
    portal = Starlette(routes=[Route("/", lambda r: PlainTextResponse("portal")), *emulator.routes])
    transport = httpx.ASGITransport(app=portal)
    async with httpx.AsyncClient(transport=transport, base_url="http://portal.example:3000") as http:
        assert (await http.get("/")).text == "portal"
        config = (await http.get("/login/organizations/v2.0/.well-known/openid-configuration")).json()
        assert config["issuer"] == "http://portal.example:3000/login/{tenantid}/v2.0"
        assert config["token_endpoint"] == "http://portal.example:3000/login/organizations/oauth2/v2.0/token"
        keys = (await http.get(f"/login/{LAKESIDE}/discovery/v2.0/keys")).json()["keys"]
        assert keys[0]["kty"] == "RSA" and keys[0]["kid"]
        assert (await http.get("/graph/v1.0/users")).status_code == 401


async def test_faults_switch_over_http_and_reset(emulator_url, http, store):
    r = await http.post(
        emulator_url + "/emulator/faults", json={"latency_ms": 5, "throttle_probability": 0.25, "seed": 3}
    )
    assert r.status_code == 200 and r.json()["throttle_probability"] == 0.25
    assert (await http.get(emulator_url + "/emulator/faults")).json()["latency_ms"] == 5
    assert (await http.post(emulator_url + "/emulator/faults", json={"bogus": 1})).status_code == 400
    await http.delete(emulator_url + "/emulator/faults")
    # Reset restores the demo seed, including Lakeside's missing admin consent.
    with store.transaction() as tx:
        tx.put("consent", LAKESIDE, {"tenant": LAKESIDE})
    assert (await http.post(emulator_url + "/emulator/reset")).json() == {"reset": True}
    with store.read() as tx:
        assert tx.get("consent", LAKESIDE) is None
        assert tx.count("user", LAKESIDE) == 150


def test_concurrent_writers_never_oversell_seats(tmp_path):
    """Two store objects (two connections, as two processes would have) race for 5 seats."""
    path = str(tmp_path / "race.db")
    first = EmulatorStore(path, seed=False)
    info = generate_large_tenant(first, users=40, seats=5)
    second = EmulatorStore(path, seed=False)
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/",
        "headers": [(b"host", b"test")],
        "query_string": b"",
        "scheme": "http",
        "server": ("test", 80),
    }
    outcomes: list[int] = []

    def worker(store: EmulatorStore, users: list[str]) -> None:
        ops = GraphTenant(Emulator(store), info["tenant_id"], Request(scope))
        for user in users:
            result = ops.assign_license(user, {"addLicenses": [{"skuId": info["sku_id"]}], "removeLicenses": []})
            outcomes.append(result.status)

    threads = [threading.Thread(target=worker, args=(s, info["user_ids"][i::2])) for i, s in enumerate((first, second))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count(200) == 5 and outcomes.count(400) == 35
    with first.read() as tx:
        assert tx.list("sku", info["tenant_id"])[0]["consumedUnits"] == 5


async def test_public_base_url_getter(store):
    for getter in (lambda: "https://demo.example/", lambda request: "https://demo.example"):
        app = build_emulator_app(store, getter)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://internal:9") as http:
            config = (await http.get("/login/organizations/v2.0/.well-known/openid-configuration")).json()
        assert config["issuer"] == "https://demo.example/login/{tenantid}/v2.0"
