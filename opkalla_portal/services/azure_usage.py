"""Rated Azure plan usage from Microsoft's billing reconciliation v2 exports.

Partner Center's utilization API is not supported for Azure plans and carries quantities,
not costs; rated daily usage comes from the reconciliation exports on Graph instead
(microsoft/billing_reconciliation.py): billed usage per Microsoft invoice for closed
billing periods, unbilled usage ("current", and "last" until its invoice exists) for the
rest. Exports cover all of the partner's customers: rows are streamed and only the
customer's subscription's rows kept.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date, timedelta
from decimal import Decimal

from opkalla_portal.services.invoices import UsageRow
from opkalla_portal.services.money import to_cents


def _month_start(day: date) -> date:
    return day.replace(day=1)


def export_usage_row(row: dict) -> UsageRow:
    """One daily rated usage line item (DailyRatedUsageLineItem fields) as the portal reads it."""
    uri = str(row.get("resourceURI") or "")
    quantity = row.get("quantity", 0)
    return UsageRow(
        day=str(row.get("usageDate") or "")[:10],
        subscription_id=str(row.get("subscriptionId") or ""),
        resource=uri.rstrip("/").rsplit("/", 1)[-1] if uri else str(row.get("meterName") or ""),
        resource_group=str(row.get("resourceGroup") or ""),
        category=str(row.get("meterCategory") or "Other"),
        meter=str(row.get("meterName") or row.get("meterSubCategory") or ""),
        quantity=Decimal(repr(quantity)) if isinstance(quantity, float) else Decimal(str(quantity)),
        unit=str(row.get("unit") or ""),
        unit_price=Decimal(repr(row.get("unitPrice", 0))),
        cost=to_cents(row.get("billingPreTaxTotal", 0)),
        currency=str(row.get("billingCurrency") or "USD"),
    )


async def azure_plan_usage(
    clients, tenant_id: str, subscription_id: str, start: date, end: date, today: date
) -> list[UsageRow]:
    """The subscription's daily rated usage for [start, end] (inclusive), from the exports
    that cover that range, run concurrently (each one is an asynchronous job at Microsoft)."""
    exports = clients.billing_reconciliation
    invoices = await clients.partner_center.list_invoices()
    sources: list[AsyncIterator[dict]] = []
    billed_months: set[date] = set()
    for invoice in invoices:
        period_start = date.fromisoformat(str(invoice.get("billingPeriodStartDate", ""))[:10])
        period_end = date.fromisoformat(str(invoice.get("billingPeriodEndDate", ""))[:10])
        billed_months.add(_month_start(period_start))
        if period_start <= end and period_end >= start:
            sources.append(exports.billed_usage(invoice["id"]))
    this_month = _month_start(today)
    last_month = _month_start(this_month - timedelta(days=1))
    if this_month <= end and this_month not in billed_months:
        sources.append(exports.unbilled_usage("current"))
    if last_month <= end and last_month >= _month_start(start) and last_month not in billed_months:
        sources.append(exports.unbilled_usage("last"))

    tenant, wanted, first, last = tenant_id.lower(), subscription_id.lower(), start.isoformat(), end.isoformat()

    async def collect(source: AsyncIterator[dict]) -> list[UsageRow]:
        rows = []
        async for row in source:
            day = str(row.get("usageDate") or "")[:10]
            if (
                str(row.get("customerId", "")).lower() == tenant
                and str(row.get("subscriptionId", "")).lower() == wanted
                and first <= day <= last
            ):
                rows.append(export_usage_row(row))
        return rows

    parts = await asyncio.gather(*(collect(s) for s in sources))
    return sorted((row for part in parts for row in part), key=lambda r: (r.day, r.resource, r.meter))
