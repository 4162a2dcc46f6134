"""The scheduler applies due Future Changes exactly once: due, not due, restart, two workers, retries."""

from __future__ import annotations

import asyncio
import threading
import uuid
from datetime import datetime, timedelta

from sqlmodel import select

from opkalla_portal import clock
from opkalla_portal.db import session_scope
from opkalla_portal.demo import demo_data
from opkalla_portal.models import ChangeLogEntry, Organization, ScheduledChange
from opkalla_portal.services import quantity_change, scheduler
from tests.services_subscriptions.conftest import LUIS, identity_for

LAKESIDE = demo_data.CUSTOMERS["lakeside"]
SPB = next(s for s in demo_data.SUBSCRIPTIONS if s.customer_key == "lakeside" and s.key == "spb")


def now() -> datetime:
    return clock.now()


def schedule(new_quantity: int = 50, due_in_days: int = 0, mode: str = "custom") -> int:
    with session_scope() as db:
        org = db.exec(select(Organization).where(Organization.tenant_id == LAKESIDE.tenant_id)).one()
        change = ScheduledChange(
            organization_id=org.id,
            subscription_id=SPB.id,
            subscription_name=SPB.offer_name,
            old_quantity=45,
            new_quantity=new_quantity,
            effective_mode=mode,
            due_date=now().date() + timedelta(days=due_in_days),
            request_id=str(uuid.uuid4()),
        )
        db.add(change)
        db.flush()
        return change.id


def change(change_id: int) -> ScheduledChange:
    with session_scope() as db:
        return db.get(ScheduledChange, change_id)


def log_results(change_id: int) -> list[str]:
    with session_scope() as db:
        return [
            e.result
            for e in db.exec(select(ChangeLogEntry).where(ChangeLogEntry.scheduled_change_id == change_id)).all()
        ]


async def quantity(ms) -> int:
    return (await ms.partner_center.get_subscription(LAKESIDE.tenant_id, SPB.id))["quantity"]


async def test_due_change_is_applied_and_logged(ms):
    cid = schedule(50)
    report = await scheduler.run_due_changes("worker-a")
    assert report.applied == 1
    assert change(cid).status == "applied" and await quantity(ms) == 50
    assert log_results(cid) == ["succeeded"]
    assert await scheduler.run_due_changes("worker-a") == scheduler.RunReport()  # never twice


async def test_change_not_due_is_left_alone(ms):
    cid = schedule(50, due_in_days=1)
    assert (await scheduler.run_due_changes("worker-a")).applied == 0
    assert change(cid).status == "pending" and await quantity(ms) == 45


async def test_crashed_worker_lease_is_reclaimed_after_expiry(ms):
    cid = schedule(50)
    [claimed] = scheduler.claim_due("crashed-worker", now())  # claims, then "crashes" before applying
    assert claimed.id == cid and change(cid).status == "applying"
    assert (await scheduler.run_due_changes("worker-b", now())).applied == 0  # lease still held
    later = now() + scheduler.LEASE + timedelta(seconds=1)
    assert (await scheduler.run_due_changes("worker-b", later)).applied == 1
    assert change(cid).status == "applied" and log_results(cid) == ["succeeded"]
    # The crashed worker coming back cannot record a second outcome.
    assert scheduler._finish(claimed, "crashed-worker", now(), status="applied", result="succeeded") is False
    assert log_results(cid) == ["succeeded"]


async def test_crash_after_applying_does_not_apply_twice(ms):
    cid = schedule(50)
    [claimed] = scheduler.claim_due("crashed-worker", now())
    await scheduler._apply(claimed, now())  # applied at Microsoft, then the worker died before recording
    later = now() + scheduler.LEASE + timedelta(seconds=1)
    assert (await scheduler.run_due_changes("worker-b", later)).applied == 1
    assert await quantity(ms) == 50 and log_results(cid) == ["succeeded"]
    entry = next(iter(_entries(cid)))
    assert entry.old_quantity == 50  # it saw the change already made and did not repeat it


def _entries(cid):
    with session_scope() as db:
        return db.exec(select(ChangeLogEntry).where(ChangeLogEntry.scheduled_change_id == cid)).all()


async def test_two_workers_racing_claim_each_change_once(ms):
    ids = [schedule(50 + n) for n in range(12)]
    claims: dict[str, list[int]] = {}
    barrier = threading.Barrier(2)

    def worker(name: str) -> None:
        barrier.wait()
        claims[name] = [c.id for c in scheduler.claim_due(name, now(), limit=50)]

    threads = [threading.Thread(target=worker, args=(name,)) for name in ("w1", "w2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(claims["w1"] + claims["w2"]) == sorted(ids)
    assert not set(claims["w1"]) & set(claims["w2"])


async def test_two_workers_running_concurrently_apply_once(ms, monkeypatch, emulator_server):
    monkeypatch.setenv("OPKALLA_PUBLIC_URL", emulator_server)  # each thread's own clients reach the emulator
    cid = schedule(52)
    reports = []

    def worker(name: str) -> None:
        reports.append(asyncio.run(scheduler.run_due_changes(name)))

    threads = [threading.Thread(target=worker, args=(name,)) for name in ("w1", "w2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r.applied for r in reports) == 1
    assert log_results(cid) == ["succeeded"] and await quantity(ms) == 52


async def test_transient_failure_is_retried_then_succeeds(ms, emulator_store):
    cid = schedule(50)
    emulator_store.set_faults(error_probability=1.0, error_status=503, services=["partner_center"], seed=1)
    report = await scheduler.run_due_changes("worker-a")
    assert report.retrying == 1
    waiting = change(cid)
    assert waiting.status == "applying" and waiting.last_error and log_results(cid) == []
    assert (await scheduler.run_due_changes("worker-a")).retrying == 0  # backing off: not claimed yet
    emulator_store.clear_faults()
    later = now() + timedelta(minutes=2)
    assert (await scheduler.run_due_changes("worker-a", later)).applied == 1
    assert change(cid).status == "applied" and log_results(cid) == ["succeeded"]


async def test_transient_failures_give_up_after_max_attempts(ms, emulator_store):
    cid = schedule(50)
    emulator_store.set_faults(error_probability=1.0, error_status=503, services=["partner_center"], seed=1)
    moment = now()
    for _ in range(scheduler.MAX_ATTEMPTS):
        await scheduler.run_due_changes("worker-a", moment)
        moment += timedelta(hours=1)
    emulator_store.clear_faults()
    assert change(cid).status == "failed" and log_results(cid) == ["failed"]
    assert [c.id for c in quantity_change.future_changes(identity_for(LUIS))] == [cid]  # shown, not dropped


async def test_permanent_failure_is_recorded_and_shown(ms):
    cid = schedule(40)  # a decrease outside the New Commerce window: Microsoft refuses
    report = await scheduler.run_due_changes("worker-a")
    assert report.failed == 1
    failed = change(cid)
    assert failed.status == "failed" and "168 hours" in failed.last_error
    assert log_results(cid) == ["failed"]
    [shown] = quantity_change.future_changes(identity_for(LUIS))
    assert shown.id == cid and shown.status == "failed"
    await quantity_change.cancel_future_change(identity_for(LUIS), cid)  # the user can dismiss it
    assert quantity_change.future_changes(identity_for(LUIS)) == []


async def test_renewal_change_waits_for_microsoft_renewal(ms):
    cid = schedule(40, mode="on_renewal")
    report = await scheduler.run_due_changes("worker-a")
    assert report.waiting == 1 and change(cid).status == "pending" and log_results(cid) == []
