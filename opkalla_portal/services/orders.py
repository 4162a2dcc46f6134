"""Subscription Create: buying a catalog product under a Billing Contract, exactly once.

The form's idempotency key is sent as Partner Center's MS-RequestId, so a double-click or
a retried request returns the same order instead of buying twice; the portal's own
records (contract mapping, Change Logs entry) are written once per key too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from sqlmodel import select

from opkalla_portal import clock
from opkalla_portal.db import session_scope
from opkalla_portal.microsoft.errors import MicrosoftError
from opkalla_portal.models import ChangeLogEntry, ContractSubscription, Intent, ScheduledChange, ScheduledPurchase
from opkalla_portal.services import intents, tenant_cache
from opkalla_portal.services.access import Capability, Identity, require
from opkalla_portal.services.catalog import CatalogProduct, CatalogTerm, load_catalog
from opkalla_portal.services.errors import microsoft_errors
from opkalla_portal.services.microsoft_clients import microsoft
from opkalla_portal.services.subscriptions import (
    ServiceError,
    contract_in_scope,
    log_change,
    owned_subscription_ids,
    parse_date,
    parse_quantity,
)

MAX_START_AHEAD = timedelta(days=90)


@dataclass
class OrderOutcome:
    status: str  # succeeded | scheduled | invalid | failed
    message: str = ""
    errors: dict[str, str] = field(default_factory=dict)
    subscription_ids: list[str] = field(default_factory=list)


async def offer(identity: Identity, offer_id: object, term_key: object) -> tuple[CatalogProduct, CatalogTerm]:
    """The catalog product and term a Buy button named, or ServiceError."""
    require(identity, Capability.SERVICES)
    with microsoft_errors():
        return await _offer(offer_id, term_key)


async def _offer(offer_id: object, term_key: object) -> tuple[CatalogProduct, CatalogTerm]:
    catalog = await load_catalog()
    product = catalog.get(str(offer_id or "")[:120])
    duration, _, cycle = str(term_key or "").partition(":")
    term = product.term(duration, cycle) if product else None
    if product is None or term is None:
        raise ServiceError("This product or term is no longer offered. Choose it again in the Product Catalog.")
    return product, term


async def base_subscriptions(identity: Identity, contract_id: object) -> list[tuple[str, str]]:
    """(id, name) of the contract's active base subscriptions, for an add-on's parent."""
    require(identity, Capability.SERVICES)
    with microsoft_errors():
        return await _base_subscriptions(identity, contract_id)


async def _base_subscriptions(identity: Identity, contract_id: object) -> list[tuple[str, str]]:
    with session_scope() as db:
        contract = contract_in_scope(db, identity, contract_id)
        owned = owned_subscription_ids(db, identity)
    subs = await microsoft().partner_center.list_subscriptions(identity.tenant_id)
    return sorted(
        (
            (s["id"], s.get("friendlyName") or s.get("offerName", ""))
            for s in subs
            if owned.get(s["id"]) == contract.id
            and not s.get("parentSubscriptionId")
            and s.get("status") == "active"
            and s.get("unitType") != "Usage-based"
        ),
        key=lambda r: r[1].lower(),
    )


def validate_order(
    product: CatalogProduct,
    quantity_text: object,
    start_text: object,
    parent_id: object,
    parents: list[tuple[str, str]],
    *,
    today: date,
) -> tuple[dict[str, str], int | None]:
    """Field errors (by "quantity", "start_date", "parent") or the quantity."""
    errors: dict[str, str] = {}
    quantity = parse_quantity(quantity_text)
    if quantity is None:
        errors["quantity"] = "Enter the quantity as a whole number, for example 10."
    elif quantity < product.minimum_quantity:
        errors["quantity"] = f"The quantity must be at least {product.minimum_quantity}."
    elif quantity > product.maximum_quantity:
        errors["quantity"] = f"The maximum quantity for this offer is {product.maximum_quantity}."
    start = parse_date(start_text)
    if start is None:
        errors["start_date"] = "Choose an Effective Start Date."
    elif start < today:
        errors["start_date"] = "The Effective Start Date cannot be in the past."
    elif start > today + MAX_START_AHEAD:
        errors["start_date"] = (
            f"The Effective Start Date must be within {MAX_START_AHEAD.days} days, by "
            f"{today + MAX_START_AHEAD:%Y-%m-%d}."
        )
    if product.is_addon and str(parent_id or "") not in {pid for pid, _ in parents}:
        errors["parent"] = "Choose the base subscription this add-on belongs to."
    return errors, quantity


async def place_order(
    identity: Identity,
    *,
    contract_id: object,
    offer_id: object,
    term_key: object,
    quantity_text: object,
    start_text: object,
    parent_id: object,
    request_id: str,
    today: date | None = None,
) -> OrderOutcome:
    """Validate and place the order at Microsoft (or schedule it), through the hold rule."""
    require(identity, Capability.SERVICES)
    if not request_id:
        raise ServiceError("Open the Subscription Create page again from the Product Catalog.")
    with microsoft_errors():
        return await _place(
            identity,
            contract_id=contract_id,
            offer_id=offer_id,
            term_key=term_key,
            quantity_text=quantity_text,
            start_text=start_text,
            parent_id=parent_id,
            request_id=request_id,
            today=today or clock.today(),
        )


async def place_approved_order(
    approver: Identity, order: dict, *, approved: Decimal, note: str, today: date | None = None
) -> OrderOutcome:
    """Place a purchase held for approval, through the same path and with the same idempotency
    key as when it was asked for (placing it twice returns the same order). A start date that
    has passed meanwhile means "now"."""
    today = today or clock.today()
    start = parse_date(order.get("start")) or today
    return await _place(
        approver,
        contract_id=order.get("contract_id"),
        offer_id=order.get("offer_id"),
        term_key=order.get("term_key"),
        quantity_text=order.get("quantity"),
        start_text=max(start, today).isoformat(),
        parent_id=order.get("parent_id"),
        request_id=str(order.get("request_id") or ""),
        today=today,
        approved=approved,
        note=note,
    )


async def _place(
    identity: Identity,
    *,
    contract_id: object,
    offer_id: object,
    term_key: object,
    quantity_text: object,
    start_text: object,
    parent_id: object,
    request_id: str,
    today: date,
    approved: Decimal | None = None,
    note: str = "",
) -> OrderOutcome:
    from opkalla_portal.services import approvals

    with session_scope() as db:
        contract = contract_in_scope(db, identity, contract_id)
    # The caller checked permission: the buyer (Services), or an approver (who may be a Finance
    # Manager, without Services) placing a purchase that was held for approval.
    product, term = await _offer(offer_id, term_key)
    parents = await _base_subscriptions(identity, contract.id) if product.is_addon else []
    errors, quantity = validate_order(product, quantity_text, start_text, parent_id, parents, today=today)
    if errors:
        if approved is not None:
            return OrderOutcome("failed", "It is no longer valid: " + " ".join(errors.values()), errors)
        return OrderOutcome("invalid", "Check the highlighted fields.", errors)
    start = parse_date(start_text) or today
    parent = str(parent_id or "") if product.is_addon else ""
    if approved is None:
        # The same order submitted again (a reloaded tab, after a restart) keeps its first key.
        fingerprint = intents.order_fingerprint(
            identity,
            contract=contract.id,
            offer=product.offer_id,
            term=term.key,
            quantity=quantity,
            start=start,
            parent=parent,
        )
        request_id = intents.repeated_order_key(identity, fingerprint) or request_id
    else:
        fingerprint = ""
    order = {
        "contract_id": contract.id,
        "offer_id": product.offer_id,
        "term_key": term.key,
        "quantity": quantity,
        "start": start.isoformat(),
        "parent_id": parent,
        "request_id": request_id,
    }
    increase = approvals.Increase(
        action="purchase",
        subscription_id="",
        name=product.title,
        old_quantity=0,
        new_quantity=quantity,
        unit_price=term.price,
        mode="custom" if start > today else "immediately",
        effective_date=start,
        source=request_id,
        order=order,
    )
    held = approvals.gate_increase(identity, increase, approved=approved)
    if held is not None:
        return OrderOutcome(held.status, held.message, held.errors)
    if start > today:
        outcome = _schedule_purchase(
            identity,
            contract.id,
            product,
            term,
            quantity,
            start,
            parent,
            request_id,
            fingerprint=fingerprint,
            note=note,
        )
    else:
        outcome = await _order_now(
            identity,
            contract.id,
            product,
            term,
            quantity,
            parent,
            request_id,
            today,
            fingerprint=fingerprint,
            note=note,
        )
    if outcome.status == "failed":
        approvals.release_increase(identity.organization_id, request_id)
    return outcome


async def _order_now(
    identity: Identity,
    contract_id: int,
    product: CatalogProduct,
    term: CatalogTerm,
    quantity: int,
    parent: str,
    request_id: str,
    today: date,
    *,
    fingerprint: str,
    note: str,
) -> OrderOutcome:
    """Order at Microsoft: the intent is committed first, the records and its end after."""
    intents.begin(
        identity,
        intents.PURCHASE,
        request_id,
        {
            "contract_id": contract_id,
            "offer_id": product.offer_id,
            "title": product.title,
            "quantity": quantity,
            "term_label": term.label,
            "effective_date": today.isoformat(),
            "fingerprint": fingerprint,
            "note": note,
        },
    )
    try:
        order = await order_at_microsoft(
            identity.tenant_id,
            product.offer_id,
            product.title,
            term.duration,
            term.billing_cycle,
            quantity,
            parent,
            request_id,
        )
    except MicrosoftError as error:
        message = error.detail if error.code and error.detail else error.message
        with session_scope() as db:
            intents.finish(db, request_id, "failed", message)
            log_change(
                db,
                identity,
                identity.organization_id,
                "",
                product.title,
                action="purchase",
                old_quantity=0,
                new_quantity=quantity,
                effective_mode="immediately",
                effective_date=today,
                result="failed",
                message=f"{note}{message}",
                request_id=request_id,
            )
        return OrderOutcome("failed", f"Microsoft did not accept the order: {message}")
    await intents.pause_for_kill_test(intents.PURCHASE)
    new_ids = order_subscription_ids(order)
    with session_scope() as db:
        intents.finish(db, request_id)
        map_to_contract(db, contract_id, new_ids)
        seen = db.exec(
            select(ChangeLogEntry).where(
                ChangeLogEntry.organization_id == identity.organization_id,
                ChangeLogEntry.request_id == request_id,
                ChangeLogEntry.result == "succeeded",
            )
        ).first()
        if seen is None:  # a replayed request returns the same order: log it once
            log_change(
                db,
                identity,
                identity.organization_id,
                new_ids[0] if new_ids else "",
                product.title,
                action="purchase",
                old_quantity=0,
                new_quantity=quantity,
                effective_mode="immediately",
                effective_date=today,
                result="succeeded",
                request_id=request_id,
                message=f"{note}Order {order.get('id', '')}: {term.label}.",
            )
    return OrderOutcome("succeeded", f"{product.title} was ordered: {quantity} licenses.", subscription_ids=new_ids)


async def order_at_microsoft(
    customer_id: str,
    offer_id: str,
    title: str,
    term_duration: str,
    billing_cycle: str,
    quantity: int,
    parent_id: str,
    request_id: str,
) -> dict:
    """One order line at Partner Center; `request_id` makes a repeat return the same order."""
    line = {
        "offerId": offer_id,
        "quantity": quantity,
        "termDuration": term_duration,
        "billingCycle": billing_cycle,
        "friendlyName": title,
    }
    if parent_id:
        line["parentSubscriptionId"] = parent_id
    try:
        return await microsoft().partner_center.create_order(
            customer_id, [line], billing_cycle=billing_cycle, request_id=request_id
        )
    finally:  # a new subscription (even if the answer was lost): My Services and the dashboard reload
        tenant_cache.invalidate(customer_id, tenant_cache.SUBSCRIPTIONS)


def order_subscription_ids(order: dict) -> list[str]:
    return [item["subscriptionId"] for item in order.get("lineItems", []) if item.get("subscriptionId")]


def map_to_contract(db, contract_id: int, subscription_ids: list[str]) -> None:
    """New subscriptions are billed under the contract chosen when buying."""
    for sid in subscription_ids:
        if db.exec(select(ContractSubscription).where(ContractSubscription.subscription_id == sid)).first() is None:
            db.add(ContractSubscription(billing_contract_id=contract_id, subscription_id=sid))


def _schedule_purchase(
    identity: Identity,
    contract_id: int,
    product: CatalogProduct,
    term: CatalogTerm,
    quantity: int,
    start: date,
    parent_id: str,
    request_id: str,
    *,
    fingerprint: str = "",
    note: str = "",
) -> OrderOutcome:
    """A future Effective Start Date: a Future Change (0 -> quantity) the scheduler orders when due."""
    message = f"{product.title} will be ordered on {start:%Y-%m-%d}: {quantity} licenses. See Future Changes."
    with session_scope() as db:
        seen = db.exec(
            select(ScheduledChange).where(
                ScheduledChange.organization_id == identity.organization_id, ScheduledChange.request_id == request_id
            )
        ).first()
        if seen is not None:  # the same form submitted twice
            return OrderOutcome("scheduled", message)
        change = ScheduledChange(
            organization_id=identity.organization_id,
            subscription_id="",
            subscription_name=product.title[:200],
            created_by_id=identity.user_id,
            old_quantity=0,
            new_quantity=quantity,
            effective_mode="custom",
            due_date=start,
            request_id=request_id,
        )
        db.add(change)
        db.flush()
        # Remembered as a finished intent, so the same order submitted again keeps this key.
        db.add(
            Intent(
                kind=intents.PURCHASE,
                organization_id=identity.organization_id,
                actor_user_id=identity.user_id,
                actor_name=identity.display_name[:200],
                state="done",
                idempotency_key=request_id[:80],
                payload_json=json.dumps({"fingerprint": fingerprint, "scheduled_change_id": change.id}),
            )
        )
        db.add(
            ScheduledPurchase(
                scheduled_change_id=change.id,
                billing_contract_id=contract_id,
                offer_id=product.offer_id,
                term_duration=term.duration,
                billing_cycle=term.billing_cycle,
                parent_subscription_id=parent_id,
            )
        )
        log_change(
            db,
            identity,
            identity.organization_id,
            "",
            product.title,
            action="purchase",
            old_quantity=0,
            new_quantity=quantity,
            effective_mode="custom",
            effective_date=start,
            result="scheduled",
            scheduled_change_id=change.id,
            request_id=request_id,
            message=f"{note}{term.label}.",
        )
    return OrderOutcome("scheduled", message)
