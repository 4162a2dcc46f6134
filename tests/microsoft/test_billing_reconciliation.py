"""Billing reconciliation v2 (Graph /reports/partners/billing): asynchronous exports.

Pinned behaviour (microsoft-graph-docs-contrib, api-reference/v1.0/api/partners-billing-*):
POST .../export answers 202 with a Location header; the operation is polled (running, then
exportSuccessOperation with resourceLocation = manifest); blobs are gzip JSON lines read
with the manifest's SAS token; PartnerBilling.Read.All in the partner's own tenant.
"""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from opkalla_portal import clock
from opkalla_portal.demo import demo_data
from opkalla_portal.microsoft.errors import AuthError
from tests.microsoft.contracts import csdl
from tests.microsoft.contracts.partner_center import unknown_fields

LAKESIDE = demo_data.CUSTOMERS["lakeside"].tenant_id


async def test_unbilled_usage_export_is_asynchronous_and_streams_gzip_json_lines(fresh, clients, http):
    exports = clients.billing_reconciliation
    location = await exports.start("usage/unbilled", {"currencyCode": "USD", "billingPeriod": "current",
                                                      "attributeSet": "full"})
    assert "/reports/partners/billing/operations/" in location
    first = await exports.graph.request("GET", location)
    assert first.json()["status"] == "running" and first.headers["Retry-After"]
    assert csdl.validate(first.json(), "microsoft.graph.partners.billing.runningOperation") == []
    manifest = await exports.wait_for_manifest(location)
    assert manifest.data_format == "compressedJSON" and manifest.blobs
    done = (await exports.graph.request("GET", location)).json()
    assert csdl.validate(done, "microsoft.graph.partners.billing.exportSuccessOperation") == []
    rows = [row async for row in exports.rows(manifest)]
    today = clock.today()
    expected = demo_data.azure_usage("lakeside", today.replace(day=1), today - timedelta(days=1))
    mine = [r for r in rows if r["customerId"] == LAKESIDE]
    assert len(mine) == len(expected)
    assert sum(Decimal(str(r["billingPreTaxTotal"])) for r in mine) == sum(e.cost for e in expected)
    assert all(unknown_fields(r, "DailyRatedUsageLineItem") == [] for r in rows)
    # The blob needs its SAS token: without it storage refuses.
    assert (await http.get(manifest.blobs[0].url.split("?")[0])).status_code == 403


async def test_billed_exports_need_an_invoice_and_serve_its_lines(fresh, clients):
    exports = clients.billing_reconciliation
    invoice = (await clients.partner_center.list_invoices())[0]
    lines = [row async for row in exports.billed_reconciliation(invoice["id"])]
    assert lines and round(sum(r["totalForCustomer"] for r in lines), 2) == invoice["totalCharges"]
    usage = [row async for row in exports.billed_usage(invoice["id"], attribute_set="basic")]
    assert usage and all(r["invoiceNumber"] == invoice["id"] for r in usage)
    from opkalla_portal.microsoft.errors import ValidationError
    with pytest.raises(ValidationError):
        await exports.start("usage/billed", {"invoiceId": "G000000000"})


async def test_only_the_partner_tenant_with_partner_billing_may_export(fresh, clients):
    from opkalla_portal.microsoft.billing_reconciliation import BillingReconciliationClient

    customer = BillingReconciliationClient(clients.graph(LAKESIDE))
    with pytest.raises(AuthError):
        await customer.start("usage/unbilled", {"currencyCode": "USD", "billingPeriod": "current"})
