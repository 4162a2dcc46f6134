"""A billing run killed mid-way (SIGKILL, nothing cleaned up) resumes after its last committed
batch, and its invoices are exactly those of an uninterrupted run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

from sqlmodel import select, update

from opkalla_portal.demo import demo_data
from opkalla_portal.demo.demo_data import _add_months

ROOT = Path(__file__).resolve().parents[2]
LINES = 3000
BATCH = 100


def export_rows(period_start: date, period_end: date, slow: bool = False):
    """A deterministic export: Lakeside and Bayview lines over their license products."""
    subs = [s for s in demo_data.SUBSCRIPTIONS if s.unit_type == "Licenses"]
    for n in range(LINES):
        sub = subs[n % len(subs)]
        quantity = 1 + n % 17
        if slow:
            time.sleep(0.002)  # leaves time to kill it in the middle
        yield {
            "customerId": demo_data.CUSTOMERS[sub.customer_key].tenant_id,
            "productId": sub.product_id,
            "skuId": sub.sku_id,
            "productName": sub.offer_name,
            "subscriptionId": f"{sub.id}-{n}",
            "chargeType": "cycleCharge",
            "chargeStartDate": f"{period_start}T00:00:00Z",
            "chargeEndDate": f"{period_end}T00:00:00Z",
            "quantity": quantity,
            "unitPrice": 10.0,
            "subtotal": 10.0 * quantity,
            "billingFrequency": "Monthly",
        }


def _period(months_ahead: int) -> tuple[date, date]:
    from tests.conftest import TODAY

    start = _add_months(TODAY.replace(day=1), months_ahead)
    return start, _add_months(start, 1) - timedelta(days=1)


WORKER = """
import sys
from datetime import date
from opkalla_portal.services import billing_run
from tests.money.test_billing_run_kill import BATCH, export_rows
run_id, start, end = int(sys.argv[1]), date.fromisoformat(sys.argv[2]), date.fromisoformat(sys.argv[3])
billing_run.execute(run_id, export_rows(start, end, slow=True), worker="worker-1", batch=BATCH)
"""


def _lines(run_id):
    from opkalla_portal.db import session_scope
    from opkalla_portal.models import Invoice, InvoiceLine

    with session_scope() as db:
        rows = db.exec(
            select(
                Invoice.organization_id,
                InvoiceLine.product_name,
                InvoiceLine.subscription_id,
                InvoiceLine.quantity,
                InvoiceLine.unit_price,
                InvoiceLine.amount,
                InvoiceLine.tax_amount,
                InvoiceLine.cost_amount,
            )
            .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
            .where(Invoice.billing_run_id == run_id)
        ).all()
    return sorted(tuple(str(v) for v in row) for row in rows)


def test_a_run_killed_with_sigkill_resumes_to_the_same_invoices(seeded):
    from opkalla_portal.db import session_scope
    from opkalla_portal.models import BillingRun
    from opkalla_portal.services import billing_run

    start, end = _period(0)
    run = billing_run.start_run(start, end)
    worker = subprocess.Popen(
        [sys.executable, "-c", WORKER, str(run.id), str(start), str(end)], cwd=ROOT, env=dict(os.environ)
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        done = billing_run.summarize(run.id).rows_done
        if done >= 5 * BATCH or worker.poll() is not None:
            break
        time.sleep(0.05)
    assert worker.poll() is None, "the worker finished before it could be killed"
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=30)
    killed_at = billing_run.summarize(run.id)
    assert killed_at.state == "running" and 0 < killed_at.rows_done < LINES
    assert killed_at.rows_done % BATCH == 0  # only whole batches were committed

    # Its lease still runs: nobody else takes the run over ...
    assert billing_run.execute(run.id, export_rows(start, end), worker="worker-2", batch=BATCH) is False
    # ... until it expires (as 5 minutes without a heartbeat make it).
    with session_scope() as db:
        db.exec(
            update(BillingRun)
            .where(BillingRun.id == run.id)
            .values(lease_expires_at=billing_run.clock.now() - timedelta(seconds=1))
        )
    assert billing_run.execute(run.id, export_rows(start, end), worker="worker-2", batch=BATCH) is True

    clean_start, clean_end = _period(1)
    clean = billing_run.start_run(clean_start, clean_end)
    billing_run.execute(clean.id, export_rows(clean_start, clean_end), batch=BATCH)
    resumed, uninterrupted = billing_run.summarize(run.id), billing_run.summarize(clean.id)
    assert resumed.rows_done == LINES and resumed.state == "draft"
    assert _lines(run.id) == _lines(clean.id) and len(_lines(run.id)) == LINES
    assert (resumed.microsoft_total, resumed.invoiced_cost, resumed.sell_total) == (
        uninterrupted.microsoft_total,
        uninterrupted.invoiced_cost,
        uninterrupted.sell_total,
    )
