"""Billing reconciliation v2 on Microsoft Graph: the partner's billed and unbilled line items.

Billing periods from February 2024 on are served only by these asynchronous exports
(Partner Center "Billed invoice reconciliation API v2 (GA)"; Graph
``/reports/partners/billing/...``, permission ``PartnerBilling.Read.All``, app-only token of
the partner's own tenant). One export is three steps:

1. ``POST .../export`` answers ``202 Accepted`` with a ``Location`` header: an operation;
2. ``GET`` the operation until it is no longer running (``runningOperation``, waiting the
   ``Retry-After``), then ``exportSuccessOperation.resourceLocation`` is the manifest (or
   ``failedOperation.error``);
3. each blob of the manifest is ``{rootDirectory}/{blob.name}?{sasToken}``: gzip-compressed
   JSON lines (``dataFormat`` "compressedJSON"), one line item per line.

Rows are streamed: a blob is decompressed and parsed line by line as it downloads, never
loaded whole. Usage::

    exports = BillingReconciliationClient(graph_client_for_partner_tenant)
    async for row in exports.unbilled_usage("current", currency="USD"):
        ...
"""

from __future__ import annotations

import json
import zlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx

from .errors import MicrosoftError, UnavailableError
from .graph import GraphClient
from .http import parse_retry_after

# The line item fields Microsoft documents for the v2 exports, PascalCase there (docs
# "Billed and unbilled daily rated usage reconciliation API v2" field table; Microsoft's sample
# microsoft/Partner-Center-Billing-Recon-Samples MSGraphSample/Models/BilledUsage.cs), read here
# camelCase. Rows are matched to these names case-insensitively, as the sample's Newtonsoft
# deserializer does: the blob's exact casing is not documented.
USAGE_FIELDS = (
    "partnerId",
    "partnerName",
    "customerId",
    "customerName",
    "customerDomainName",
    "customerCountry",
    "mpnId",
    "tier2MpnId",
    "invoiceNumber",
    "productId",
    "skuId",
    "availabilityId",
    "skuName",
    "productName",
    "publisherName",
    "publisherId",
    "subscriptionDescription",
    "subscriptionId",
    "chargeStartDate",
    "chargeEndDate",
    "usageDate",
    "meterType",
    "meterCategory",
    "meterId",
    "meterSubCategory",
    "meterName",
    "meterRegion",
    "unit",
    "resourceLocation",
    "consumedService",
    "resourceGroup",
    "resourceURI",
    "chargeType",
    "unitPrice",
    "quantity",
    "unitType",
    "billingPreTaxTotal",
    "billingCurrency",
    "pricingPreTaxTotal",
    "pricingCurrency",
    "serviceInfo1",
    "serviceInfo2",
    "tags",
    "additionalInfo",
    "effectiveUnitPrice",
    "pCToBCExchangeRate",
    "pCToBCExchangeRateDate",
    "entitlementId",
    "entitlementDescription",
    "partnerEarnedCreditPercentage",
    "creditPercentage",
    "creditType",
    "benefitOrderId",
    "benefitId",
    "benefitType",
)
# Billed invoice reconciliation (license-based and one-time) line items: the fields of
# Partner Center's OneTimeInvoiceLineItem (partner-center-sdk docs, invoice resources) and the
# new-commerce reconciliation file (partner-center docs, recon file fields).
INVOICE_LINE_FIELDS = (
    "partnerId",
    "customerId",
    "customerName",
    "customerDomainName",
    "customerCountry",
    "invoiceNumber",
    "mpnId",
    "resellerMpnId",
    "orderId",
    "orderDate",
    "productId",
    "skuId",
    "availabilityId",
    "productName",
    "skuName",
    "chargeType",
    "unitPrice",
    "effectiveUnitPrice",
    "unitType",
    "quantity",
    "subtotal",
    "taxTotal",
    "totalForCustomer",
    "currency",
    "publisherName",
    "publisherId",
    "subscriptionDescription",
    "subscriptionId",
    "chargeStartDate",
    "chargeEndDate",
    "termAndBillingCycle",
    "alternateId",
    "priceAdjustmentDescription",
    "creditReasonCode",
    "discountDetails",
    "pricingCurrency",
    "pCToBCExchangeRate",
    "pCToBCExchangeRateDate",
    "billableQuantity",
    "meterDescription",
    "reservationOrderId",
    "billingFrequency",
    "invoiceLineItemType",
    "billingProvider",
)
_CANONICAL = {name.lower(): name for name in USAGE_FIELDS + INVOICE_LINE_FIELDS}


def canonical_row(row: dict) -> dict:
    """A line item with its documented fields under the names the portal reads."""
    return {_CANONICAL.get(key.lower(), key): value for key, value in row.items()}


BILLING = "/reports/partners/billing"
PERMISSION = "PartnerBilling.Read.All"
MAX_POLLS = 120  # an export normally takes seconds to minutes; past this, report it


class ExportFailed(MicrosoftError):
    """Microsoft reported the export as failed (``failedOperation``)."""

    default_message = "Microsoft could not prepare the billing export. Please try again later."


@dataclass(frozen=True)
class Blob:
    name: str
    url: str  # with the SAS token


@dataclass(frozen=True)
class Manifest:
    id: str
    data_format: str
    schema_version: str
    blobs: tuple[Blob, ...]

    @classmethod
    def from_graph(cls, doc: dict) -> Manifest:
        root = str(doc["rootDirectory"]).rstrip("/")
        sas = str(doc.get("sasToken") or "").lstrip("?")
        blobs = tuple(Blob(b["name"], f"{root}/{b['name']}" + (f"?{sas}" if sas else "")) for b in doc.get("blobs", []))
        return cls(
            id=str(doc.get("id", "")),
            data_format=str(doc.get("dataFormat", "")),
            schema_version=str(doc.get("schemaVersion", "")),
            blobs=blobs,
        )


class BillingReconciliationClient:
    """The partner's reconciliation exports, through a Graph client of the partner's tenant."""

    def __init__(self, graph: GraphClient, *, blob_http: httpx.AsyncClient | None = None) -> None:
        self.graph = graph
        # Blobs are read with their SAS token alone (no bearer token goes to storage).
        self._blob_http = blob_http or graph._http

    # ------------------------------------------------------------- exports
    async def billed_reconciliation(self, invoice_id: str, attribute_set: str = "full") -> AsyncIterator[dict]:
        """Invoice line items (license-based and one-time) of a billed invoice."""
        async for row in self.export("reconciliation/billed", {"invoiceId": invoice_id, "attributeSet": attribute_set}):
            yield row

    async def billed_usage(self, invoice_id: str, attribute_set: str = "full") -> AsyncIterator[dict]:
        """Daily rated usage (Azure plan and other consumption) billed on an invoice."""
        async for row in self.export("usage/billed", {"invoiceId": invoice_id, "attributeSet": attribute_set}):
            yield row

    async def unbilled_usage(
        self, billing_period: str = "current", *, currency: str = "USD", attribute_set: str = "full"
    ) -> AsyncIterator[dict]:
        """Daily rated usage not yet invoiced: ``billing_period`` "current" or "last"."""
        body = {"currencyCode": currency, "billingPeriod": billing_period, "attributeSet": attribute_set}
        async for row in self.export("usage/unbilled", body):
            yield row

    async def export(self, kind: str, body: dict) -> AsyncIterator[dict]:
        """Start an export, wait for its manifest and stream every row of every blob."""
        manifest = await self.wait_for_manifest(await self.start(kind, body))
        async for row in self.rows(manifest):
            yield row

    # ---------------------------------------------------------------- steps
    async def start(self, kind: str, body: dict) -> str:
        """POST the export; the operation's URL from the 202's Location header."""
        response = await self.graph.request(
            "POST", f"{BILLING}/{kind}/export", json=body, headers={"Content-Type": "application/json"}
        )
        location = response.headers.get("Location")
        if response.status_code != 202 or not location:
            raise UnavailableError(detail=f"export answered {response.status_code} without an operation")
        return location

    async def wait_for_manifest(self, operation_url: str) -> Manifest:
        """Poll the operation, honouring Retry-After, until it succeeds or fails."""
        for attempt in range(1, MAX_POLLS + 1):
            response = await self.graph.request("GET", operation_url)
            op: dict[str, Any] = response.json()
            status = str(op.get("status", "")).lower()
            if status == "succeeded":
                location = op.get("resourceLocation")
                if not isinstance(location, dict):  # not expanded: read the manifest itself
                    location = await self.graph.get_json(f"{BILLING}/manifests/{op['id']}")
                return Manifest.from_graph(location)
            if status == "failed":
                error = op.get("error") or {}
                raise ExportFailed(code=error.get("code"), detail=error.get("message"))
            wait = parse_retry_after(response.headers.get("Retry-After")) or self.graph.retry.backoff(attempt)
            await self.graph.retry.sleep(min(wait, self.graph.retry.max_retry_after))
        raise UnavailableError("Microsoft is still preparing the billing export. Please try again later.")

    async def rows(self, manifest: Manifest) -> AsyncIterator[dict]:
        """Every line item of the manifest's blobs, in order, streamed."""
        for blob in manifest.blobs:
            async for row in self._blob_rows(blob, compressed=manifest.data_format.lower() == "compressedjson"):
                yield row

    async def _blob_rows(self, blob: Blob, *, compressed: bool) -> AsyncIterator[dict]:
        # 16 + MAX_WBITS: a gzip stream; decompressed chunk by chunk as it arrives.
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS) if compressed else None
        pending = b""
        async with self._blob_http.stream("GET", blob.url, timeout=self.graph.timeout) as response:
            if response.status_code >= 400:
                await response.aread()
                raise UnavailableError(
                    detail=f"blob {blob.name}: HTTP {response.status_code}", status=response.status_code
                )
            async for chunk in response.aiter_raw():
                pending += inflater.decompress(chunk) if inflater else chunk
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    if line.strip():
                        yield canonical_row(json.loads(line))
        if inflater:
            pending += inflater.flush()
        for line in pending.split(b"\n"):
            if line.strip():
                yield canonical_row(json.loads(line))
