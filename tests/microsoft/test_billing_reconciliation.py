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
from tests.microsoft.contracts import billing_reconciliation_v2 as v2
from tests.microsoft.contracts import csdl

LAKESIDE = demo_data.CUSTOMERS["lakeside"].tenant_id


@pytest.fixture
def mid_month():
    """The 15th of this month: the unbilled ("current") period then has days of usage (on the
    1st it has none yet, as at Microsoft)."""
    clock.shift_to(clock.today().replace(day=15))
    yield
    clock.reset()


async def test_unbilled_usage_export_is_asynchronous_and_streams_gzip_json_lines(mid_month, fresh, clients, http):
    exports = clients.billing_reconciliation
    location = await exports.start(
        "usage/unbilled", {"currencyCode": "USD", "billingPeriod": "current", "attributeSet": "full"}
    )
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
    assert all(v2.undocumented(r, v2.BILLED_USAGE) == [] for r in rows)
    assert {"unit", "resourceURI"} <= set(rows[0])  # v2's names, not v1's unitOfMeasure / resourceUri
    # The blob needs its SAS token: without it storage refuses.
    assert (await http.get(manifest.blobs[0].url.split("?")[0])).status_code == 403


async def test_billed_exports_need_an_invoice_and_serve_its_lines(fresh, clients):
    exports = clients.billing_reconciliation
    invoice = (await clients.partner_center.list_invoices())[0]
    lines = [row async for row in exports.billed_reconciliation(invoice["id"])]
    assert lines and round(sum(r["totalForCustomer"] for r in lines), 2) == invoice["totalCharges"]
    assert all(v2.undocumented(r, v2.BILLED_INVOICE_LINE) == [] for r in lines)
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


def test_the_clients_field_names_are_microsofts_documented_v2_fields():
    from opkalla_portal.microsoft.billing_reconciliation import INVOICE_LINE_FIELDS, USAGE_FIELDS

    assert {f.lower() for f in USAGE_FIELDS} == {f.lower() for f in v2.BILLED_USAGE}
    assert {f.lower() for f in INVOICE_LINE_FIELDS} == {f.lower() for f in v2.BILLED_INVOICE_LINE}


def test_a_pascal_case_row_reads_as_the_documented_fields():
    """The blob's key casing is not documented: rows are read case-insensitively, so a row
    keyed as Microsoft's field tables spell them is the same usage row to the portal."""
    from opkalla_portal.microsoft.billing_reconciliation import canonical_row
    from opkalla_portal.services.azure_usage import export_usage_row

    camel = {
        "customerId": LAKESIDE,
        "subscriptionId": "s-1",
        "usageDate": "2026-03-02T00:00:00Z",
        "meterCategory": "Storage",
        "meterName": "LRS Data Stored",
        "unit": "1 GB/Month",
        "resourceURI": "/subscriptions/x/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/st1",
        "resourceGroup": "rg",
        "quantity": 1.5,
        "unitPrice": 0.02,
        "billingPreTaxTotal": 0.03,
        "billingCurrency": "USD",
        "vendorExtra": "kept",
    }
    pascal = {key[0].upper() + key[1:]: value for key, value in camel.items() if key != "vendorExtra"}
    pascal["vendorExtra"] = "kept"
    assert canonical_row(pascal) == camel
    row = export_usage_row(canonical_row(pascal))
    assert (row.resource, row.unit, row.cost, row.day) == ("st1", "1 GB/Month", Decimal("0.03"), "2026-03-02")
