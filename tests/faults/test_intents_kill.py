"""Issue 15 item 3: nothing is lost between Microsoft acting and the portal recording it.

For each of the three actions Microsoft carries out at once — an immediate quantity change,
license assignments, a purchase — a real portal process (tests/faults/intent_runner.py, the
service path over HTTP to the emulator) is killed with SIGKILL after Microsoft answered and
before the portal wrote its records. A new process (the restart) reconciles, and the portal's
records are checked: the Change Logs entry, the three license audit rows, the contract mapping
(so My Services shows the purchase), each written exactly once; and submitting the same order
again from a reloaded tab (a new form key) does not buy a second time.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import pytest_asyncio
from sqlmodel import select

from opkalla_portal import clock
from opkalla_portal.db import session_scope
from opkalla_portal.demo import demo_data
from opkalla_portal.microsoft import MicrosoftClients
from opkalla_portal.microsoft.emulator.settings import emulator_settings
from opkalla_portal.models import ChangeLogEntry, ContractSubscription, Intent, LicenseChange
from opkalla_portal.services import intents, orders, subscriptions
from opkalla_portal.services.catalog import load_catalog, search_catalog
from tests.licenses.conftest import LUIS, identity_for

ROOT = Path(__file__).resolve().parents[2]
COPILOT = next(s for s in demo_data.SUBSCRIPTIONS if s.customer_key == "lakeside" and s.key == "copilot")
LAKESIDE = demo_data.CUSTOMERS["lakeside"].tenant_id
BAYVIEW = demo_data.CUSTOMERS["bayview"].tenant_id
BUSINESS_STANDARD = "f245ecc8-75af-4f8e-b61f-27d8114de5f3"


@pytest_asyncio.fixture
async def ms(seeded, fresh):
    """The test process's own `microsoft()` on the same emulator (to read what Microsoft holds)."""
    from opkalla_portal.services.microsoft_clients import use_clients

    async with MicrosoftClients(emulator_settings(fresh)) as clients:
        use_clients(clients)
        yield clients


def _env(emulator_url: str, pause: str | None = None) -> dict:
    env = {**os.environ, "OPKALLA_DEMO": "1", "OPKALLA_PUBLIC_URL": emulator_url}
    env.pop(intents.TEST_PAUSE_ENV, None)
    if pause:
        env[intents.TEST_PAUSE_ENV] = f"{pause}:120"
    return env


def kill_inside_the_window(emulator_url: str, kind: str, *args: str) -> list[str]:
    """Run the action in a new process, SIGKILL it once it reports it is paused after Microsoft
    answered; returns what it printed before."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.faults.intent_runner", *args],
        cwd=ROOT,
        env=_env(emulator_url, kind),
        stdout=subprocess.PIPE,
        text=True,
    )
    watchdog = threading.Timer(90, process.kill)  # never hang the suite if it does not pause
    watchdog.start()
    lines: list[str] = []
    try:
        for line in process.stdout:
            lines.append(line.strip())
            if line.startswith(f"paused-after-microsoft {kind}"):
                os.kill(process.pid, signal.SIGKILL)
                break
    finally:
        watchdog.cancel()
        process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL, lines
    assert lines and lines[-1].startswith("paused-after-microsoft"), lines
    return lines


def restart_and_reconcile(emulator_url: str) -> int:
    done = subprocess.run(
        [sys.executable, "-m", "tests.faults.intent_runner", "reconcile"],
        cwd=ROOT,
        env=_env(emulator_url),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return int(done.stdout.strip().splitlines()[-1].split()[-1])


def pending_intents(kind: str) -> list[Intent]:
    with session_scope() as db:
        return list(db.exec(select(Intent).where(Intent.kind == kind, Intent.state == "pending")).all())


async def test_killed_after_an_immediate_change_the_change_log_entry_is_written_once(ms, fresh):
    kill_inside_the_window(fresh, intents.QUANTITY_CHANGE, "quantity")
    assert (await ms.partner_center.get_subscription(LAKESIDE, COPILOT.id))["quantity"] == 8  # Microsoft did it
    with session_scope() as db:
        assert db.exec(select(ChangeLogEntry).where(ChangeLogEntry.subscription_id == COPILOT.id)).all() == []
    assert len(pending_intents(intents.QUANTITY_CHANGE)) == 1

    assert restart_and_reconcile(fresh) == 1
    assert restart_and_reconcile(fresh) == 0  # exactly once
    with session_scope() as db:
        [entry] = db.exec(select(ChangeLogEntry).where(ChangeLogEntry.subscription_id == COPILOT.id)).all()
    assert (entry.old_quantity, entry.new_quantity, entry.result, entry.actor_name) == (
        5,
        8,
        "succeeded",
        "Luis Ortega",
    )
    assert pending_intents(intents.QUANTITY_CHANGE) == []


async def test_killed_after_three_license_assignments_the_audit_rows_are_written_once(ms, fresh):
    lines = kill_inside_the_window(fresh, intents.LICENSE_ASSIGNMENT, "licenses")
    chosen = next(line for line in lines if line.startswith("users ")).split()[1].split(",")
    assert len(chosen) == 3
    graph = ms.graph(BAYVIEW)
    for uid in chosen:  # at Microsoft
        user = await graph.get_user(uid, select=("id", "assignedLicenses"))
        assert BUSINESS_STANDARD in {lic["skuId"] for lic in user["assignedLicenses"]}
    with session_scope() as db:
        assert db.exec(select(LicenseChange)).all() == []

    assert restart_and_reconcile(fresh) == 1
    assert restart_and_reconcile(fresh) == 0
    with session_scope() as db:
        rows = db.exec(select(LicenseChange)).all()
    assert sorted(r.target_user_id for r in rows) == sorted(chosen)
    assert {(r.action, r.result, r.sku_id, r.actor_name) for r in rows} == {
        ("assign", "succeeded", BUSINESS_STANDARD, "Tom Becker")
    }


async def test_killed_after_a_purchase_it_is_mapped_and_a_second_submit_does_not_buy_again(ms, fresh):
    before = len(await ms.partner_center.list_orders(LAKESIDE))
    kill_inside_the_window(fresh, intents.PURCHASE, "purchase", str(uuid.uuid4()))
    placed = await ms.partner_center.list_orders(LAKESIDE)
    assert len(placed) == before + 1
    new_ids = orders.order_subscription_ids(placed[-1])
    with session_scope() as db:
        linked = ContractSubscription.subscription_id.in_(new_ids)
        assert db.exec(select(ContractSubscription).where(linked)).all() == []

    assert restart_and_reconcile(fresh) == 1
    assert restart_and_reconcile(fresh) == 0
    luis = identity_for(LUIS)
    contract = next(c.id for c in subscriptions.billing_contracts(luis) if "LDP-2026-002" in c.label)
    lines = await subscriptions.contract_subscriptions(luis, contract)  # My Services shows it
    [visio] = search_catalog(luis, await load_catalog(), "visio plan 1")
    assert sum(line.name == visio.title and line.quantity == 3 for line in lines) == 1

    # The tab reloaded after the restart: its Submit carries a new key, the order is the same.
    again = await orders.place_order(
        luis,
        contract_id=contract,
        offer_id=visio.offer_id,
        term_key="P1Y:monthly",
        quantity_text="3",
        start_text=clock.today().isoformat(),
        parent_id="",
        request_id=str(uuid.uuid4()),
    )
    assert again.status == "succeeded" and again.subscription_ids == new_ids
    assert len(await ms.partner_center.list_orders(LAKESIDE)) == before + 1
    with session_scope() as db:
        logged = db.exec(
            select(ChangeLogEntry).where(ChangeLogEntry.action == "purchase", ChangeLogEntry.result == "succeeded")
        ).all()
    assert len(logged) == 1 and logged[0].subscription_id == new_ids[0]
