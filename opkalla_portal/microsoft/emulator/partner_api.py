"""Partner Center REST v1 as served by the emulator: subscriptions (New Commerce rules),
catalog, orders (MS-RequestId idempotency), agreements, invoices, Azure utilization."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .context import Emulator, json_body, pc_error, service_endpoint
from .seed import build_subscription, current_term, iso, new_etag, now_utc, provider_invoice, provider_invoices

# Partner Center error codes, in one place. 800004/800005/2091 are documented for orders.
# ASSUMPTION: 800002 for every other invalid input is the emulator's choice: Partner Center
# documents no one code for it (docs/microsoft.md), so the portal only ever keys on the
# HTTP status and shows Microsoft's description.
INVALID_INPUT = 800002
INVALID_OFFER = 800004
CREATE_ORDER_ERROR = 800005
OFFER_UNAVAILABLE = 2091
NOT_FOUND = 600026  # unverified: "resource not found" for customers/subscriptions/orders
NEW_COMMERCE_WINDOW = timedelta(hours=168)
AZURE_PLAN_PRODUCT = "DZH318Z0BCZC"  # the Azure plan's product id in the catalog
UTILIZATION_PAGE_MAX = 1000


# App+User with MFA: from 1 April 2026 Partner Center refuses an App+User call whose token
# lacks the MFA claim with HTTP 401 and error code 900421 (Microsoft's announcement, as quoted
# by partners; the REST error-code reference does not list it yet: docs/microsoft.md). It looks
# for "mfa" in the token's amr claim (Microsoft identity platform access token claims).
MFA_REQUIRED = 900421
# ASSUMPTION: the status and code of an app-only token on an App+User-only call are not
# documented; 403 with 900 (the emulator's authorization code) is the emulator's choice.
APP_USER_REQUIRED = 900


def app_user_only(request: Request) -> Response | None:
    """None when the caller's token is App+User and MFA-backed, else Partner Center's refusal."""
    claims = getattr(request.state, "claims", {}) or {}
    if claims.get("idtyp") != "user" or not claims.get("scp"):
        return pc_error(
            403,
            APP_USER_REQUIRED,
            "This operation only supports App+User authentication; app-only tokens are not accepted.",
        )
    if "mfa" not in (claims.get("amr") or []):
        return pc_error(
            401,
            MFA_REQUIRED,
            "Multifactor authentication is required: the access token has no MFA claim. Sign in again with MFA.",
        )
    return None


def collection(items: list[dict], links: dict | None = None, object_type: str = "Collection") -> dict:
    return {"totalCount": len(items), "items": items, "links": links or {}, "attributes": {"objectType": object_type}}


def public(doc: dict) -> dict:
    """Strip emulator-internal fields (prefixed ``_``)."""
    return {k: v for k, v in doc.items() if not k.startswith("_")}


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def in_window(sub: dict, at: datetime) -> bool:
    return at <= parse_time(sub["effectiveStartDate"]) + NEW_COMMERCE_WINDOW


def partner_center_routes(emulator: Emulator) -> list[Route]:
    store = emulator.store

    def customer_or_404(tx, cid: str) -> dict | Response:
        tenant = tx.get("tenant", cid.lower())
        if tenant is None:
            return pc_error(404, NOT_FOUND, f"Customer {cid} was not found.")
        return tenant

    def endpoint(fn):
        return service_endpoint(emulator, "partner_center")(fn)

    # -------------------------------------------------------- subscriptions
    @endpoint
    async def list_subscriptions(request: Request) -> Response:
        cid = request.path_params["cid"]
        with store.read() as tx:
            found = customer_or_404(tx, cid)
            if isinstance(found, Response):
                return found
            subs = sorted(tx.list("subscription", cid), key=lambda s: (s["creationDate"], s["id"]))
        return JSONResponse(collection([public(s) for s in subs]))

    @endpoint
    async def list_addons(request: Request) -> Response:
        cid, sid = request.path_params["cid"], request.path_params["sid"]
        with store.read() as tx:
            if tx.get("subscription", sid, cid) is None:
                return pc_error(404, NOT_FOUND, f"Subscription {sid} was not found.")
            subs = [s for s in tx.list("subscription", cid) if s.get("parentSubscriptionId") == sid]
        return JSONResponse(collection([public(s) for s in subs]))

    @endpoint
    async def get_subscription(request: Request) -> Response:
        cid, sid = request.path_params["cid"], request.path_params["sid"]
        with store.read() as tx:
            sub = tx.get("subscription", sid, cid)
        if sub is None:
            return pc_error(404, NOT_FOUND, f"Subscription {sid} was not found.")
        return JSONResponse(public(sub))

    @endpoint
    async def patch_subscription(request: Request) -> Response:
        cid, sid = request.path_params["cid"], request.path_params["sid"]
        body = await json_body(request)
        if not isinstance(body, dict):
            return pc_error(400, INVALID_INPUT, "The request body must be a subscription object.")
        with store.transaction() as tx:
            sub = tx.get("subscription", sid, cid)
            if sub is None:
                return pc_error(404, NOT_FOUND, f"Subscription {sid} was not found.")
            result = apply_subscription_patch(tx, cid, sub, body)
            if isinstance(result, Response):
                return result
        return JSONResponse(public(result))

    # ----------------------------------------------------------------- usage
    @endpoint
    async def utilization(request: Request) -> Response:
        cid, sid = request.path_params["cid"], request.path_params["sid"]
        q = request.query_params
        seeking = q.get("seek_operation", "").lower() == "next"
        if not seeking:
            try:
                start = parse_time(q["start_time"])
                end = parse_time(q["end_time"])
            except (KeyError, ValueError):
                return pc_error(400, INVALID_INPUT, "start_time and end_time are required ISO 8601 date-times.")
            granularity = q.get("granularity", "daily").lower()
            if granularity != "daily":
                return pc_error(400, INVALID_INPUT, "Only daily granularity is available from the emulator.")
            if end <= start:
                return pc_error(400, INVALID_INPUT, "end_time must be after start_time.")
        size = min(int(q.get("size", UTILIZATION_PAGE_MAX) or UTILIZATION_PAGE_MAX), UTILIZATION_PAGE_MAX)
        # The next page is asked for with seek_operation=Next and the MS-ContinuationToken
        # header (partner-center-sdk-for-dotNET PartnerSdkConfiguration.json,
        # SeekAzureUtilizationRecords); a query parameter does not continue.
        offset = 0
        if seeking:
            token = request.headers.get("ms-continuationtoken", "")
            try:
                state = json.loads(base64.urlsafe_b64decode(token.encode()).decode())
                offset = int(state["offset"])
                start, end, size = parse_time(state["start"]), parse_time(state["end"]), int(state["size"])
            except (ValueError, KeyError, TypeError):
                return pc_error(400, INVALID_INPUT, "A valid MS-ContinuationToken header is required to seek.")
        with store.read() as tx:
            sub = tx.get("subscription", sid, cid)
            if sub is None:
                return pc_error(404, NOT_FOUND, f"Subscription {sid} was not found.")
            if sub.get("unitType") != "Usage-based":
                return pc_error(400, INVALID_INPUT, "Utilization is only available for Azure subscriptions.")
            if str(sub.get("offerId", "")).upper().startswith(AZURE_PLAN_PRODUCT):
                # "this API isn't supported for Azure plans" (Partner Center REST reference, Get a
                # customer's utilization records for Azure); the status and code are assumptions.
                return pc_error(
                    400,
                    INVALID_INPUT,
                    "The Azure utilization API isn't supported for Azure plans. "
                    "Use the billed and unbilled usage reconciliation exports.",
                )
            months = set()
            d = start.date().replace(day=1)
            while d <= end.date():
                months.add(d.strftime("%Y-%m"))
                d = (d + timedelta(days=32)).replace(day=1)
            records = []
            for m in sorted(months):
                doc = tx.get("usage", f"{sid}/{m}", sid)
                if doc:
                    records.extend(
                        r
                        for r in doc["items"]
                        if start.date().isoformat() <= r["usageStartTime"][:10] < end.date().isoformat()
                    )
        page = records[offset : offset + size]
        links = {}
        if offset + size < len(records):
            token = base64.urlsafe_b64encode(
                json.dumps(
                    {"offset": offset + size, "start": start.isoformat(), "end": end.isoformat(), "size": size}
                ).encode()
            ).decode()
            links["next"] = {
                "uri": f"/customers/{cid}/subscriptions/{sid}/utilizations/azure?seek_operation=Next",
                "method": "GET",
                "headers": [{"key": "MS-ContinuationToken", "value": token}],
            }
        body = collection(page, links)
        body["totalCount"] = len(page)
        return JSONResponse(body)

    # --------------------------------------------------------------- catalog
    @endpoint
    async def list_products(request: Request) -> Response:
        view = request.query_params.get("targetView")
        with store.read() as tx:
            products = tx.list("product")
        if view:
            wanted = "Azure" if view.lower().startswith("azure") else "OnlineServices"
            products = [p for p in products if p["productType"]["id"] == wanted]
        products.sort(key=lambda p: p["title"])
        return JSONResponse(collection(products))

    @endpoint
    async def get_product(request: Request) -> Response:
        with store.read() as tx:
            product = tx.get("product", request.path_params["pid"])
        if product is None:
            return pc_error(404, NOT_FOUND, "Product not found.")
        return JSONResponse(product)

    @endpoint
    async def list_skus(request: Request) -> Response:
        pid = request.path_params["pid"]
        with store.read() as tx:
            if tx.get("product", pid) is None:
                return pc_error(404, NOT_FOUND, "Product not found.")
            skus = tx.list("catalog_sku", pid)
        return JSONResponse(collection(skus))

    @endpoint
    async def list_availabilities(request: Request) -> Response:
        pid, sku_id = request.path_params["pid"], request.path_params["sku"]
        with store.read() as tx:
            if tx.get("catalog_sku", f"{pid}/{sku_id}") is None:
                return pc_error(404, NOT_FOUND, "SKU not found.")
            items = tx.list("availability", f"{pid}/{sku_id}")
        return JSONResponse(collection(items))

    # ---------------------------------------------------------------- orders
    @endpoint
    async def create_order(request: Request) -> Response:
        cid = request.path_params["cid"]
        request_id = request.headers.get("ms-requestid")
        body = await json_body(request)
        with store.transaction() as tx:
            found = customer_or_404(tx, cid)
            if isinstance(found, Response):
                return found
            if request_id:  # idempotency: the same MS-RequestId returns the same order
                seen = tx.get("order_request", f"{cid}:{request_id}")
                if seen:
                    return JSONResponse(
                        public(tx.get("order", seen["orderId"])) | {"status": "completed"}, status_code=201
                    )
            result = place_order(tx, cid, body)
            if isinstance(result, Response):
                return result
            if request_id:
                tx.put("order_request", f"{cid}:{request_id}", {"orderId": result["id"]}, tenant=cid)
        return JSONResponse(public(result) | {"status": "pending"}, status_code=201)

    @endpoint
    async def list_orders(request: Request) -> Response:
        cid = request.path_params["cid"]
        with store.read() as tx:
            orders = tx.list("order", cid)
        return JSONResponse(collection([public(o) for o in sorted(orders, key=lambda o: o["creationDate"])]))

    @endpoint
    async def get_order(request: Request) -> Response:
        cid, oid = request.path_params["cid"], request.path_params["oid"]
        with store.read() as tx:
            order = tx.get("order", oid, cid)
        if order is None:
            return pc_error(404, NOT_FOUND, f"Order {oid} was not found.")
        return JSONResponse(public(order))

    # ------------------------------------------------------------ agreements
    # Both calls "only support App+User authentication" (REST reference: "Get confirmation of
    # customer acceptance of Microsoft Customer Agreement" and "Confirm customer acceptance of
    # the Microsoft Customer Agreement", Prerequisites).
    @endpoint
    async def list_agreements(request: Request) -> Response:
        if (refused := app_user_only(request)) is not None:
            return refused
        cid = request.path_params["cid"]
        agreement_type = request.query_params.get("agreementType")
        with store.read() as tx:
            found = customer_or_404(tx, cid)
            if isinstance(found, Response):
                return found
            items = [a for a in tx.list("agreement", cid) if not agreement_type or a["type"] == agreement_type]
        return JSONResponse(collection(items))

    @endpoint
    async def create_agreement(request: Request) -> Response:
        if (refused := app_user_only(request)) is not None:
            return refused
        cid = request.path_params["cid"]
        body = await json_body(request)
        if not isinstance(body, dict):
            return pc_error(400, INVALID_INPUT, "The request body must be an agreement.")
        contact = body.get("primaryContact") or {}
        missing = [f"primaryContact.{f}" for f in ("firstName", "lastName", "email") if not contact.get(f)]
        missing += [f for f in ("templateId", "dateAgreed", "type") if not body.get(f)]
        if missing:
            return pc_error(400, INVALID_INPUT, f"Missing required fields: {', '.join(missing)}.")
        if body["type"] != "MicrosoftCustomerAgreement":
            return pc_error(400, INVALID_INPUT, f"Unsupported agreement type {body['type']}.")
        with store.transaction() as tx:
            found = customer_or_404(tx, cid)
            if isinstance(found, Response):
                return found
            agreement = {
                "primaryContact": contact,
                "templateId": body["templateId"],
                "dateAgreed": body["dateAgreed"],
                "type": body["type"],
                "agreementLink": "https://aka.ms/customeragreement",
                "attributes": {"objectType": "Agreement"},
            }
            tx.put("agreement", str(uuid.uuid4()), agreement, tenant=cid)
        return JSONResponse(agreement, status_code=201)

    # -------------------------------------------------------------- invoices
    @endpoint
    async def list_invoices(request: Request) -> Response:
        with store.read() as tx:
            invoices = sorted(provider_invoices(tx), key=lambda i: i["invoiceDate"], reverse=True)
        return JSONResponse(collection(invoices))

    @endpoint
    async def get_invoice(request: Request) -> Response:
        with store.read() as tx:
            invoice, _ = provider_invoice(tx, request.path_params["iid"])
        if invoice is None:
            return pc_error(404, NOT_FOUND, "Invoice not found.")
        return JSONResponse(invoice)

    @endpoint
    async def invoice_lines(request: Request) -> Response:
        iid = request.path_params["iid"]
        with store.read() as tx:
            invoice, lines = provider_invoice(tx, iid)
            if invoice is None:
                return pc_error(404, NOT_FOUND, "Invoice not found.")
        return JSONResponse(collection(lines))

    c = "/customers/{cid}"
    return [
        Route(c + "/subscriptions", list_subscriptions, methods=["GET"]),
        Route(c + "/subscriptions/{sid}", get_subscription, methods=["GET"]),
        Route(c + "/subscriptions/{sid}", patch_subscription, methods=["PATCH"]),
        Route(c + "/subscriptions/{sid}/addons", list_addons, methods=["GET"]),
        Route(c + "/subscriptions/{sid}/utilizations/azure", utilization, methods=["GET"]),
        Route(c + "/orders", create_order, methods=["POST"]),
        Route(c + "/orders", list_orders, methods=["GET"]),
        Route(c + "/orders/{oid}", get_order, methods=["GET"]),
        Route(c + "/agreements", list_agreements, methods=["GET"]),
        Route(c + "/agreements", create_agreement, methods=["POST"]),
        Route("/products", list_products, methods=["GET"]),
        Route("/products/{pid}", get_product, methods=["GET"]),
        Route("/products/{pid}/skus", list_skus, methods=["GET"]),
        Route("/products/{pid}/skus/{sku}/availabilities", list_availabilities, methods=["GET"]),
        Route("/invoices", list_invoices, methods=["GET"]),
        Route("/invoices/{iid}", get_invoice, methods=["GET"]),
        Route("/invoices/{iid}/lineitems", invoice_lines, methods=["GET"]),
    ]


# ------------------------------------------------------------- the rules
def apply_subscription_patch(tx, cid: str, sub: dict, body: dict) -> dict | Response:
    """New Commerce rules for a PATCH: quantity, status, auto-renew, renewal instructions."""
    now = now_utc()
    changed = False
    # Compare against the stored values: a client sends the whole subscription back, so only
    # fields that differ from what is stored count as requested changes.
    original = json.loads(json.dumps(sub))
    if "quantity" in body and body["quantity"] != original["quantity"]:
        quantity = body["quantity"]
        if not isinstance(quantity, int) or quantity < 1:
            return pc_error(400, INVALID_INPUT, "Quantity must be a whole number of at least 1.")
        if sub["status"] != "active":
            return pc_error(400, INVALID_INPUT, f"The subscription is {sub['status']}; its quantity cannot change.")
        if sub.get("unitType") == "Usage-based":
            return pc_error(400, INVALID_INPUT, "Usage-based subscriptions have no seat quantity.")
        if quantity < sub["quantity"] and not in_window(sub, now):
            return pc_error(400, INVALID_INPUT, decrease_refused(sub))
        if quantity > 10000:
            return pc_error(400, INVALID_INPUT, "Quantity exceeds the maximum of 10000 for this offer.")
        delta = quantity - sub["quantity"]
        sub["quantity"] = quantity
        refundable = sub["refundableQuantity"]
        if in_window(sub, now):
            refundable["totalQuantity"] = quantity
            refundable["details"] = [
                {"quantity": quantity, "allowedUntilDateTime": sub["cancellationAllowedUntilDate"]}
            ]
        elif delta > 0:  # added seats are refundable for 168 hours after they were added
            until = iso(now + NEW_COMMERCE_WINDOW)
            refundable["details"] = [*refundable.get("details", []), {"quantity": delta, "allowedUntilDateTime": until}]
            refundable["totalQuantity"] = sum(
                d["quantity"] for d in refundable["details"] if d["allowedUntilDateTime"] >= iso(now)
            )
        sub["scheduledNextTermInstructions"] = None  # an immediate change deletes scheduled changes
        sync_graph_seats(tx, cid, sub.get("_graphSkuId"), delta)
        changed = True
    if "status" in body and body["status"] != original["status"]:
        status = body["status"]
        if status == "deleted":
            if not in_window(sub, now):
                return pc_error(
                    400,
                    INVALID_INPUT,
                    "Cancellation is only allowed within 7 days (168 hours) of "
                    "purchase or renewal. Turn off auto-renew to end the subscription at "
                    f"{sub['commitmentEndDate'][:10]}.",
                )
            sync_graph_seats(tx, cid, sub.get("_graphSkuId"), -sub["quantity"])
            sub["autoRenewEnabled"] = False
            sub["scheduledNextTermInstructions"] = None
        elif status not in ("active", "suspended"):
            return pc_error(400, INVALID_INPUT, f"Status {status} cannot be set.")
        sub["status"] = status
        changed = True
    if "autoRenewEnabled" in body and body["autoRenewEnabled"] != original["autoRenewEnabled"]:
        sub["autoRenewEnabled"] = bool(body["autoRenewEnabled"])
        if not sub["autoRenewEnabled"]:
            sub["scheduledNextTermInstructions"] = None
        changed = True
    if "scheduledNextTermInstructions" in body and body["scheduledNextTermInstructions"] != original.get(
        "scheduledNextTermInstructions"
    ):
        instructions = body["scheduledNextTermInstructions"]
        if instructions is not None:
            problem = check_instructions(tx, sub, instructions)
            if problem:
                return pc_error(400, INVALID_INPUT, problem)
        sub["scheduledNextTermInstructions"] = instructions
        changed = True
    if changed:
        sub["attributes"]["etag"] = new_etag()
        tx.put("subscription", sub["id"], sub, tenant=cid)
    return sub


def decrease_refused(sub: dict) -> str:
    return (
        "Seat count decreases are only allowed within 7 days (168 hours) of purchase or renewal. "
        f"To reduce seats at renewal on {sub['commitmentEndDate'][:10]}, set the renewal instructions "
        "(scheduledNextTermInstructions) with the new quantity."
    )


def check_instructions(tx, sub: dict, instructions: Any) -> str | None:
    if not sub.get("autoRenewEnabled"):
        return "Renewal instructions need auto-renew to be turned on."
    if not isinstance(instructions, dict):
        return "scheduledNextTermInstructions must be an object."
    quantity = instructions.get("quantity")
    if not isinstance(quantity, int) or quantity < 1:
        return "scheduledNextTermInstructions.quantity must be a whole number of at least 1."
    product = instructions.get("product") or {}
    key = f"{product.get('productId')}/{product.get('skuId')}/{product.get('availabilityId')}"
    availability = tx.get("availability", key)
    if availability is None:
        return f"The product {key.replace('/', ':')} is not available for renewal."
    if not any(
        t["duration"] == product.get("termDuration") and t["billingCycle"] == product.get("billingCycle")
        for t in availability["terms"]
    ):
        return "The requested term and billing cycle are not offered for this product."
    return None


def sync_graph_seats(tx, cid: str, graph_sku_id: str | None, delta: int) -> None:
    """Keep Graph's prepaidUnits in step with Partner Center seat counts."""
    if not graph_sku_id or not delta:
        return
    sku = tx.get("sku", f"{cid}_{graph_sku_id}", cid)
    if sku is not None:
        sku["prepaidUnits"]["enabled"] = max(0, sku["prepaidUnits"]["enabled"] + delta)
        tx.put("sku", sku["id"], sku, tenant=cid)


def place_order(tx, cid: str, body: Any) -> dict | Response:
    """Validate an order and create its subscriptions (and Graph seats)."""
    if not isinstance(body, dict) or not isinstance(body.get("lineItems"), list) or not body["lineItems"]:
        return pc_error(400, INVALID_INPUT, "An order needs at least one line item.")
    billing_cycle = body.get("billingCycle", "monthly")
    now = now_utc()
    order_id = str(uuid.uuid4())
    created_lines = []
    new_subs = []
    for n, line in enumerate(body["lineItems"]):
        offer_id = str(line.get("offerId", ""))
        parts = offer_id.split(":")
        if len(parts) != 3:
            return pc_error(400, INVALID_OFFER, f"Offer id {offer_id!r} is not valid.")
        pid, sku_id, aid = parts
        availability = tx.get("availability", f"{pid}/{sku_id}/{aid}")
        sku = tx.get("catalog_sku", f"{pid}/{sku_id}")
        product = tx.get("product", pid)
        if availability is None or sku is None or product is None:
            return pc_error(400, INVALID_OFFER, f"Offer id {offer_id} is not valid.")
        if not availability.get("isPurchasable", True):
            return pc_error(403, OFFER_UNAVAILABLE, f"Offer {offer_id} is no longer available.")
        term = line.get("termDuration")
        cycle = line.get("billingCycle", billing_cycle)
        match = next((t for t in availability["terms"] if t["duration"] == term and t["billingCycle"] == cycle), None)
        if match is None:
            return pc_error(400, INVALID_INPUT, f"Term {term} with {cycle} billing is not offered for {offer_id}.")
        quantity = line.get("quantity")
        if not isinstance(quantity, int) or not sku["minimumQuantity"] <= quantity <= sku["maximumQuantity"]:
            return pc_error(
                400, INVALID_INPUT, f"Quantity must be between {sku['minimumQuantity']} and {sku['maximumQuantity']}."
            )
        parent = line.get("parentSubscriptionId")
        if sku["dynamicAttributes"].get("isAddon"):
            parent_sub = tx.get("subscription", parent, cid) if parent else None
            if parent_sub is None or parent_sub["status"] != "active":
                return pc_error(
                    400,
                    INVALID_INPUT,
                    f"{product['title']} is an add-on: parentSubscriptionId must name an active subscription.",
                )
        sub_id = str(uuid.uuid4())
        start, end = current_term(now, term, now)
        graph_sku = sku["dynamicAttributes"].get("graphSkuId")
        part = sku["dynamicAttributes"].get("skuPartNumber")
        doc = build_subscription(
            id=sub_id,
            tenant=cid,
            offer_id=offer_id,
            name=line.get("friendlyName") or product["title"],
            quantity=quantity,
            unit_type="Usage-based" if product["productType"]["id"] == "Azure" else "Licenses",
            parent_id=parent,
            created=now,
            term_start=start,
            term_end=end,
            billing_cycle=cycle,
            term_duration=term,
            sku_part_number=part,
            graph_sku_id=graph_sku,
            unit_price=match["price"]["listPrice"],
            order_id=order_id,
        )
        doc["offerName"] = product["title"]
        new_subs.append(doc)
        created_lines.append(
            {
                "lineItemNumber": line.get("lineItemNumber", n),
                "offerId": offer_id,
                "subscriptionId": sub_id,
                "parentSubscriptionId": parent,
                "friendlyName": doc["friendlyName"],
                "quantity": quantity,
                "termDuration": term,
                "billingCycle": cycle,
                "links": {
                    "subscription": {"uri": f"/customers/{cid}/subscriptions/{sub_id}", "method": "GET", "headers": []}
                },
            }
        )
    for doc in new_subs:
        tx.put("subscription", doc["id"], doc, tenant=cid)
        graph_sku = doc["_graphSkuId"]
        if graph_sku:
            key = f"{cid}_{graph_sku}"
            existing = tx.get("sku", key, cid)
            if existing is None:
                from .seed import sku_document

                existing = sku_document(cid, doc["_skuPartNumber"], graph_sku, 0, [])
            existing["prepaidUnits"]["enabled"] += doc["quantity"]
            existing["subscriptionIds"] = [*existing.get("subscriptionIds", []), doc["id"]]
            tx.put("sku", key, existing, tenant=cid)
    order = {
        "id": order_id,
        "referenceCustomerId": cid,
        "billingCycle": billing_cycle,
        "lineItems": created_lines,
        "creationDate": iso(now),
        "status": "completed",
        "currencyCode": "USD",
        "currencySymbol": "$",
        "links": {"self": {"uri": f"/customers/{cid}/orders/{order_id}", "method": "GET", "headers": []}},
        "attributes": {"objectType": "Order", "etag": new_etag()},
    }
    tx.put("order", order_id, order, tenant=cid)
    return order
