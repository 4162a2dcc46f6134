"""Billing run at scale (issue 17): N customers x 50 reconciliation lines priced, mapped and
written, with the time and the memory the run used.

    .venv/bin/python bench/billing_run.py                 # 1,000 customers x 50 lines (50,000)
    .venv/bin/python bench/billing_run.py --customers 200 # a smaller export, to compare memory

Each customer has 40 licence lines on its Microsoft 365 contract and 10 days of Azure plan usage
on its Azure contract, so it gets two invoices and the usage rows are kept for Download Usage.
Lines are generated one at a time (as the export client streams them), so the figures show
what the run itself holds: Python heap peak (tracemalloc) and the process's peak RSS. The
database is a fresh SQLite file (or DATABASE_URL when --database-url is given).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
import tracemalloc
import uuid
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

LINES_PER_CUSTOMER = 50
PRODUCTS = 40  # licence lines per customer; the other 10 are a day each of Azure plan usage
AZURE_PLAN = "DZH318Z0BCZC:0001"


def tenant(n: int) -> str:
    return str(uuid.UUID(int=n + 1))


def rows(customers: int, period_start, period_end):
    for c in range(customers):
        for p in range(PRODUCTS):
            quantity = 1 + (c + p) % 40
            unit = Decimal(8 + p % 30) + Decimal("0.25")
            yield {
                "customerId": tenant(c),
                "customerName": f"Customer {c}",
                "productId": f"CFQ7TTC0{p:04d}",
                "skuId": "0001",
                "productName": f"Product {p}",
                "subscriptionId": f"{c}-{p}",
                "chargeType": "cycleCharge",
                "chargeStartDate": f"{period_start}T00:00:00Z",
                "chargeEndDate": f"{period_end}T00:00:00Z",
                "quantity": quantity,
                "unitPrice": float(unit),
                "subtotal": float(unit * quantity),
                "billingFrequency": "Monthly",
                "currency": "USD",
            }
        for day in range(LINES_PER_CUSTOMER - PRODUCTS):  # billed usage rows (the usage export's fields)
            quantity = Decimal(10 + (c + day) % 7)
            yield {
                "customerId": tenant(c),
                "customerName": f"Customer {c}",
                "productId": AZURE_PLAN.split(":")[0],
                "skuId": "0001",
                "productName": "Azure plan",
                "subscriptionId": f"{c}-azure",
                "usageDate": f"{period_start + timedelta(days=day)}T00:00:00Z",
                "meterCategory": "Compute",
                "meterName": "D2s v5",
                "unit": "1 Hour",
                "resourceGroup": "rg",
                "resourceURI": f"/subscriptions/{c}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1",
                "quantity": float(quantity),
                "unitPrice": 0.096,
                "billingPreTaxTotal": float(quantity * Decimal("0.096")),
                "billingCurrency": "USD",
            }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--trace", action="store_true", help="also measure the Python heap (slower)")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="opkalla-billing-bench-"))
    os.environ["DATABASE_URL"] = args.database_url or f"sqlite:///{workdir / 'portal.db'}"

    from opkalla_portal import clock
    from opkalla_portal.db import migrate, session_scope
    from opkalla_portal.demo.demo_data import _add_months
    from opkalla_portal.models import (
        BillingContract,
        ContractSubscription,
        CustomerBillingProfile,
        Organization,
        PriceListEntry,
    )
    from opkalla_portal.services import billing_run

    migrate(os.environ["DATABASE_URL"])
    with session_scope() as db:
        for c in range(args.customers):
            org = Organization(name=f"Customer {c:04d}", tenant_id=tenant(c))
            db.add(org)
            db.flush()
            licences = BillingContract(organization_id=org.id, name="Microsoft 365", number=f"C{c:04d}-1")
            azure = BillingContract(organization_id=org.id, name="Azure", number=f"C{c:04d}-2")
            db.add_all([licences, azure])
            db.flush()
            db.add(
                CustomerBillingProfile(
                    organization_id=org.id,
                    invoice_prefix=f"C{c:04d}",
                    tax_rate=Decimal("0.07"),
                    billing_contract_id=licences.id,
                )
            )
            db.add_all(
                [
                    ContractSubscription(billing_contract_id=licences.id, subscription_id=f"{c}-{p}")
                    for p in range(PRODUCTS)
                ]
            )
            db.add(ContractSubscription(billing_contract_id=azure.id, subscription_id=f"{c}-azure"))
        for p in range(PRODUCTS):
            db.add(
                PriceListEntry(
                    product_key=f"CFQ7TTC0{p:04d}:0001", friendly_name=f"Product {p}", markup_percent=Decimal("15")
                )
            )
        db.add(PriceListEntry(product_key=AZURE_PLAN, friendly_name="Azure plan", markup_percent=Decimal("10")))
    start = clock.today().replace(day=1)
    end = _add_months(start, 1) - timedelta(days=1)
    run = billing_run.start_run(start, end)

    if args.trace:
        tracemalloc.start()
    rss_before_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    began = time.perf_counter()
    billing_run.execute(run.id, rows(args.customers, start, end))
    elapsed = time.perf_counter() - began
    heap_peak = tracemalloc.get_traced_memory()[1] if args.trace else 0
    tracemalloc.stop()
    summary = billing_run.summarize(run.id)
    rss_peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    lines = args.customers * LINES_PER_CUSTOMER
    print(
        f"{lines:,} lines, {len(summary.customers):,} invoices in {elapsed:.1f} s "
        f"({lines / elapsed:,.0f} lines/s); heap peak "
        f"{f'{heap_peak / 2**20:.1f} MiB' if args.trace else '(not traced)'}, process RSS peak "
        f"{rss_peak_mb:.0f} MiB (before the run {rss_before_mb:.0f} MiB); ties out: {summary.ties_out}, "
        f"Microsoft {summary.microsoft_total}, sell {summary.sell_total}"
    )


if __name__ == "__main__":
    main()
