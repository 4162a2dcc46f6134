"""Partner Center REST v1 client: subscriptions, catalog, orders, agreements, invoices, usage."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any

from opkalla_portal import clock

from .errors import UnavailableError
from .http import ServiceClient, parse_retry_after

PARTNER_CENTER_SCOPE = "https://api.partnercenter.microsoft.com/.default"


def _service_relative(uri: str | None) -> str | None:
    """Partner Center links may carry the API version ("/v1/customers/..."); the client's
    base URL already ends with it."""
    if uri and uri.startswith("/v1/"):
        return uri[3:]
    return uri


def _link_headers(link: Any) -> dict[str, str]:
    """Partner Center link headers: a list of ``{"key", "value"}`` pairs."""
    if not isinstance(link, dict):
        return {}
    return {
        str(h["key"]): str(h["value"])
        for h in link.get("headers") or []
        if isinstance(h, dict) and h.get("key") and h.get("value") is not None
    }


def _items(collection: Any) -> list[dict]:
    return collection.get("items", []) if isinstance(collection, dict) else []


class PartnerCenterClient(ServiceClient):
    """Calls made by the provider (partner) on behalf of its customers."""

    flavor = "partner_center"

    async def _collect(self, path: str, params: dict | None = None) -> list[dict]:
        """All items of a collection, following ``links.next`` when the service pages."""
        items: list[dict] = []
        url: str | None = path
        headers: dict[str, str] = {}
        while url:
            page = await self._get_when_ready(url, params, headers)
            items.extend(_items(page))
            nxt = (page.get("links") or {}).get("next") if isinstance(page, dict) else None
            url, params = (_service_relative(nxt.get("uri")), None) if nxt else (None, None)
            # A next link may carry headers the next request must send, such as the
            # MS-ContinuationToken of Azure utilization (the SDK's SeekAzureUtilizationRecords).
            headers = _link_headers(nxt)
        return items

    async def _get_when_ready(self, url: str, params: dict | None, headers: dict[str, str] | None = None) -> Any:
        """GET, waiting while the service answers 204 + Retry-After ("not ready yet", as
        Azure utilization does while it prepares the data)."""
        for attempt in range(1, self.retry.max_attempts + 1):
            response = await self.request("GET", url, params=params, headers=headers)
            if response.status_code != 204:
                return response.json() if response.content else None
            if attempt < self.retry.max_attempts:
                wait = parse_retry_after(response.headers.get("Retry-After")) or self.retry.backoff(attempt)
                await self.retry.sleep(min(wait, self.retry.max_retry_after))
        raise UnavailableError("Microsoft is still preparing this data. Please try again in a few minutes.", status=204)

    # ---------------------------------------------------------- subscriptions
    async def list_subscriptions(self, customer_id: str) -> list[dict]:
        """Every subscription of a customer; add-ons carry ``parentSubscriptionId``."""
        return await self._collect(f"/customers/{customer_id}/subscriptions")

    async def get_subscription(self, customer_id: str, subscription_id: str) -> dict:
        return await self.get_json(f"/customers/{customer_id}/subscriptions/{subscription_id}")

    async def list_addons(self, customer_id: str, subscription_id: str) -> list[dict]:
        return await self._collect(f"/customers/{customer_id}/subscriptions/{subscription_id}/addons")

    async def update_subscription(
        self, customer_id: str, subscription: dict, *, request_id: str | None = None, **changes: Any
    ) -> dict:
        """PATCH the subscription with ``changes`` (the whole resource, as the SDK sends it).

        ``request_id`` (MS-RequestId; a new one if None): a caller that may retry after a crash
        passes its own, so the repeat is recognisably the same request.
        No If-Match: Partner Center documents no optimistic concurrency on this call and the
        .NET SDK never sets one; the portal compares etags itself before it sends a change.
        """
        body = {**subscription, **changes}
        response = await self.request(
            "PATCH", f"/customers/{customer_id}/subscriptions/{subscription['id']}", json=body, request_id=request_id
        )
        return response.json()

    async def change_quantity(
        self, customer_id: str, subscription: dict, quantity: int, *, request_id: str | None = None
    ) -> dict:
        """Change seats now (increase any time; decrease only inside the 168-hour window)."""
        return await self.update_subscription(customer_id, subscription, request_id=request_id, quantity=quantity)

    async def cancel_subscription(self, customer_id: str, subscription: dict) -> dict:
        return await self.update_subscription(customer_id, subscription, status="deleted")

    async def set_auto_renew(self, customer_id: str, subscription: dict, enabled: bool) -> dict:
        return await self.update_subscription(customer_id, subscription, autoRenewEnabled=enabled)

    async def set_renewal_instructions(
        self, customer_id: str, subscription: dict, *, quantity: int, product: dict | None = None
    ) -> dict:
        """Schedule a change for the next term (``scheduledNextTermInstructions``).

        ``product`` defaults to the current offer (productId, skuId, availabilityId, billing
        cycle, term): use it to change term or SKU at renewal.
        """
        if product is None:
            product_id, sku_id, availability_id = subscription["offerId"].split(":")[:3]
            product = {
                "productId": product_id,
                "skuId": sku_id,
                "availabilityId": availability_id,
                "billingCycle": subscription.get("billingCycle"),
                "termDuration": subscription.get("termDuration"),
            }
        return await self.update_subscription(
            customer_id, subscription, scheduledNextTermInstructions={"product": product, "quantity": quantity}
        )

    async def clear_renewal_instructions(self, customer_id: str, subscription: dict) -> dict:
        return await self.update_subscription(customer_id, subscription, scheduledNextTermInstructions=None)

    # ---------------------------------------------------------------- catalog
    async def list_products(self, country: str = "US", target_view: str = "OnlineServices") -> list[dict]:
        return await self._collect("/products", {"country": country, "targetView": target_view})

    async def list_skus(self, product_id: str, country: str = "US") -> list[dict]:
        return await self._collect(f"/products/{product_id}/skus", {"country": country})

    async def list_availabilities(self, product_id: str, sku_id: str, country: str = "US") -> list[dict]:
        return await self._collect(f"/products/{product_id}/skus/{sku_id}/availabilities", {"country": country})

    async def catalog(self, country: str = "US", target_view: str = "OnlineServices") -> list[dict]:
        """Products with their ``skus`` and each SKU's ``availabilities`` (terms, cycles, prices)."""
        products = await self.list_products(country, target_view)
        for product in products:
            product["skus"] = await self.list_skus(product["id"], country)
            for sku in product["skus"]:
                sku["availabilities"] = await self.list_availabilities(product["id"], sku["id"], country)
        return products

    # ----------------------------------------------------------------- orders
    async def create_order(
        self,
        customer_id: str,
        line_items: Sequence[dict],
        *,
        billing_cycle: str = "monthly",
        request_id: str | None = None,
    ) -> dict:
        """Place an order. ``request_id`` (MS-RequestId) is the idempotency key: replaying the
        same id returns the same order instead of buying twice. Keep it with the pending order.
        """
        body = {
            "referenceCustomerId": customer_id,
            "billingCycle": billing_cycle,
            "lineItems": [{"lineItemNumber": n, **item} for n, item in enumerate(line_items)],
        }
        response = await self.request(
            "POST", f"/customers/{customer_id}/orders", json=body, request_id=request_id or str(uuid.uuid4())
        )
        return response.json()

    async def get_order(self, customer_id: str, order_id: str) -> dict:
        return await self.get_json(f"/customers/{customer_id}/orders/{order_id}")

    async def list_orders(self, customer_id: str) -> list[dict]:
        return await self._collect(f"/customers/{customer_id}/orders")

    # ------------------------------------------------------------- agreements
    # App+User only (REST reference): call these on ``clients.partner_center_as_user(...)``.
    async def list_agreements(self, customer_id: str, agreement_type: str = "MicrosoftCustomerAgreement") -> list[dict]:
        return await self._collect(f"/customers/{customer_id}/agreements", {"agreementType": agreement_type})

    async def confirm_agreement(
        self,
        customer_id: str,
        *,
        first_name: str,
        last_name: str,
        email: str,
        phone_number: str = "",
        template_id: str | None = None,
        date_agreed: str | None = None,
    ) -> dict:
        """Record that the customer accepted the Microsoft Customer Agreement."""
        body = {
            "primaryContact": {
                "firstName": first_name,
                "lastName": last_name,
                "email": email,
                "phoneNumber": phone_number,
            },
            "templateId": template_id or MCA_TEMPLATE_ID,
            "dateAgreed": date_agreed or clock.today().isoformat() + "T00:00:00Z",
            "type": "MicrosoftCustomerAgreement",
        }
        response = await self.request("POST", f"/customers/{customer_id}/agreements", json=body)
        return response.json()

    # --------------------------------------------------------------- invoices
    async def list_invoices(self) -> list[dict]:
        return await self._collect("/invoices")

    async def get_invoice(self, invoice_id: str) -> dict:
        return await self.get_json(f"/invoices/{invoice_id}")

    async def invoice_line_items(self, invoice_id: str, customer_id: str | None = None) -> list[dict]:
        params = {"provider": "OneTime", "invoiceLineItemType": "BillingLineItems"}
        items = await self._collect(f"/invoices/{invoice_id}/lineitems", params)
        return [i for i in items if customer_id is None or i.get("customerId") == customer_id]

    # ------------------------------------------------------------ Azure usage
    async def azure_utilization(
        self, customer_id: str, subscription_id: str, start: date, end: date, granularity: str = "daily"
    ) -> list[dict]:
        """Daily rated usage records of an Azure subscription between ``start`` and ``end``."""
        params = {
            "start_time": start.isoformat() + "T00:00:00Z",
            "end_time": end.isoformat() + "T00:00:00Z",
            "granularity": granularity,
            "show_details": "true",
            "size": 1000,
        }
        return await self._collect(
            f"/customers/{customer_id}/subscriptions/{subscription_id}/utilizations/azure", params
        )


# The Microsoft Customer Agreement template id Microsoft publishes for MCA acceptance.
MCA_TEMPLATE_ID = "117a77b0-9360-443b-8795-c6dedc750cf9"
