"""Intents: nothing is lost between Microsoft acting and the portal recording it.

Before an action that Microsoft carries out at once (an immediate quantity change, license
assignments, a purchase), the portal commits an Intent row: what it is about to ask, with the
request's idempotency key (unique). After Microsoft answered, the portal writes its own records
(Change Logs entry, license audit rows, contract mapping) and marks the intent done in the same
transaction. A process that dies in between leaves the intent pending; `reconcile` (at start-up
and from the scheduler loop) reads Microsoft back and writes the missing records exactly once:
each intent is finished by a conditional UPDATE pending -> done|failed in the transaction that
writes its records, so two workers reconciling at once write them once.

Reconciling only reads Microsoft: it never repeats the action (a purchase is never placed by
the reconciler). What Microsoft does not hold is recorded as not carried out.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
from datetime import UTC, datetime, timedelta

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from opkalla_portal import clock
from opkalla_portal.db import session_scope
from opkalla_portal.models import ChangeLogEntry, Intent, LicenseChange
from opkalla_portal.services.access import Identity
from opkalla_portal.services.change_logs import approval_being_applied
from opkalla_portal.services.microsoft_clients import microsoft
from opkalla_portal.services.read_back import read_back

log = logging.getLogger(__name__)

QUANTITY_CHANGE, LICENSE_ASSIGNMENT, PURCHASE = "quantity_change", "license_assignment", "purchase"
# A pending intent younger than this may still be in flight in a live worker: left alone.
GRACE = timedelta(minutes=2)
# The same order submitted again by the same user within this time (a reloaded tab, a second
# Submit after a restart) reuses the first one's idempotency key: Microsoft returns that order.
REPEAT_WINDOW = timedelta(minutes=15)
NOT_CARRIED_OUT = "Not carried out: the portal stopped before Microsoft answered, and Microsoft does not hold it."
TEST_PAUSE_ENV = "OPKALLA_TEST_PAUSE_AFTER_MICROSOFT"  # test-only: "<kind>:<seconds>"


def begin(identity: Identity, kind: str, key: str, payload: dict) -> Intent:
    """Commit the intent before calling Microsoft; the existing one if this key was seen.
    An approval being applied is noted, so a reconciled entry is linked to it too."""
    if (approval := approval_being_applied()) is not None:
        payload = {**payload, "approval_request_id": approval}
    with session_scope() as db:
        found = db.exec(select(Intent).where(Intent.idempotency_key == key)).first()
        if found is not None:
            return found
    try:
        with session_scope() as db:
            intent = Intent(
                kind=kind,
                organization_id=identity.organization_id,
                actor_user_id=identity.user_id,
                actor_name=identity.display_name[:200],
                payload_json=json.dumps(payload),
                idempotency_key=key[:80],
            )
            db.add(intent)
            db.flush()
            db.refresh(intent)
            return intent
    except IntegrityError:  # the same key committed by a concurrent submit a moment ago
        with session_scope() as db:
            return db.exec(select(Intent).where(Intent.idempotency_key == key)).one()


def finish(db, key: str, state: str = "done", note: str = "") -> bool:
    """Mark the intent done (or failed) in the caller's transaction, with the portal's records.

    False when it was no longer pending (a reconciler finished it first): the caller must then
    not write its records again."""
    return (
        db.exec(
            update(Intent)
            .where(Intent.idempotency_key == key, Intent.state == "pending")
            .values(state=state, note=note[:1000], updated_at=clock.now())
        ).rowcount
        == 1
    )


def fail(key: str, note: str) -> None:
    """Microsoft refused: nothing to reconcile."""
    with session_scope() as db:
        finish(db, key, "failed", note)


async def pause_for_kill_test(kind: str) -> None:
    """Test-only hook (tests/faults/test_intents_kill.py): when TEST_PAUSE_ENV names `kind`, wait
    here, after Microsoft answered and before the portal records it, so a test can kill the
    process inside that window. Unset in every real deployment."""
    wanted = os.environ.get(TEST_PAUSE_ENV, "")
    if wanted.partition(":")[0] == kind:
        print(f"paused-after-microsoft {kind}", flush=True)
        await asyncio.sleep(float(wanted.partition(":")[2] or "60"))


# ------------------------------------------------------------------- purchases
def order_fingerprint(identity: Identity, **order: object) -> str:
    """What makes two Submits "the same order": the user and every field of the form."""
    text = json.dumps({"user": identity.user_id, **{k: str(v) for k, v in order.items()}}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def repeated_order_key(identity: Identity, fingerprint: str, now: datetime | None = None) -> str | None:
    """The idempotency key of the same order by the same user in the last REPEAT_WINDOW, unless
    Microsoft refused it (then a new key, as Partner Center asks after a business failure)."""
    since = (now or clock.now()) - REPEAT_WINDOW
    with session_scope() as db:
        rows = db.exec(
            select(Intent)
            .where(
                Intent.kind == PURCHASE,
                Intent.organization_id == identity.organization_id,
                Intent.actor_user_id == identity.user_id,
                Intent.created_at >= since,
                Intent.state.in_(("pending", "done")),
            )
            .order_by(Intent.id.desc())
        ).all()
    for row in rows:
        if json.loads(row.payload_json or "{}").get("fingerprint") == fingerprint:
            return row.idempotency_key
    return None


# ------------------------------------------------------------------ reconciler
async def reconcile(now: datetime | None = None, grace: timedelta = GRACE) -> int:
    """Finish intents a stopped process left pending, from what Microsoft holds; returns how many."""
    cutoff = (now or clock.now()) - grace
    with session_scope() as db:
        stale = db.exec(
            select(Intent).where(Intent.state == "pending", Intent.created_at <= cutoff).order_by(Intent.id)
        ).all()
    finished = 0
    for intent in stale:
        handler = {
            QUANTITY_CHANGE: _reconcile_quantity,
            LICENSE_ASSIGNMENT: _reconcile_licenses,
            PURCHASE: _reconcile_purchase,
        }.get(intent.kind)
        if handler is None:
            continue
        try:
            finished += 1 if await handler(intent, json.loads(intent.payload_json or "{}")) else 0
        except Exception:  # one bad intent must not stop the others; it stays pending
            log.exception("reconciling intent %s failed", intent.id)
    return finished


class _Lost(Exception):
    """Another worker finished this intent first: roll back what this one wrote."""


def _tenant(intent: Intent) -> str:
    from opkalla_portal.models import Organization

    with session_scope() as db:
        return db.get(Organization, intent.organization_id).tenant_id


def _write_once(intent: Intent, state: str, note: str, write) -> bool:
    """Write the records and finish the intent in one transaction, only if still pending."""
    try:
        with session_scope() as db:
            if not finish(db, intent.idempotency_key, state, note):
                raise _Lost()
            write(db)
        return True
    except _Lost:
        return False


async def _reconcile_quantity(intent: Intent, payload: dict) -> bool:
    sub = await read_back(
        lambda: microsoft().partner_center.get_subscription(_tenant(intent), payload["subscription_id"])
    )
    if sub is None:
        return False  # Microsoft did not answer: try again on the next tick
    done = int(sub.get("quantity") or 0) == payload["new_quantity"]

    def write(db) -> None:
        seen = db.exec(
            select(ChangeLogEntry.id).where(
                ChangeLogEntry.organization_id == intent.organization_id,
                ChangeLogEntry.request_id == intent.idempotency_key,
            )
        ).first()
        if seen is None:
            db.add(
                ChangeLogEntry(
                    organization_id=intent.organization_id,
                    subscription_id=payload["subscription_id"],
                    subscription_name=payload["name"][:200],
                    actor_user_id=intent.actor_user_id,
                    actor_name=intent.actor_name,
                    old_quantity=payload["old_quantity"],
                    new_quantity=payload["new_quantity"],
                    effective_mode="immediately",
                    effective_date=datetime.fromisoformat(payload["effective_date"]).date(),
                    result="succeeded" if done else "failed",
                    request_id=intent.idempotency_key,
                    approval_request_id=payload.get("approval_request_id"),
                    message=(
                        (payload.get("note") or "")
                        + ("Recorded after the portal was interrupted." if done else NOT_CARRIED_OUT)
                    ).strip()[:1000],
                )
            )

    return _write_once(intent, "done" if done else "failed", "" if done else NOT_CARRIED_OUT, write)


async def _reconcile_licenses(intent: Intent, payload: dict) -> bool:
    graph = microsoft().graph(_tenant(intent))
    sku_id = payload["sku_id"]
    holds: dict[str, bool] = {}
    for uid, _on, _name in payload["changes"]:
        user = await read_back(lambda uid=uid: graph.get_user(uid, select=("id", "assignedLicenses")))
        if user is None:
            return False
        holds[uid] = any(str(lic.get("skuId", "")).lower() == sku_id for lic in user.get("assignedLicenses") or [])

    def write(db) -> None:
        batch = payload.get("batch_id") or intent.idempotency_key
        recorded = set(db.exec(select(LicenseChange.target_user_id).where(LicenseChange.batch_id == batch)).all())
        for uid, on, name in payload["changes"]:
            if uid in recorded:
                continue
            carried = holds[uid] == on
            db.add(
                LicenseChange(
                    organization_id=intent.organization_id,
                    actor_user_id=intent.actor_user_id,
                    actor_name=intent.actor_name,
                    target_user_id=uid,
                    target_user_name=name[:200],
                    sku_id=sku_id,
                    product_name=payload["product_name"][:200],
                    action="assign" if on else "unassign",
                    result="succeeded" if carried else "failed",
                    message="" if carried else NOT_CARRIED_OUT,
                    batch_id=batch,
                )
            )

    return _write_once(intent, "done", "", write)


async def _reconcile_purchase(intent: Intent, payload: dict) -> bool:
    """Find the order by reading the customer's orders: placed since the intent, same offer and
    quantity, its subscriptions not yet mapped to any contract. Never places an order."""
    from opkalla_portal.models import ContractSubscription
    from opkalla_portal.services import orders as order_service

    orders = await read_back(lambda: microsoft().partner_center.list_orders(_tenant(intent)))
    if orders is None:
        return False
    with session_scope() as db:
        mapped = set(db.exec(select(ContractSubscription.subscription_id)).all())
    since = intent.created_at - timedelta(minutes=1)  # clocks of portal and Microsoft differ a little
    found = None
    for order in orders:
        created = datetime.fromisoformat(str(order.get("creationDate", "")).replace("Z", "+00:00") or "1970-01-01")
        if created.tzinfo is None:
            created = created.replace(tzinfo=UTC)
        ids = order_service.order_subscription_ids(order)
        lines = order.get("lineItems") or []
        if (
            created >= since
            and ids
            and not set(ids) & mapped
            and any(
                line.get("offerId") == payload["offer_id"] and int(line.get("quantity") or 0) == payload["quantity"]
                for line in lines
            )
        ):
            found = order
            break

    def write(db) -> None:
        new_ids = order_service.order_subscription_ids(found) if found else []
        if found:
            order_service.map_to_contract(db, payload["contract_id"], new_ids)
        seen = db.exec(
            select(ChangeLogEntry.id).where(
                ChangeLogEntry.organization_id == intent.organization_id,
                ChangeLogEntry.request_id == intent.idempotency_key,
                ChangeLogEntry.result == "succeeded",
            )
        ).first()
        if seen is None:
            db.add(
                ChangeLogEntry(
                    organization_id=intent.organization_id,
                    subscription_id=new_ids[0] if new_ids else "",
                    subscription_name=payload["title"][:200],
                    actor_user_id=intent.actor_user_id,
                    actor_name=intent.actor_name,
                    action="purchase",
                    old_quantity=0,
                    new_quantity=payload["quantity"],
                    effective_mode="immediately",
                    effective_date=datetime.fromisoformat(payload["effective_date"]).date(),
                    result="succeeded" if found else "failed",
                    request_id=intent.idempotency_key,
                    approval_request_id=payload.get("approval_request_id"),
                    message=(
                        (payload.get("note") or "")
                        + (
                            f"Order {found.get('id', '')}: {payload.get('term_label', '')}. "
                            "Recorded after the portal was interrupted."
                            if found
                            else NOT_CARRIED_OUT
                        )
                    ).strip()[:1000],
                )
            )

    return _write_once(intent, "done" if found else "failed", "" if found else NOT_CARRIED_OUT, write)
