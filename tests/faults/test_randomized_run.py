"""A randomized run of 200+ mixed Microsoft actions under injected faults.

Latency, 429 storms, 5xx answers and timeouts are switched on in the emulator; the actions
are the ones the portal's license and subscription screens make (assign/remove a license,
change a subscription's quantity). Properties:
- every action either completes or raises a typed MicrosoftError with a message a user can
  read, never another exception;
- a failed action leaves the target either as it was or fully changed (never a third
  state), which the next read shows; the run's ledger follows what Microsoft confirms;
- afterwards, with the faults off, the emulator agrees with the ledger everywhere, and each
  SKU's consumed seats equal the users holding it.

This run exercises the Microsoft clients alone; test_portal_records.py drives the portal's
services under the same faults and compares the portal's own records (Change Logs, Future
Changes, license audit) with the emulator.
"""

from __future__ import annotations

import asyncio
import random

from opkalla_portal.demo import demo_data
from opkalla_portal.microsoft import MicrosoftClients
from opkalla_portal.microsoft.emulator.settings import emulator_settings
from opkalla_portal.microsoft.errors import MicrosoftError
from opkalla_portal.microsoft.http import RetryPolicy

ACTIONS = 220
TENANTS = [demo_data.CUSTOMERS["lakeside"].tenant_id, demo_data.CUSTOMERS["bayview"].tenant_id]
# Graph needs the tenant's admin consent; in the demo only Bayview has granted it.
GRAPH_TENANTS = [demo_data.CUSTOMERS["bayview"].tenant_id]


async def _fast_sleep(seconds: float) -> None:
    await asyncio.sleep(min(seconds, 0.01))


async def _licenses(graph) -> dict[str, set[str]]:
    return {u["id"]: {lic["skuId"] for lic in u["assignedLicenses"]} for u in await graph.list_users()}


async def test_randomized_actions_under_faults_leave_microsoft_consistent(fresh, store):
    rng = random.Random(20261125)
    settings = emulator_settings(fresh, timeout_seconds=0.5)
    retry = RetryPolicy(max_attempts=3, sleep=_fast_sleep, rng=random.Random(1))
    outcomes = {"completed": 0, "failed": 0}
    messages: set[str] = set()
    async with MicrosoftClients(settings, retry=retry) as clients:
        # The starting point, read without faults: the run's ledger.
        licenses = {t: await _licenses(clients.graph(t)) for t in GRAPH_TENANTS}
        skus = {t: [s["skuId"] for s in await clients.graph(t).subscribed_skus()] for t in GRAPH_TENANTS}
        users = {t: [u["id"] for u in await clients.graph(t).list_users() if u["usageLocation"]] for t in GRAPH_TENANTS}
        subscriptions = {
            t: {s["id"]: s for s in await clients.partner_center.list_subscriptions(t) if s["status"] == "active"}
            for t in TENANTS
        }
        quantities = {t: {i: s["quantity"] for i, s in subs.items()} for t, subs in subscriptions.items()}

        store.set_faults(
            latency_ms=5,
            throttle_probability=0.15,
            retry_after_seconds=0.01,
            error_probability=0.1,
            error_status=503,
            timeout_probability=0.04,
            hang_seconds=1.0,
            seed=7,
        )
        for step in range(ACTIONS):
            tenant = rng.choice(TENANTS)
            if tenant in GRAPH_TENANTS and rng.random() < 0.65:
                user, sku = rng.choice(users[tenant]), rng.choice(skus[tenant])
                had = sku in licenses[tenant][user]
                graph = clients.graph(tenant)
                action = (
                    (lambda g=graph, u=user, s=sku: g.remove_license(u, s))
                    if had
                    else (lambda g=graph, u=user, s=sku: g.assign_license(u, add_sku_ids=[s]))
                )
                try:
                    await action()
                    outcomes["completed"] += 1
                    licenses[tenant][user] ^= {sku}
                except MicrosoftError as error:
                    outcomes["failed"] += 1
                    messages.add(error.message)
                    assert error.message, f"step {step}: a failure without a message"
                    store.clear_faults()
                    actual = (await _licenses(graph))[user]
                    assert actual in (licenses[tenant][user], licenses[tenant][user] ^ {sku}), f"step {step}"
                    licenses[tenant][user] = actual
                    store.set_faults(
                        latency_ms=5,
                        throttle_probability=0.15,
                        retry_after_seconds=0.01,
                        error_probability=0.1,
                        error_status=rng.choice([500, 502, 503]),
                        timeout_probability=0.04,
                        hang_seconds=1.0,
                        seed=step,
                    )
            else:
                subscription_id = rng.choice(list(quantities[tenant]))
                old = quantities[tenant][subscription_id]
                new = max(1, old + rng.choice([1, 2, 3, -1]))
                subscription = subscriptions[tenant][subscription_id]
                try:
                    updated = await clients.partner_center.change_quantity(tenant, subscription, new)
                    outcomes["completed"] += 1
                    quantities[tenant][subscription_id] = updated["quantity"]
                    subscriptions[tenant][subscription_id] = updated
                except MicrosoftError as error:
                    outcomes["failed"] += 1
                    messages.add(error.message)
                    assert error.message, f"step {step}: a failure without a message"
                    store.clear_faults()
                    current = await clients.partner_center.get_subscription(tenant, subscription_id)
                    assert current["quantity"] in (old, new), f"step {step}: {current['quantity']} not {old}/{new}"
                    quantities[tenant][subscription_id] = current["quantity"]
                    subscriptions[tenant][subscription_id] = current
                    store.set_faults(
                        latency_ms=5,
                        throttle_probability=0.15,
                        retry_after_seconds=0.01,
                        error_probability=0.1,
                        error_status=503,
                        timeout_probability=0.04,
                        hang_seconds=1.0,
                        seed=step,
                    )

        store.clear_faults()
        assert outcomes["completed"] >= 50 and outcomes["failed"] >= 5, outcomes  # the faults really bit
        for tenant in GRAPH_TENANTS:
            graph = clients.graph(tenant)
            assert await _licenses(graph) == licenses[tenant]
            for sku in await graph.subscribed_skus():
                holders = sum(1 for held in licenses[tenant].values() if sku["skuId"] in held)
                assert sku["consumedUnits"] == holders, sku["skuPartNumber"]
        for tenant in TENANTS:
            now = {
                s["id"]: s["quantity"]
                for s in await clients.partner_center.list_subscriptions(tenant)
                if s["id"] in quantities[tenant]
            }
            assert now == quantities[tenant]
    print(outcomes, sorted(messages)[:5])
