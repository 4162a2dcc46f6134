"""Applies due Future Changes exactly once, however many backend workers run it.

Each due change is claimed with a conditional UPDATE (pending -> applying, with a lease
owner and expiry) checked by rowcount, so only one worker wins it. A worker that crashes
leaves an expired lease, which any worker may claim again; the change's own request id is
sent as MS-RequestId and the quantity is absolute, so applying it a second time changes
nothing. Transient Microsoft failures release the change with a back-off (the lease expiry
doubles as "not before"); permanent failures mark it failed. Every outcome is logged.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import and_, or_, update
from sqlmodel import select

from opkalla_portal import clock
from opkalla_portal.db import session_scope
from opkalla_portal.microsoft.errors import ConflictError, MicrosoftError, ThrottledError, UnavailableError
from opkalla_portal.models import ChangeLogEntry, Organization, ScheduledChange, ScheduledPurchase
from opkalla_portal.services import orders
from opkalla_portal.services.microsoft_clients import microsoft
from opkalla_portal.services.quantity_change import patch_quantity, resume_interrupted

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)
MAX_ATTEMPTS = 5
BACKOFF_BASE = timedelta(seconds=30)
INTERVAL_SECONDS = float(os.environ.get("OPKALLA_SCHEDULER_INTERVAL", "30"))
REMINDER_INTERVAL_SECONDS = float(os.environ.get("OPKALLA_REMINDER_INTERVAL", "3600"))
# How often to look for a newly closed billing period (issue 17); Microsoft invoices monthly.
BILLING_RUN_INTERVAL_SECONDS = float(os.environ.get("OPKALLA_BILLING_RUN_INTERVAL", "3600"))
TRANSIENT = (UnavailableError, ThrottledError, ConflictError)


class NotYet(Exception):
    """A renewal change whose renewal has not happened at Microsoft yet."""


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _utc(moment: datetime) -> datetime:
    """Every timestamp column holds UTC."""
    return moment.astimezone(UTC)


def claim_due(worker: str, now: datetime, limit: int = 20) -> list[ScheduledChange]:
    """Claim due changes for `worker`: pending ones due today or earlier, and expired leases."""
    today: date = now.astimezone(UTC).date()
    claimable = or_(
        and_(ScheduledChange.status == "pending", ScheduledChange.due_date <= today),
        and_(ScheduledChange.status == "applying", ScheduledChange.lease_expires_at < _utc(now)),
    )
    claimed: list[ScheduledChange] = []
    with session_scope() as db:
        candidates = db.exec(
            select(ScheduledChange.id).where(claimable).order_by(ScheduledChange.due_date).limit(limit)
        ).all()
    for change_id in candidates:
        with session_scope() as db:
            won = db.exec(
                update(ScheduledChange)
                .where(ScheduledChange.id == change_id, claimable)
                .values(
                    status="applying",
                    lease_owner=worker,
                    lease_expires_at=_utc(now + LEASE),
                    attempts=ScheduledChange.attempts + 1,
                )
            ).rowcount
            if won == 1:
                claimed.append(db.get(ScheduledChange, change_id))
    return claimed


@dataclass
class RunReport:
    applied: int = 0
    retrying: int = 0
    failed: int = 0
    waiting: int = 0


@dataclass
class Applied:
    before: int  # the quantity found at Microsoft before applying
    subscription_id: str
    action: str = "quantity_change"
    message: str = ""


def _finish(
    change: ScheduledChange,
    worker: str,
    now: datetime,
    *,
    status: str,
    result: str | None,
    message: str = "",
    lease_until: datetime | None = None,
    applied: Applied | None = None,
) -> bool:
    """Record the outcome if this worker still holds the lease; log it in the same transaction."""
    with session_scope() as db:
        values = dict(
            status=status,
            last_error=message[:1000],
            lease_owner=None,
            lease_expires_at=_utc(lease_until) if lease_until else None,
        )
        if status == "applied":
            values["applied_at"] = _utc(now)
        done = db.exec(
            update(ScheduledChange)
            .where(
                ScheduledChange.id == change.id,
                ScheduledChange.status == "applying",
                ScheduledChange.lease_owner == worker,
            )
            .values(**values)
        ).rowcount
        if done == 1 and result:
            purchase = (
                db.exec(select(ScheduledPurchase.id).where(ScheduledPurchase.scheduled_change_id == change.id)).first()
                is not None
            )
            db.add(
                ChangeLogEntry(
                    organization_id=change.organization_id,
                    subscription_id=applied.subscription_id if applied else change.subscription_id,
                    subscription_name=change.subscription_name,
                    actor_name="Scheduler",
                    action="purchase" if purchase else "quantity_change",
                    old_quantity=change.old_quantity if applied is None else applied.before,
                    new_quantity=change.new_quantity,
                    effective_mode=change.effective_mode,
                    effective_date=change.due_date,
                    result=result,
                    message=message[:1000],
                    scheduled_change_id=change.id,
                    request_id=change.request_id,
                )
            )
        return done == 1


async def _apply(change: ScheduledChange, now: datetime) -> Applied:
    """Make Microsoft's quantity equal the change's (or place the scheduled order)."""
    with session_scope() as db:
        organization = db.get(Organization, change.organization_id)
        purchase = db.exec(select(ScheduledPurchase).where(ScheduledPurchase.scheduled_change_id == change.id)).first()
    tenant = organization.tenant_id
    if purchase is not None:
        # The change's request id is the order's MS-RequestId: re-ordering returns the same order.
        order = await orders.order_at_microsoft(
            tenant,
            purchase.offer_id,
            change.subscription_name,
            purchase.term_duration,
            purchase.billing_cycle,
            change.new_quantity,
            purchase.parent_subscription_id,
            change.request_id,
        )
        new_ids = orders.order_subscription_ids(order)
        with session_scope() as db:
            orders.map_to_contract(db, purchase.billing_contract_id, new_ids)
        return Applied(0, new_ids[0] if new_ids else "", "purchase", f"Order {order.get('id', '')}.")
    sub = await microsoft().partner_center.get_subscription(tenant, change.subscription_id)
    before = int(sub.get("quantity") or 0)
    if before == change.new_quantity:
        return Applied(before, sub["id"])  # already applied (by Microsoft at renewal, or before a crash)
    if change.effective_mode == "on_renewal":
        started = datetime.fromisoformat(str(sub.get("effectiveStartDate", "")).replace("Z", "+00:00"))
        if started.date() < change.due_date:
            raise NotYet()
    await patch_quantity(tenant, sub, change.new_quantity, change.request_id)
    return Applied(before, sub["id"])


async def run_due_changes(worker: str | None = None, now: datetime | None = None) -> RunReport:
    """Claim and apply every due change once; the scheduler loop calls this periodically."""
    worker = worker or worker_name()
    now = now or clock.now()
    report = RunReport()
    for change in claim_due(worker, now):
        try:
            applied = await _apply(change, now)
        except NotYet:
            _finish(
                change,
                worker,
                now,
                status="pending",
                result=None,
                message="Waiting for Microsoft to renew the subscription.",
            )
            report.waiting += 1
        except TRANSIENT as error:
            if change.attempts >= MAX_ATTEMPTS:
                _finish(
                    change,
                    worker,
                    now,
                    status="failed",
                    result="failed",
                    message=f"{error.message} (gave up after {change.attempts} attempts)",
                )
                report.failed += 1
            else:  # back off: the lease expiry doubles as the earliest next attempt
                wait = BACKOFF_BASE * (2 ** (change.attempts - 1))
                _finish(
                    change, worker, now, status="applying", result=None, message=error.message, lease_until=now + wait
                )
                report.retrying += 1
        except MicrosoftError as error:
            message = error.detail if error.code and error.detail else error.message
            _finish(change, worker, now, status="failed", result="failed", message=message)
            report.failed += 1
        except Exception as error:  # a bug must not kill the loop nor drop the change
            log.exception("scheduled change %s failed", change.id)
            _finish(
                change,
                worker,
                now,
                status="failed",
                result="failed",
                message=f"The portal could not apply this change ({error.__class__.__name__}).",
            )
            report.failed += 1
        else:
            _finish(change, worker, now, status="applied", result="succeeded", applied=applied, message=applied.message)
            report.applied += 1
    return report


async def scheduler_loop() -> None:
    """Lifespan task: apply due changes (finish interrupted approvals, reconcile unfinished intents,
    send the outbox) every INTERVAL_SECONDS, send renewal reminders every
    REMINDER_INTERVAL_SECONDS and, every BILLING_RUN_INTERVAL_SECONDS, start the billing run of a
    billing period Microsoft has closed (as drafts), until the app stops."""
    from opkalla_portal.services.billing_run import bill_closed_period
    from opkalla_portal.services.intents import reconcile as reconcile_intents
    from opkalla_portal.services.mail import send_outbox
    from opkalla_portal.services.reminders import run_renewal_reminders

    worker = worker_name()
    await asyncio.sleep(min(INTERVAL_SECONDS, 10))  # let the server (and the demo emulator) come up
    next_reminders = next_billing = 0.0
    while True:
        try:
            await run_due_changes(worker)
        except Exception:  # keep the loop alive; the next tick tries again
            log.exception("scheduler tick failed")
        try:
            await resume_interrupted()  # approvals a stopped worker left half done
        except Exception:
            log.exception("resuming interrupted approvals failed")
        try:  # the first tick runs at start-up: what a killed process left between Microsoft and us
            await reconcile_intents()
        except Exception:
            log.exception("reconciling intents failed")
        try:
            await send_outbox(worker)  # mail is sent here, after the changes that queued it committed
        except Exception:
            log.exception("sending the outbox failed")
        # Reminders are exactly-once by their unique key, so every worker may run them.
        if time.monotonic() >= next_reminders:
            next_reminders = time.monotonic() + REMINDER_INTERVAL_SECONDS
            try:
                await run_renewal_reminders()
            except Exception:
                log.exception("renewal reminders failed")
        # Once across workers: the run's period is unique and its lease lets one worker run it.
        if time.monotonic() >= next_billing:
            next_billing = time.monotonic() + BILLING_RUN_INTERVAL_SECONDS
            try:
                run_id = await bill_closed_period(microsoft(), worker=worker)
                if run_id is not None:
                    log.info("billing run %s (the closed period) worked on; its drafts await review", run_id)
            except Exception:
                log.exception("the billing run of the closed period failed")
        await asyncio.sleep(INTERVAL_SECONDS)
