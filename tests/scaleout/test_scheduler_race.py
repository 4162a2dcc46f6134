"""The scheduler on PostgreSQL: two processes racing over the same due Future Changes apply
each exactly once, at Microsoft (the emulator counts the PATCHes) and in Change Logs."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import datetime, timedelta

import pytest
from sqlmodel import select

from opkalla_portal import clock
from opkalla_portal.demo import demo_data
from tests.scaleout.conftest import race

# Seat increases (Microsoft allows those any time) on every licence-based subscription.
TARGETS = [s for s in demo_data.SUBSCRIPTIONS if s.unit_type == "Licenses"]


class PatchCounter:
    """ASGI wrapper around the emulator: counts PATCHes by (path, MS-RequestId)."""

    def __init__(self, app) -> None:
        self.app = app
        self.patches: Counter[tuple[str, str]] = Counter()

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and scope["method"] == "PATCH":
            request_id = dict(scope["headers"]).get(b"ms-requestid", b"").decode()
            self.patches[(scope["path"], request_id)] += 1
        await self.app(scope, receive, send)


@pytest.fixture
def counted_emulator(tmp_path):
    from opkalla_portal.microsoft.emulator import EmulatorStore, build_emulator_app
    from tests.microsoft.conftest import ServerThread, free_port

    store = EmulatorStore(str(tmp_path / "emulator.db"))
    counter = PatchCounter(build_emulator_app(store))
    port = free_port()
    server = ServerThread(counter, port)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}", counter, store
    finally:
        server.stop()


def _schedule_due_changes(due: datetime) -> dict[int, tuple[str, int]]:
    """One due Future Change per target subscription; returns id -> (subscription, quantity)."""
    from opkalla_portal.db import session_scope
    from opkalla_portal.models import Organization, ScheduledChange

    changes = {}
    with session_scope() as db:
        organizations = {o.tenant_id: o.id for o in db.exec(select(Organization)).all()}
        for target in TARGETS:
            customer = demo_data.CUSTOMERS[target.customer_key]
            change = ScheduledChange(
                organization_id=organizations[customer.tenant_id],
                subscription_id=target.id,
                subscription_name=target.offer_name,
                old_quantity=target.quantity,
                new_quantity=target.quantity + 3,
                effective_mode="custom",
                due_date=due.date(),
                request_id=str(uuid.uuid4()),
            )
            db.add(change)
            db.flush()
            changes[change.id] = (target.id, change.new_quantity)
    return changes


def test_two_scheduler_processes_apply_each_due_change_exactly_once(cluster, counted_emulator):
    from opkalla_portal.db import session_scope
    from opkalla_portal.models import ChangeLogEntry, ScheduledChange

    emulator_url, counter, store = counted_emulator
    # Due three days ahead, and the racers' clock set there: the cluster's own workers
    # (whose scheduler loops run on today's clock) leave these alone.
    due = clock.now() + timedelta(days=3)
    changes = _schedule_due_changes(due)
    env = {**cluster["env"], "OPKALLA_PUBLIC_URL": emulator_url}
    reports = race("tests.scaleout.scheduler_racer", ("racer-a", "racer-b"), due.isoformat(), env=env)
    assert sum(r["applied"] for r in reports) == len(changes), reports
    assert sum(r["failed"] + r["retrying"] for r in reports) == 0, reports

    with session_scope() as db:
        rows = {c.id: c for c in db.exec(select(ScheduledChange).where(ScheduledChange.id.in_(changes))).all()}
        logged: dict[int, list[str]] = {}
        for entry in db.exec(select(ChangeLogEntry).where(ChangeLogEntry.scheduled_change_id.in_(changes))):
            logged.setdefault(entry.scheduled_change_id, []).append(entry.result)
    patches_by_request = Counter({request_id: n for (_, request_id), n in counter.patches.items()})
    for change_id, (subscription_id, quantity) in changes.items():
        change = rows[change_id]
        assert change.status == "applied", (change_id, change.status, change.last_error)
        # One Change Logs entry, and one PATCH carrying the change's own request id.
        assert logged.get(change_id) == ["succeeded"], (change_id, logged.get(change_id))
        assert patches_by_request[change.request_id] == 1, (change_id, counter.patches)
        with store.read() as tx:
            assert tx.get("subscription", subscription_id)["quantity"] == quantity
    assert sum(counter.patches.values()) == len(changes)  # nothing else was patched
