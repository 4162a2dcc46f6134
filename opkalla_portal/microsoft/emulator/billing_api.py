"""Billing reconciliation v2 as Microsoft Graph serves it: asynchronous exports.

POST /reports/partners/billing/{reconciliation/billed | usage/billed | usage/unbilled}/export
answers 202 Accepted with a Location header (an operation); GET on the operation answers a
runningOperation (with Retry-After) until the export is ready, then an exportSuccessOperation
whose resourceLocation is the manifest; the manifest names blobs under a root directory,
read with its SAS token: gzip-compressed JSON lines, one line item per line
(microsoft-graph-docs-contrib api-reference/v1.0/api/partners-billing-*-export.md,
partners-billing-operation-get.md, resources/partners-billing-manifest.md).

Only the partner's own tenant with PartnerBilling.Read.All may export. Row fields are the v2
names Microsoft documents (microsoft/billing_reconciliation.py USAGE_FIELDS and
INVOICE_LINE_FIELDS: ``unit`` and ``resourceURI``, not v1's ``unitOfMeasure``/``resourceUri``).
ASSUMPTIONS (not verifiable offline): an export is ready on the second poll; one blob per
export; the blob's keys are camelCase (the client reads them case-insensitively, as Microsoft's
own sample does).
"""

from __future__ import annotations

import gzip
import hashlib
import hmac
import json
import uuid
from datetime import date, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from opkalla_portal import clock
from opkalla_portal.demo import demo_data

from .context import Emulator, graph_error_body, utc_now_iso
from .paths import ADMIN_PREFIX, PARTNER_TENANT_ID
from .seed import provider_invoice

BILLING_PREFIX = "reports/partners/billing"
PERMISSION = "PartnerBilling.Read.All"
EXPORTS = {
    "reconciliation/billed": "billedReconciliation",
    "usage/billed": "billedUsage",
    "usage/unbilled": "unbilledUsage",
}
ATTRIBUTE_SETS = {"full", "basic"}
BILLING_PERIODS = {"current", "last"}
POLLS_BEFORE_READY = 1
BLOB_NAME = "part-00000-emulator.c000.json.gz"


def _error(status: int, code: str, message: str, request: Request) -> tuple[int, Any, dict]:
    return status, graph_error_body(code, message, request), {}


def start_export(
    emulator: Emulator, kind_path: str, body: Any, claims: dict, request: Request
) -> tuple[int, Any, dict]:
    """The POST .../export: validate, record the operation, answer 202 + Location."""
    if (
        claims.get("tid") != PARTNER_TENANT_ID
        or PERMISSION not in (claims.get("roles") or []) + (claims.get("scp") or "").split()
    ):
        return _error(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.", request)
    kind = EXPORTS[kind_path]
    if not isinstance(body, dict):
        return _error(400, "BadRequest", "The request body is missing or is not valid JSON.", request)
    attribute_set = body.get("attributeSet", "full")
    if attribute_set not in ATTRIBUTE_SETS:
        return _error(400, "BadRequest", f"Invalid attributeSet '{attribute_set}'.", request)
    params: dict[str, Any] = {"attributeSet": attribute_set}
    if kind == "unbilledUsage":
        if body.get("billingPeriod") not in BILLING_PERIODS or not body.get("currencyCode"):
            return _error(400, "BadRequest", "billingPeriod (current or last) and currencyCode are required.", request)
        params.update(billingPeriod=body["billingPeriod"], currencyCode=str(body["currencyCode"]).upper())
    else:
        invoice_id = body.get("invoiceId")
        with emulator.store.read() as tx:
            invoice, _ = provider_invoice(tx, str(invoice_id or ""))
        if not invoice:
            return _error(400, "BadRequest", f"Invoice '{invoice_id}' was not found.", request)
        params["invoiceId"] = invoice["id"]
    operation_id = str(uuid.uuid4())
    now = utc_now_iso() + "Z"
    with emulator.store.transaction() as tx:
        tx.put(
            "billing_operation",
            operation_id,
            {"id": operation_id, "kind": kind, "params": params, "createdDateTime": now, "polls": 0},
        )
    location = f"{emulator.graph_base(request)}/{BILLING_PREFIX}/operations/{operation_id}"
    return 202, None, {"Location": location}


def get_operation(emulator: Emulator, operation_id: str, claims: dict, request: Request) -> tuple[int, Any, dict]:
    if claims.get("tid") != PARTNER_TENANT_ID:
        return _error(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.", request)
    with emulator.store.transaction() as tx:
        op = tx.get("billing_operation", operation_id)
        if op is None:
            return _error(404, "ResourceNotFound", f"Operation {operation_id} was not found.", request)
        op["polls"] += 1
        tx.put("billing_operation", operation_id, op)
    base = {"id": op["id"], "createdDateTime": op["createdDateTime"], "lastActionDateTime": utc_now_iso() + "Z"}
    if op["polls"] <= POLLS_BEFORE_READY:
        return (
            200,
            {"@odata.type": "#microsoft.graph.partners.billing.runningOperation", **base, "status": "running"},
            {"Retry-After": "1"},
        )
    return (
        200,
        {
            "@odata.type": "#microsoft.graph.partners.billing.exportSuccessOperation",
            **base,
            "status": "succeeded",
            "resourceLocation": manifest(emulator, op, request),
        },
        {},
    )


def _sas(operation_id: str, secret: str) -> str:
    sig = hmac.new(secret.encode(), operation_id.encode(), hashlib.sha256).hexdigest()
    return f"sv=2021-08-06&sr=d&sp=rl&sig={sig}"


def _secret(emulator: Emulator) -> str:
    return emulator.signer.kid  # stable per database, unknown to clients


def manifest(emulator: Emulator, op: dict, request: Request) -> dict:
    return {
        "@odata.type": "#microsoft.graph.partners.billing.manifest",
        "id": op["id"],
        "schemaVersion": "2",
        "dataFormat": "compressedJSON",
        "createdDateTime": op["createdDateTime"],
        "eTag": op["id"][:17],
        "partnerTenantId": PARTNER_TENANT_ID,
        "rootDirectory": f"{emulator.base_url(request)}{ADMIN_PREFIX}/blobs/{op['id']}",
        "sasToken": _sas(op["id"], _secret(emulator)),
        "partitionType": "default",
        "blobCount": 1,
        "blobs": [{"name": BLOB_NAME, "partitionValue": "default"}],
    }


# --------------------------------------------------------------------- rows
def billed_usage_rows(period_start: date, period_end: date, invoice_number: str, today: date) -> list[dict]:
    """The billed usage export of one of Microsoft's invoices (the days already rated)."""
    return _azure_plan_rows(period_start, min(period_end, today - timedelta(days=1)), invoice_number)


def _azure_plan_rows(period_start: date, period_end: date, invoice_number: str) -> list[dict]:
    """Daily rated Azure usage of every demo customer's Azure plan in the period."""
    rows = []
    for sub in demo_data.SUBSCRIPTIONS:
        if sub.unit_type != "Usage-based":
            continue
        customer = demo_data.CUSTOMERS[sub.customer_key]
        for rec in demo_data.azure_usage(sub.customer_key, period_start, period_end):
            r = rec.resource
            rows.append(
                {
                    "partnerId": PARTNER_TENANT_ID,
                    "customerId": customer.tenant_id,
                    "customerName": customer.name,
                    "customerDomainName": customer.domain,
                    "customerCountry": customer.country,
                    "invoiceNumber": invoice_number,
                    "productId": sub.product_id,
                    "skuId": sub.sku_id,
                    "availabilityId": sub.availability_id,
                    "skuName": sub.offer_name,
                    "productName": sub.offer_name,
                    "publisherName": "Microsoft",
                    "subscriptionId": sub.id,
                    "subscriptionDescription": sub.offer_name,
                    "chargeStartDate": period_start.isoformat() + "T00:00:00Z",
                    "chargeEndDate": period_end.isoformat() + "T00:00:00Z",
                    "usageDate": rec.usage_date.isoformat() + "T00:00:00Z",
                    "meterCategory": r.category,
                    "meterSubCategory": r.meter,
                    "meterName": r.meter,
                    "meterRegion": "US West 2",
                    "unit": r.unit,
                    "resourceLocation": "westus2",
                    "resourceGroup": r.resource_group,
                    "resourceURI": r.resource_id,
                    "chargeType": "new",
                    "unitPrice": float(r.unit_price),
                    "effectiveUnitPrice": float(r.unit_price),
                    "quantity": float(rec.quantity),
                    "unitType": "1 Hour" if r.unit == "Hours" else r.unit,
                    "billingPreTaxTotal": float(rec.cost),
                    "billingCurrency": "USD",
                    "pricingPreTaxTotal": float(rec.cost),
                    "pricingCurrency": "USD",
                    "pCToBCExchangeRate": 1,
                    "entitlementId": sub.id,
                    "entitlementDescription": sub.offer_name,
                }
            )
    return rows


def export_rows(emulator: Emulator, op: dict, today: date) -> list[dict]:
    params = op["params"]
    if op["kind"] == "unbilledUsage":
        first = today.replace(day=1)
        if params["billingPeriod"] == "current":
            return _azure_plan_rows(first, today - timedelta(days=1), "")
        last_start = (first - timedelta(days=1)).replace(day=1)
        return _azure_plan_rows(last_start, first - timedelta(days=1), "")
    with emulator.store.read() as tx:
        invoice, lines = provider_invoice(tx, params["invoiceId"])
    if op["kind"] == "billedReconciliation":
        return [{k: v for k, v in line.items() if k != "attributes"} for line in lines]
    start = date.fromisoformat(invoice["billingPeriodStartDate"][:10])
    end = date.fromisoformat(invoice["billingPeriodEndDate"][:10])
    return billed_usage_rows(start, end, invoice["id"], today)


def blob_routes(emulator: Emulator) -> list[Route]:
    """The storage account the manifests point at: a blob read with the manifest's SAS token."""

    async def blob(request: Request) -> Response:
        operation_id, name = request.path_params["op"], request.path_params["name"]
        expected = dict(p.split("=", 1) for p in _sas(operation_id, _secret(emulator)).split("&"))
        if not hmac.compare_digest(request.query_params.get("sig", ""), expected["sig"]) or name != BLOB_NAME:
            return Response(
                "<Error><Code>AuthenticationFailed</Code></Error>", status_code=403, media_type="application/xml"
            )
        with emulator.store.read() as tx:
            op = tx.get("billing_operation", operation_id)
        if op is None:
            return Response("<Error><Code>BlobNotFound</Code></Error>", status_code=404, media_type="application/xml")
        rows = export_rows(emulator, op, clock.today())
        data = "".join(json.dumps(_fields(row, op["params"]["attributeSet"])) + "\n" for row in rows)
        return Response(gzip.compress(data.encode()), media_type="application/octet-stream")

    return [Route("/blobs/{op}/{name}", blob, methods=["GET"])]


BASIC_FIELDS = {
    "customerId",
    "customerName",
    "invoiceNumber",
    "productId",
    "skuId",
    "subscriptionId",
    "usageDate",
    "meterCategory",
    "meterName",
    "quantity",
    "unit",
    "billingPreTaxTotal",
    "billingCurrency",
    "resourceURI",
    "resourceGroup",
    "chargeStartDate",
    "chargeEndDate",
    "totalForCustomer",
    "subtotal",
    "currency",
    "chargeType",
    "unitPrice",
}


def _fields(row: dict, attribute_set: str) -> dict:
    """``basic`` exports a subset of the attributes (which ones is an emulator assumption)."""
    return row if attribute_set == "full" else {k: v for k, v in row.items() if k in BASIC_FIELDS}


def route_billing(
    emulator: Emulator, method: str, path: str, body: Any, claims: dict, request: Request
) -> tuple[int, Any, dict] | None:
    """Handle a Graph path under reports/partners/billing, or None when it is not one."""
    path = path.strip("/")
    if not path.startswith(BILLING_PREFIX + "/"):
        return None
    rest = path[len(BILLING_PREFIX) + 1 :]
    if method == "POST" and rest.endswith("/export") and rest[: -len("/export")] in EXPORTS:
        return start_export(emulator, rest[: -len("/export")], body, claims, request)
    if method == "GET" and rest.startswith("operations/") and rest.count("/") == 1:
        return get_operation(emulator, rest.split("/")[1], claims, request)
    return _error(400, "BadRequest", f"Resource not found for the segment '{rest.split('/')[-1]}'.", request)


def json_or_empty(status: int, body: Any, headers: dict) -> Response:
    if body is None:
        return Response(status_code=status, headers=headers)
    return JSONResponse(body, status_code=status, headers=headers)


__all__ = ["route_billing", "blob_routes", "json_or_empty"]
