"""Daily Azure usage for the demo customers (12 months), as Partner Center utilization
records (served only for legacy Azure subscriptions: utilization is refused for Azure
plans). The figures come from ``demo_data.azure_usage`` so the portal's own seed, the
reconciliation exports and the emulator agree to the cent."""

from __future__ import annotations

from datetime import date, timedelta

from opkalla_portal.demo import demo_data


def utilization_record(rec: demo_data.DemoUsageRecord, subscription_id: str) -> dict:
    r = rec.resource
    resource_id = r.resource_id
    day = rec.usage_date
    # The fields of the SDK's AzureUtilizationRecord: quantities, no costs (rated costs come
    # from the reconciliation exports, emulator/billing_api.py).
    return {
        "usageStartTime": f"{day.isoformat()}T00:00:00Z",
        "usageEndTime": f"{(day + timedelta(days=1)).isoformat()}T00:00:00Z",
        "resource": {
            "id": resource_id,
            "name": r.meter,
            "category": r.category,
            "subcategory": r.meter,
            "region": "US West 2",
        },
        "quantity": float(rec.quantity),
        "unit": r.unit,
        "infoFields": {},
        "instanceData": {
            "resourceUri": resource_id,
            "location": "westus2",
            "partNumber": "",
            "orderNumber": "",
            "tags": {},
            "additionalInfo": {},
        },
        "attributes": {"objectType": "AzureUtilizationRecord"},
    }


def usage_month_documents(customer_key: str, subscription_id: str, today: date) -> list[tuple[str, dict]]:
    """Daily records from the start of the demo history up to yesterday, one document per calendar month."""
    months: dict[str, list[dict]] = {}
    for rec in demo_data.azure_usage(customer_key, demo_data.usage_history_start(today), today - timedelta(days=1)):
        months.setdefault(rec.usage_date.strftime("%Y-%m"), []).append(utilization_record(rec, subscription_id))
    return [(m, {"month": m, "items": items}) for m, items in sorted(months.items())]
