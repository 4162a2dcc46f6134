"""One portal process for the kill test (tests/faults/test_intents_kill.py).

    python -m tests.faults.intent_runner ACTION [REQUEST_ID]

ACTION is one of:
- quantity: Luis Ortega changes Microsoft 365 Copilot from 5 to 8 licenses, Immediately;
- licenses: Tom Becker assigns Microsoft 365 Business Standard to three users;
- purchase: Luis Ortega buys 3 x Visio Plan 1 on contract LDP-2026-002 (the form's key REQUEST_ID);
- reconcile: what a restarted portal does first: reconcile unfinished intents (grace 0, since
  the killed process is known to be dead), and print how many it finished.

Each action runs the portal's own service path against the emulator over HTTP (demo mode,
OPKALLA_PUBLIC_URL) and the database in DATABASE_URL. With OPKALLA_TEST_PAUSE_AFTER_MICROSOFT
set, the service stops after Microsoft answered and before the portal records it, printing
"paused-after-microsoft KIND", so the test can kill -9 it inside that window.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import timedelta

from opkalla_portal import clock
from opkalla_portal.demo import demo_data
from opkalla_portal.services import intents, licenses, orders, quantity_change, subscriptions
from opkalla_portal.services.catalog import load_catalog, search_catalog
from tests.licenses.conftest import LUIS, TOM, identity_for

COPILOT = next(s for s in demo_data.SUBSCRIPTIONS if s.customer_key == "lakeside" and s.key == "copilot")
BUSINESS_STANDARD = "f245ecc8-75af-4f8e-b61f-27d8114de5f3"


async def change_quantity() -> None:
    luis = identity_for(LUIS)
    sub = await subscriptions.load_subscription(luis, COPILOT.id)
    outcome = await quantity_change.submit_change(luis, COPILOT.id, "8", "immediately", "", sub.etag)
    print(outcome.status, outcome.message, flush=True)


async def assign_licenses() -> None:
    tom = identity_for(TOM)
    users = {u.id: u for u in await licenses.list_directory(tom)}
    chosen = sorted(
        (u for u in users.values() if not u.holds(BUSINESS_STANDARD) and u.usage_location), key=lambda u: u.name
    )[:3]
    print("users", ",".join(u.id for u in chosen), flush=True)
    outcome = await licenses.apply_changes(
        tom, sku_id=BUSINESS_STANDARD, pending={u.id: True for u in chosen}, users=users
    )
    print("assigned", outcome.assigned, flush=True)


async def purchase(request_id: str) -> None:
    luis = identity_for(LUIS)
    [visio] = search_catalog(luis, await load_catalog(), "visio plan 1")
    contract = next(c.id for c in subscriptions.billing_contracts(luis) if "LDP-2026-002" in c.label)
    outcome = await orders.place_order(
        luis,
        contract_id=contract,
        offer_id=visio.offer_id,
        term_key="P1Y:monthly",
        quantity_text="3",
        start_text=clock.today().isoformat(),
        parent_id="",
        request_id=request_id,
    )
    print(outcome.status, outcome.message, flush=True)


async def reconcile() -> None:
    print("reconciled", await intents.reconcile(grace=timedelta(0)), flush=True)


def main() -> None:
    action = sys.argv[1]
    work = {
        "quantity": change_quantity,
        "licenses": assign_licenses,
        "reconcile": reconcile,
        "purchase": lambda: purchase(sys.argv[2]),
    }[action]
    asyncio.run(work())


if __name__ == "__main__":
    main()
