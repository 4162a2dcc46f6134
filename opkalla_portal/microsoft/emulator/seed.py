"""Seeding the emulator's database from the canonical demo world (opkalla_portal.demo.demo_data)."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from opkalla_portal import clock
from opkalla_portal.demo import demo_data
from opkalla_portal.demo.demo_data import TERM_MONTHS, _add_months  # same term arithmetic as the portal's seed

from ..product_names import product as product_by_part
from .catalog import build_catalog
from .paths import PARTNER_TENANT_ID
from .usage import usage_month_documents

UNKNOWN_VISITOR_TENANT = demo_data.demo_guid("tenant", "unknown-visitor")
UNKNOWN_VISITOR = {
    "oid": demo_data.demo_guid("user", "unknown-visitor"),
    "tid": UNKNOWN_VISITOR_TENANT,
    "name": "Unknown Visitor",
    "email": "visitor@fabrikam-visitor.onmicrosoft.com",
    "globalAdmin": False,
    "status": "unknown",
}


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def now_utc() -> datetime:
    return clock.now().replace(microsecond=0)


def current_term(created: datetime, term: str, at: datetime) -> tuple[datetime, datetime]:
    """(start, end) of the term running at ``at``; terms renew back to back from creation."""
    months = TERM_MONTHS.get(term, 1)
    start = created
    while True:
        end_day = _add_months(start.date(), months)
        end = datetime.combine(end_day, start.timetz())
        if end > at:
            return start, end
        start = end


def new_etag() -> str:
    return uuid.uuid4().hex


def subscription_document(sub: demo_data.DemoSubscription, now: datetime) -> dict:
    """A Partner Center subscription; fields prefixed ``_`` are emulator-internal."""
    created = datetime.combine(sub.creation_date(now.date()), now.timetz())
    start, end = current_term(created, sub.term_duration, now)
    return build_subscription(
        id=sub.id,
        tenant=demo_data.CUSTOMERS[sub.customer_key].tenant_id,
        offer_id=sub.offer_id,
        name=sub.offer_name,
        quantity=sub.quantity,
        unit_type=sub.unit_type,
        parent_id=sub.parent_id,
        created=created,
        term_start=start,
        term_end=end,
        billing_cycle=sub.billing_cycle,
        term_duration=sub.term_duration,
        sku_part_number=sub.sku_part_number,
        graph_sku_id=sub.graph_sku_id,
        unit_price=float(sub.unit_price),
        order_id=demo_data.demo_guid("order", f"{sub.customer_key}:{sub.key}"),
        contract_key=sub.contract_key,
    )


def build_subscription(
    *,
    id: str,
    tenant: str,
    offer_id: str,
    name: str,
    quantity: int,
    unit_type: str,
    parent_id: str | None,
    created: datetime,
    term_start: datetime,
    term_end: datetime,
    billing_cycle: str,
    term_duration: str,
    sku_part_number: str | None,
    graph_sku_id: str | None,
    unit_price: float,
    order_id: str,
    contract_key: str | None = None,
) -> dict:
    window_end = term_start + timedelta(hours=168)
    refundable = quantity if now_utc() <= window_end else 0  # only inside the 7-day window
    return {
        "id": id,
        "offerId": offer_id,
        "offerName": name,
        "friendlyName": name,
        "quantity": quantity,
        "unitType": unit_type,
        "parentSubscriptionId": parent_id,
        "hasPurchasableAddons": parent_id is None,
        "creationDate": iso(created),
        "effectiveStartDate": iso(term_start),
        "commitmentEndDate": iso(term_end - timedelta(days=1)),
        "status": "active",
        "autoRenewEnabled": True,
        "isTrial": False,
        "billingType": "usage" if unit_type == "Usage-based" else "license",
        "billingCycle": billing_cycle if billing_cycle != "none" else "monthly",
        "termDuration": term_duration,
        "orderId": order_id,
        "contractType": "subscription",
        "refundableQuantity": {
            "totalQuantity": refundable,
            "details": [{"quantity": refundable, "allowedUntilDateTime": iso(window_end)}] if refundable else [],
        },
        "cancellationAllowedUntilDate": iso(window_end),
        "scheduledNextTermInstructions": None,
        "publisherName": "Microsoft Corporation",
        "links": {"self": {"uri": f"/customers/{tenant}/subscriptions/{id}", "method": "GET", "headers": []}},
        "attributes": {"etag": new_etag(), "objectType": "Subscription"},
        "_skuPartNumber": sku_part_number,
        "_graphSkuId": graph_sku_id,
        "_unitPrice": unit_price,
        "_contractKey": contract_key,
    }


def _sign_in_time(days: int | None, rng: random.Random, now: datetime) -> str | None:
    if days is None:
        return None
    return iso(now - timedelta(days=days, minutes=rng.randint(0, 600)))


def user_document(u: demo_data.DemoDirectoryUser, sku_ids: dict[str, str], rng: random.Random, now: datetime) -> dict:
    # Graph's signInActivity (needs AuditLog.Read.All); days come from the demo world.
    sign_in = {
        "lastSignInDateTime": _sign_in_time(u.last_sign_in_days, rng, now),
        "lastNonInteractiveSignInDateTime": _sign_in_time(u.last_non_interactive_days, rng, now),
    }
    return {
        "id": u.object_id,
        "displayName": u.display_name,
        "givenName": u.given_name,
        "surname": u.surname,
        "userPrincipalName": u.user_principal_name,
        "mail": u.user_principal_name,
        "jobTitle": u.job_title,
        "department": u.department,
        "usageLocation": u.usage_location,
        "accountEnabled": u.account_enabled,
        "businessPhones": [],
        "officeLocation": None,
        "assignedLicenses": [{"skuId": sku_ids[p], "disabledPlans": []} for p in u.licenses if p in sku_ids],
        # Direct assignments (assignedByGroup null); seed_customer marks group-assigned ones.
        "licenseAssignmentStates": [license_state(sku_ids[p]) for p in u.licenses if p in sku_ids],
        "signInActivity": sign_in,
    }


def license_state(sku_id: str, group_id: str | None = None) -> dict:
    """One Graph licenseAssignmentState (v1.0-Prod.csdl)."""
    return {
        "assignedByGroup": group_id,
        "disabledPlans": [],
        "error": "None",
        "lastUpdatedDateTime": iso(now_utc()),
        "skuId": sku_id,
        "state": "Active",
    }


# Demo group-based licensing: Bayview licenses Exchange Online (Plan 2) through a group.
LICENSING_GROUPS = {"bayview": {"displayName": "Exchange Online users", "sku": "EXCHANGEENTERPRISE"}}


def sku_document(tenant: str, part: str, sku_guid: str, enabled: int, subscription_ids: list[str]) -> dict:
    info = product_by_part(part)
    return {
        "id": f"{tenant}_{sku_guid}",
        "skuId": sku_guid,
        "skuPartNumber": part,
        "appliesTo": "User",
        "capabilityStatus": "Enabled",
        "consumedUnits": 0,
        "prepaidUnits": {"enabled": enabled, "lockedOut": 0, "suspended": 0, "warning": 0},
        "servicePlans": [
            {
                "servicePlanId": p["servicePlanId"],
                "servicePlanName": p["servicePlanName"],
                "provisioningStatus": "Success",
                "appliesTo": "User",
            }
            for p in (info.service_plans if info else [])
        ],
        "subscriptionIds": subscription_ids,
    }


def seed_world(tx) -> None:
    """Write the whole demo world into an empty database."""
    now = now_utc()
    tx.set_meta("seeded_at", iso(now))
    if not tx.get("tenant", PARTNER_TENANT_ID):  # normally the provider is one of the demo customers
        tx.put(
            "tenant",
            PARTNER_TENANT_ID,
            {"id": PARTNER_TENANT_ID, "displayName": "Partner", "domain": "partner.onmicrosoft.com"},
        )
    tx.put(
        "tenant",
        UNKNOWN_VISITOR_TENANT,
        {"id": UNKNOWN_VISITOR_TENANT, "displayName": "Fabrikam", "domain": "fabrikam-visitor.onmicrosoft.com"},
    )
    tx.put("persona", UNKNOWN_VISITOR["oid"], {**UNKNOWN_VISITOR, "order": 99}, tenant=UNKNOWN_VISITOR_TENANT)
    for order, p in enumerate(demo_data.PERSONAS):
        tid = demo_data.CUSTOMERS[p.customer_key].tenant_id
        tx.put(
            "persona",
            p.object_id,
            {
                "oid": p.object_id,
                "tid": tid,
                "name": p.display_name,
                "email": p.email,
                "globalAdmin": p.global_admin,
                "status": p.status,
                "order": order,
            },
            tenant=tid,
        )

    for customer in demo_data.CUSTOMERS.values():
        seed_customer(tx, customer, now)

    for product in build_catalog():
        skus = product.pop("skus")
        tx.put("product", product["id"], product)
        for sku in skus:
            availabilities = sku.pop("availabilities")
            tx.put("catalog_sku", f"{product['id']}/{sku['id']}", sku, tenant=product["id"])
            for a in availabilities:
                tx.put(
                    "availability", f"{product['id']}/{sku['id']}/{a['id']}", a, tenant=f"{product['id']}/{sku['id']}"
                )
    seed_invoices(tx, now)


def seed_customer(tx, customer: demo_data.DemoCustomer, now: datetime) -> None:
    tid = customer.tenant_id
    tx.put(
        "tenant",
        tid,
        {"id": tid, "displayName": customer.name, "domain": customer.domain, "countryLetterCode": customer.country},
    )
    if customer.consented:
        tx.put(
            "consent",
            tid,
            {
                "tenant": tid,
                "clientId": demo_data.DEMO_APP_CLIENT_ID,
                "scope": "https://graph.microsoft.com/.default",
                "grantedAt": iso(now),
            },
        )
    subs = demo_data.customer_subscriptions(customer.key)
    sku_ids: dict[str, str] = {}
    seats: dict[str, list] = {}
    for sub in subs:
        tx.put("subscription", sub.id, subscription_document(sub, now), tenant=tid)
        if sub.sku_part_number and sub.graph_sku_id:
            sku_ids[sub.sku_part_number] = sub.graph_sku_id
            entry = seats.setdefault(sub.sku_part_number, [sub.graph_sku_id, 0, []])
            entry[1] += sub.quantity
            entry[2].append(sub.id)
        if sub.unit_type == "Usage-based":
            for month, doc in usage_month_documents(customer.key, sub.id, now.date()):
                tx.put("usage", f"{sub.id}/{month}", doc, tenant=sub.id)
    skus = {part: sku_document(tid, part, guid, enabled, ids) for part, (guid, enabled, ids) in seats.items()}
    rng = random.Random(customer.key)
    rows = []
    for u in demo_data.directory_users(customer.key):
        doc = user_document(u, sku_ids, rng, now)
        for part in u.licenses:
            if part in skus:
                skus[part]["consumedUnits"] += 1
        rows.append((u.object_id, doc, tid, u.user_principal_name.lower()))
    group = LICENSING_GROUPS.get(customer.key)
    if group and group["sku"] in skus:
        # Group-based licensing: this group assigns the SKU to the members who hold it, so
        # their license states say assignedByGroup (and assignLicense cannot remove it).
        group_id = demo_data.demo_guid("group", f"{customer.key}:{group['displayName']}")
        tx.put(
            "group",
            group_id,
            {"id": group_id, "displayName": group["displayName"], "securityEnabled": True, "mailEnabled": False},
            tenant=tid,
        )
        for _, doc, _, _ in rows:
            for state in doc["licenseAssignmentStates"]:
                if state["skuId"] == sku_ids[group["sku"]]:
                    state["assignedByGroup"] = group_id
    tx.put_many("user", rows)
    for sku in skus.values():
        tx.put("sku", sku["id"], sku, tenant=tid)
    # Both demo customers have accepted the Microsoft Customer Agreement.
    admin = next((p for p in demo_data.personas(customer.key) if p.global_admin), None)
    if admin:
        # The SDK's Agreement model has no id: the store's key is the only identifier.
        tx.put(
            "agreement",
            demo_data.demo_guid("agreement", customer.key),
            {
                "primaryContact": {
                    "firstName": admin.first_name,
                    "lastName": admin.last_name,
                    "email": admin.email,
                    "phoneNumber": admin.business_phone,
                },
                "templateId": "117a77b0-9360-443b-8795-c6dedc750cf9",
                "dateAgreed": iso(now - timedelta(days=400)),
                "type": "MicrosoftCustomerAgreement",
                "agreementLink": "https://aka.ms/customeragreement",
                "userId": admin.object_id,
                "attributes": {"objectType": "Agreement"},
            },
            tenant=tid,
        )


# What Microsoft charges the provider, as a share of the demo's (customer) list price: the
# provider's margin on licenses. Azure plan usage is billed at Microsoft's rated cost.
MICROSOFT_COST_SHARE = Decimal("0.85")


def microsoft_invoice_periods(today: date) -> list[tuple[str, date, date]]:
    """(invoice id, period start, period end) of Microsoft's invoices to the provider: the
    twelve closed calendar months before this one, oldest first."""
    first_of_month = today.replace(day=1)
    return [_period(_add_months(first_of_month, -back)) for back in range(12, 0, -1)]


def _period(period_start: date) -> tuple[str, date, date]:
    """Microsoft's invoice for one calendar month: its (deterministic) id, start and end."""
    period_end = _add_months(period_start, 1) - timedelta(days=1)
    invoice_id = f"G{period_start.strftime('%y%m')}{abs(hash_text('invoice' + period_start.isoformat())) % 1000000:06d}"
    return invoice_id, period_start, period_end


def billed_reconciliation_lines(invoice_id: str, period_start: date, period_end: date, today: date) -> list[dict]:
    """The billed invoice reconciliation (v2) line items of one of Microsoft's invoices.

    License-based subscriptions: monthly-billed ones are charged each month (``cycleCharge``),
    annually billed ones in the month their term starts (``new`` then ``renew``, twelve months
    at once); a purchase in the middle of the month is prorated to the days left
    (``chargeStartDate`` .. ``chargeEndDate``, subtotal < unitPrice x quantity). The Azure plan
    appears as one ``usage`` line per subscription whose detail is the billed usage export.
    """
    lines = []
    days_in_period = Decimal((period_end - period_start).days + 1)
    for sub in demo_data.SUBSCRIPTIONS:
        started = sub.creation_date(today)
        if started > period_end:
            continue
        customer = demo_data.CUSTOMERS[sub.customer_key]
        charge_start, charge_end = max(period_start, started), period_end
        if sub.unit_type == "Usage-based":
            total = sum(
                (r.cost for r in demo_data.azure_usage(sub.customer_key, period_start, period_end)), Decimal("0")
            )
            quantity, unit_price, subtotal, charge_type, frequency = (
                1,
                total,
                total.quantize(Decimal("0.01")),
                "usage",
                "Monthly",
            )
        else:
            if sub.billing_cycle == "annual" and started.month != period_start.month:
                continue
            months = 12 if sub.billing_cycle == "annual" else 1
            proration = Decimal(1)
            if period_start <= started <= period_end:
                proration = (Decimal((period_end - started).days + 1) / days_in_period).quantize(Decimal("0.0001"))
            charge_type = (
                "new" if period_start <= started <= period_end else ("renew" if months == 12 else "cycleCharge")
            )
            quantity = sub.quantity
            unit_price = (sub.unit_price * MICROSOFT_COST_SHARE * months).quantize(Decimal("0.0001"))
            subtotal = (unit_price * quantity * proration).quantize(Decimal("0.01"))
            frequency = "Annual" if months == 12 else "Monthly"
            if months == 12:  # charged for the year ahead
                charge_end = _add_months(charge_start, 12) - timedelta(days=1)
        lines.append(
            {
                "invoiceNumber": invoice_id,
                "customerId": customer.tenant_id,
                "customerName": customer.name,
                "customerDomainName": customer.domain,
                "customerCountry": customer.country,
                "subscriptionId": sub.id,
                "subscriptionDescription": sub.offer_name,
                "productId": sub.product_id,
                "skuId": sub.sku_id,
                "availabilityId": sub.availability_id,
                "productName": sub.offer_name,
                "skuName": sub.offer_name,
                "chargeType": charge_type,
                "chargeStartDate": charge_start.isoformat() + "T00:00:00Z",
                "chargeEndDate": charge_end.isoformat() + "T00:00:00Z",
                "termAndBillingCycle": f"{sub.term_duration} {frequency}",
                "billingFrequency": frequency,
                "quantity": quantity,
                "unitPrice": float(unit_price.quantize(Decimal("0.0001"))),
                "effectiveUnitPrice": float(unit_price.quantize(Decimal("0.0001"))),
                "subtotal": float(subtotal),
                "taxTotal": 0.0,
                "totalForCustomer": float(subtotal),
                "currency": "USD",
                "billingProvider": "OneTime",
                "invoiceLineItemType": "BillingLineItems",
                "attributes": {"objectType": "OneTimeInvoiceLineItem"},
            }
        )
    return lines


def invoice_document(invoice_id: str, period_start: date, period_end: date, lines: list[dict], today: date) -> dict:
    """Partner Center's Invoice resource for one of Microsoft's monthly invoices."""
    total = float(sum(Decimal(str(line["totalForCustomer"])) for line in lines))
    invoice_date = period_end + timedelta(days=8)
    return {
        "id": invoice_id,
        "invoiceDate": invoice_date.isoformat() + "T00:00:00Z",
        "billingPeriodStartDate": period_start.isoformat() + "T00:00:00Z",
        "billingPeriodEndDate": period_end.isoformat() + "T00:00:00Z",
        "totalCharges": round(total, 2),
        "paidAmount": round(total, 2) if invoice_date < today else 0.0,
        "currencyCode": "USD",
        "currencySymbol": "$",
        "invoiceType": "OneTime",
        "documentType": "Invoice",
        "pdfDownloadLink": f"/invoices/{invoice_id}/documents/statement",
        "attributes": {"objectType": "Invoice"},
    }


def seed_invoices(tx, now: datetime) -> None:
    """Twelve monthly provider invoices from Microsoft: seat charges plus Azure usage."""
    today = now.date()
    for invoice_id, period_start, period_end in microsoft_invoice_periods(today):
        lines = billed_reconciliation_lines(invoice_id, period_start, period_end, today)
        tx.put("invoice", invoice_id, invoice_document(invoice_id, period_start, period_end, lines, today))
        for n, line in enumerate(lines):
            tx.put("invoice_line", f"{invoice_id}/{n:04d}", line, tenant=invoice_id)


def invoices_closed_since_seed(stored: list[dict], today: date) -> dict[str, tuple[dict, list[dict]]]:
    """Microsoft closes a billing period as time passes: when the clock has moved past the end
    of a month after the newest seeded invoice, that month is invoiced too (computed, not
    stored, so moving the clock back takes it away). invoice id -> (invoice, its lines).
    ASSUMPTION: the invoice is there the day after the period ends (Microsoft's comes some days
    later; the portal only looks for it, never for a date)."""
    if not stored:
        return {}
    newest_end = max(date.fromisoformat(i["billingPeriodEndDate"][:10]) for i in stored)
    closed: dict[str, tuple[dict, list[dict]]] = {}
    period_start = newest_end + timedelta(days=1)
    while True:
        invoice_id, start, end = _period(period_start)
        if end >= today:
            return closed
        lines = billed_reconciliation_lines(invoice_id, start, end, today)
        closed[invoice_id] = (invoice_document(invoice_id, start, end, lines, today), lines)
        period_start = end + timedelta(days=1)


def provider_invoices(tx) -> list[dict]:
    """Every invoice Microsoft has issued to the provider by today, seeded or closed since."""
    stored = tx.list("invoice")
    return stored + [doc for doc, _ in invoices_closed_since_seed(stored, clock.today()).values()]


def provider_invoice(tx, invoice_id: str) -> tuple[dict | None, list[dict]]:
    """One of Microsoft's invoices to the provider and its line items ((None, []) if unknown)."""
    invoice = tx.get("invoice", invoice_id)
    if invoice is not None:
        return invoice, tx.list("invoice_line", invoice_id)
    return invoices_closed_since_seed(tx.list("invoice"), clock.today()).get(invoice_id, (None, []))


def hash_text(text: str) -> int:
    import hashlib

    return int(hashlib.sha1(text.encode()).hexdigest()[:12], 16)
