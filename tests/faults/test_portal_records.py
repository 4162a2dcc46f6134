"""The portal's own records agree with Microsoft after 200+ randomized actions under faults.

The actions are the portal's services, as the My Services, Subscription Edit, Future
Changes and Manage Licenses screens call them, for two customers: immediate, custom-dated
and on-renewal quantity changes, cancelling Future Changes, scheduler ticks, and license
assignments/removals. The emulator injects latency, 429 storms, 5xx answers and timeouts
(a timed-out request may still be carried out a moment later, as at Microsoft).

Properties:
- every action completes or fails with a message a user can read (a PortalError, or a
  MicrosoftError where a service does not translate it yet), never another exception;
- afterwards, faults off and the scheduler caught up, the portal's records agree with the
  emulator: each subscription's quantity is the last quantity Change Logs report as
  succeeded (or the seed's); the renewal quantity Microsoft holds is the one of the
  newest open On Renewal Future Change; no due Future Change is left pending; each user's
  licenses are what the license audit's last succeeded change says (or the seed's), and
  each product's consumed seats equal the users holding it.
"""

from __future__ import annotations

import asyncio
import os
import random
from datetime import timedelta

import pytest_asyncio
from sqlmodel import select

from opkalla_portal import clock
from opkalla_portal.db import session_scope
from opkalla_portal.demo import demo_data
from opkalla_portal.microsoft import MicrosoftClients
from opkalla_portal.microsoft.emulator.settings import emulator_settings
from opkalla_portal.microsoft.errors import MicrosoftError
from opkalla_portal.microsoft.http import RetryPolicy
from opkalla_portal.models import ChangeLogEntry, LicenseChange, ScheduledChange
from opkalla_portal.services import licenses, quantity_change, scheduler, subscriptions
from opkalla_portal.services.errors import PortalError
from tests.licenses.conftest import LUIS, TOM, identity_for

ACTIONS = 220
SEED = int(os.environ.get("OPKALLA_FAULT_SEED", "20261125"))  # another seed explores other interleavings
EXPECTED_FAILURES = (PortalError, MicrosoftError)
SUBSCRIPTIONS = [s for s in demo_data.SUBSCRIPTIONS if s.unit_type == "Licenses"]
PERSONA = {"lakeside": LUIS, "bayview": TOM}  # Subscription Manager; Administrator (the consented tenant)
FAULTS = dict(
    latency_ms=5,
    throttle_probability=0.15,
    retry_after_seconds=0.01,
    error_probability=0.1,
    timeout_probability=0.04,
    lost_response_probability=0.04,
    hang_seconds=0.8,
)


async def _fast_sleep(seconds: float) -> None:
    await asyncio.sleep(min(seconds, 0.01))


@pytest_asyncio.fixture
async def faulty_ms(seeded, fresh):
    """The portal's `microsoft()` on the emulator with a short timeout and quick retries."""
    from opkalla_portal.services.microsoft_clients import use_clients

    settings = emulator_settings(fresh, timeout_seconds=0.4)
    async with MicrosoftClients(
        settings, retry=RetryPolicy(max_attempts=3, sleep=_fast_sleep, rng=random.Random(1))
    ) as clients:
        use_clients(clients)
        yield clients


class Run:
    """The randomized run: picks actions, performs them through the services, tallies outcomes."""

    def __init__(self, rng: random.Random, store) -> None:
        self.rng, self.store = rng, store
        self.clock = clock.now()
        self.outcomes: dict[str, int] = {}
        self.messages: set[str] = set()

    def tally(self, kind: str, message: str = "") -> None:
        self.outcomes[kind] = self.outcomes.get(kind, 0) + 1
        if kind != "completed":
            assert message.strip(), f"a {kind} outcome without a message"
            self.messages.add(message)

    async def perform(self, action) -> None:
        try:
            result = await action()
        except EXPECTED_FAILURES as error:
            self.tally("failed", str(getattr(error, "message", "") or error))
            return
        if isinstance(result, subscriptions.ChangeOutcome):  # Subscription Edit's answer
            self.tally("completed" if result.status in ("succeeded", "scheduled") else "refused", result.message)
        elif isinstance(result, licenses.SubmitOutcome):  # Manage Licenses: per-user results
            for failure in result.failures:
                self.tally("failed", failure.reason)
            self.tally("completed") if result.succeeded else None
        else:
            self.tally("completed")

    async def change_quantity(self) -> None:
        target = self.rng.choice(SUBSCRIPTIONS)
        identity = identity_for(PERSONA[target.customer_key])
        mode = self.rng.choices(["immediately", "custom", "on_renewal"], [6, 2, 2])[0]

        async def act():
            current = await subscriptions.load_subscription(identity, target.id)  # the page opens
            quantity = max(1, current.quantity + self.rng.choice([1, 2, 3, -1]))
            return await quantity_change.submit_change(
                identity, target.id, str(quantity), mode, self.clock.date().isoformat(), current.etag
            )

        await self.perform(act)

    async def cancel_future_change(self) -> None:
        with session_scope() as db:
            open_ids = db.exec(select(ScheduledChange.id).where(ScheduledChange.status == "pending")).all()
        if not open_ids:
            return await self.change_quantity()
        change_id = self.rng.choice(open_ids)
        with session_scope() as db:
            organization_id = db.get(ScheduledChange, change_id).organization_id
        persona = LUIS if organization_id == identity_for(LUIS).organization_id else TOM
        await self.perform(lambda: quantity_change.cancel_future_change(identity_for(persona), change_id))

    async def scheduler_tick(self) -> None:
        self.clock += timedelta(minutes=20)  # past the back-off of earlier transient failures
        await scheduler.run_due_changes("fault-run", self.clock)
        self.tally("completed")

    async def toggle_licenses(self) -> None:
        tom = identity_for(TOM)

        async def act():
            products = await licenses.list_products(tom)
            product = self.rng.choice(products)
            directory = {u.id: u for u in await licenses.list_directory(tom)}
            chosen = self.rng.sample(sorted(directory), k=self.rng.randint(1, 3))
            pending = {uid: not directory[uid].holds(product.sku_id) for uid in chosen if directory[uid].usage_location}
            return await licenses.apply_changes(tom, sku_id=product.sku_id, pending=pending, users=directory)

        await self.perform(act)


async def _settle(store, run: Run) -> None:
    """Faults off, hung requests finished, the scheduler caught up with every due change."""
    store.clear_faults()
    await asyncio.sleep(FAULTS["hang_seconds"] + 0.5)
    for _ in range(scheduler.MAX_ATTEMPTS + 1):
        run.clock += timedelta(hours=1)
        await scheduler.run_due_changes("fault-run", run.clock)


def _expected_quantities() -> dict[str, int]:
    """Per subscription: the last quantity Change Logs report as succeeded, else the seed's."""
    expected = {s.id: s.quantity for s in SUBSCRIPTIONS}
    with session_scope() as db:
        for entry in db.exec(
            select(ChangeLogEntry)
            .where(ChangeLogEntry.result == "succeeded", ChangeLogEntry.action == "quantity_change")
            .order_by(ChangeLogEntry.id)
        ).all():
            expected[entry.subscription_id] = entry.new_quantity
    return expected


def _history(subscription_id: str) -> list[tuple]:
    """A subscription's Change Logs, for a failure message."""
    with session_scope() as db:
        return [
            (e.id, e.effective_mode, e.old_quantity, e.new_quantity, e.result, e.message[:60])
            for e in db.exec(
                select(ChangeLogEntry)
                .where(ChangeLogEntry.subscription_id == subscription_id)
                .order_by(ChangeLogEntry.id)
            ).all()
        ]


def _license_history(user_id: str) -> list[tuple]:
    with session_scope() as db:
        return [
            (e.id, e.sku_id[:8], e.action, e.result, e.message[:50])
            for e in db.exec(
                select(LicenseChange).where(LicenseChange.target_user_id == user_id).order_by(LicenseChange.id)
            ).all()
        ]


def _expected_licenses(seed: dict[str, set[str]]) -> dict[str, set[str]]:
    """Per user: the seed's licenses with the audit's succeeded changes applied in order."""
    expected = {uid: set(skus) for uid, skus in seed.items()}
    with session_scope() as db:
        for entry in db.exec(
            select(LicenseChange).where(LicenseChange.result == "succeeded").order_by(LicenseChange.id)
        ).all():
            (
                expected[entry.target_user_id].add
                if entry.action == "assign"
                else expected[entry.target_user_id].discard
            )(entry.sku_id)
    return expected


async def _graph_licenses(clients) -> dict[str, set[str]]:
    graph = clients.graph(demo_data.CUSTOMERS["bayview"].tenant_id)
    return {u["id"]: {lic["skuId"].lower() for lic in u["assignedLicenses"]} for u in await graph.list_users()}


async def test_portal_records_agree_with_microsoft_after_randomized_faults(faulty_ms, store):
    seed_licenses = await _graph_licenses(faulty_ms)
    run = Run(random.Random(SEED), store)
    actions = [
        (run.change_quantity, 45),
        (run.cancel_future_change, 8),
        (run.scheduler_tick, 12),
        (run.toggle_licenses, 35),
    ]
    for step in range(ACTIONS):
        store.set_faults(**FAULTS, error_status=run.rng.choice([500, 502, 503]), seed=step)
        action = run.rng.choices([a for a, _ in actions], [w for _, w in actions])[0]
        await action()
    await _settle(store, run)
    assert run.outcomes.get("completed", 0) >= 60 and run.outcomes.get("failed", 0) >= 10, run.outcomes

    pc = faulty_ms.partner_center
    microsoft_subscriptions = {}
    for customer in ("lakeside", "bayview"):
        for sub in await pc.list_subscriptions(demo_data.CUSTOMERS[customer].tenant_id):
            microsoft_subscriptions[sub["id"]] = sub
    # Change Logs: each quantity at Microsoft is the last one logged as succeeded.
    expected = _expected_quantities()
    actual = {sid: microsoft_subscriptions[sid]["quantity"] for sid in expected}
    assert actual == expected, [
        (sid, actual[sid], expected[sid], _history(sid)) for sid in expected if actual[sid] != expected[sid]
    ]

    # Future Changes: nothing due is left pending; Microsoft's renewal quantity is the newest
    # open On Renewal change's (and there is none Microsoft does not know).
    with session_scope() as db:
        open_changes = db.exec(
            select(ScheduledChange)
            .where(ScheduledChange.status.in_(("pending", "applying")))
            .order_by(ScheduledChange.id)
        ).all()
    assert [c.id for c in open_changes if c.effective_mode == "custom"] == []
    renewals = {c.subscription_id: c.new_quantity for c in open_changes if c.effective_mode == "on_renewal"}
    for sid in expected:
        instruction = (microsoft_subscriptions[sid].get("scheduledNextTermInstructions") or {}).get("quantity")
        if instruction is not None:
            assert renewals.get(sid) == instruction, (sid, instruction, renewals.get(sid))

    # License audit: each user's licenses are what its succeeded entries say; seats add up.
    graph_now = await _graph_licenses(faulty_ms)
    audit = _expected_licenses(seed_licenses)
    assert graph_now == audit, [
        (uid, graph_now[uid], audit[uid], _license_history(uid)) for uid in audit if graph_now[uid] != audit[uid]
    ]
    graph = faulty_ms.graph(demo_data.CUSTOMERS["bayview"].tenant_id)
    for sku in await graph.subscribed_skus():
        holders = sum(1 for held in graph_now.values() if sku["skuId"].lower() in held)
        assert sku["consumedUnits"] == holders, sku["skuPartNumber"]
    print(run.outcomes, sorted(run.messages)[:8])
