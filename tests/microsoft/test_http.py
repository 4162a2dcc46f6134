"""Shared HTTP behaviour with a scripted transport: retries, Retry-After, ids, error kinds."""

from __future__ import annotations

import httpx
import pytest

from opkalla_portal.microsoft import (
    AuthError,
    ConflictError,
    NotFoundError,
    ThrottledError,
    UnavailableError,
    ValidationError,
)
from opkalla_portal.microsoft.http import RetryPolicy, ServiceClient, parse_retry_after
from opkalla_portal.microsoft.partner_center import PartnerCenterClient


def scripted(responses: list):
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        item = responses.pop(0)
        if isinstance(item, Exception):
            raise item
        return item

    return httpx.MockTransport(handler), seen


async def run(client_cls, responses, method="GET", **kw):
    transport, seen = scripted(responses)
    sleeps: list[float] = []

    async def sleep(s):
        sleeps.append(s)

    async with httpx.AsyncClient(transport=transport) as http:
        client = client_cls(
            http, "https://svc.example/v1", token_provider=_token, retry=RetryPolicy(max_attempts=3, sleep=sleep)
        )
        try:
            result = await client.request(method, "/things", **kw)
        finally:
            pass
    return result, seen, sleeps


async def _token() -> str:
    return "tok"


async def test_retry_after_is_honoured_and_request_id_reused():
    responses = [
        httpx.Response(429, headers={"Retry-After": "7"}, json={"statusCode": 429, "message": "slow"}),
        httpx.Response(503, json={"code": 3000, "description": "busy"}),
        httpx.Response(201, json={"id": "o1"}),
    ]
    result, seen, sleeps = await run(PartnerCenterClient, responses, method="POST", json={})
    assert result.json() == {"id": "o1"}
    assert sleeps[0] == 7 and 0 < sleeps[1] <= 1.0  # Retry-After, then capped jittered back-off
    ids = {r.headers["MS-RequestId"] for r in seen}
    assert len(ids) == 1 and seen[0].headers["MS-CorrelationId"]
    assert seen[0].headers["Authorization"] == "Bearer tok"


async def test_graph_uses_client_request_id():
    _, seen, _ = await run(ServiceClient, [httpx.Response(200, json={})])
    assert seen[0].headers["client-request-id"]


@pytest.mark.parametrize(
    "status,body,kind",
    [
        (401, {"error": {"code": "InvalidAuthenticationToken", "message": "x"}}, AuthError),
        (403, {"error": {"code": "Authorization_RequestDenied", "message": "x"}}, AuthError),
        (404, {"error": {"code": "Request_ResourceNotFound", "message": "x"}}, NotFoundError),
        (412, {"code": 800061, "description": "etag"}, ConflictError),
        (409, {"code": 1, "description": "conflict"}, ConflictError),
        (400, {"error": {"code": "Request_BadRequest", "message": "Bad thing."}}, ValidationError),
        (500, {"error": {"code": "generalException", "message": "x"}}, UnavailableError),
    ],
)
async def test_error_kinds(status, body, kind):
    with pytest.raises(kind) as exc:
        await run(ServiceClient, [httpx.Response(status, json=body)] * 3)
    assert exc.value.status == status and exc.value.message
    if kind is ValidationError:
        assert exc.value.code == "Request_BadRequest" and exc.value.message == "Bad thing."


async def test_throttled_after_all_attempts():
    with pytest.raises(ThrottledError) as exc:
        await run(ServiceClient, [httpx.Response(429, headers={"Retry-After": "1"}, json={})] * 3)
    assert exc.value.retry_after == 1


async def test_timeouts_retry_reads_but_not_unsafe_writes():
    result, seen, _ = await run(ServiceClient, [httpx.ReadTimeout("slow"), httpx.Response(200, json={"ok": 1})])
    assert result.json() == {"ok": 1} and len(seen) == 2
    with pytest.raises(UnavailableError):
        await run(ServiceClient, [httpx.ReadTimeout("slow"), httpx.Response(200, json={})], method="POST")


def test_parse_retry_after():
    assert parse_retry_after("12") == 12
    assert parse_retry_after(None) is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0


async def test_partner_center_waits_while_data_is_not_ready():
    transport, seen = scripted(
        [
            httpx.Response(204, headers={"Retry-After": "5"}),
            httpx.Response(
                200,
                json={"totalCount": 1, "items": [{"a": 1}], "links": {"next": {"uri": "/v1/customers/c/next?page=2"}}},
            ),
            httpx.Response(200, json={"totalCount": 1, "items": [{"a": 2}], "links": {}}),
        ]
    )
    sleeps: list[float] = []

    async def sleep(s):
        sleeps.append(s)

    async with httpx.AsyncClient(transport=transport) as http:
        pc = PartnerCenterClient(
            http, "https://api.partnercenter.microsoft.com/v1", token_provider=_token, retry=RetryPolicy(sleep=sleep)
        )
        items = await pc._collect("/customers/c/subscriptions/s/utilizations/azure")
    assert items == [{"a": 1}, {"a": 2}] and sleeps == [5]
    assert str(seen[-1].url) == "https://api.partnercenter.microsoft.com/v1/customers/c/next?page=2"


def test_print_config_lists_urls_and_demo_credentials():
    import json
    import subprocess
    import sys

    from opkalla_portal.demo import demo_data

    out = subprocess.run(
        [sys.executable, "-m", "opkalla_portal.microsoft.emulator", "--port", "4321", "--print-config"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    config = json.loads(out)
    assert config["graph_url"] == "http://localhost:4321/graph/v1.0"
    assert config["client_id"] == demo_data.DEMO_APP_CLIENT_ID
    assert config["customers"]["lakeside"]["tenant_id"] == demo_data.CUSTOMERS["lakeside"].tenant_id
