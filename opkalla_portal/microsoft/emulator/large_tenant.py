"""A big synthetic tenant for benchmarks: thousands of users and a SKU with enough seats."""

from __future__ import annotations

from opkalla_portal.demo.demo_data import DEMO_APP_CLIENT_ID, demo_guid

from .seed import iso, now_utc, sku_document

BENCH_SKU_PART = "SPE_E3"
BENCH_SKU_ID = "05e9a617-0261-4cee-bb44-138d3ef5d965"


def generate_large_tenant(
    store, tenant_id: str | None = None, users: int = 5000, *, seats: int | None = None, consented: bool = True
) -> dict:
    """Create (or replace) a tenant with ``users`` licensable users and one SKU (Microsoft
    365 E3) with ``seats`` seats (default: as many as users). Returns ids for the caller."""
    tenant_id = (tenant_id or demo_guid("tenant", f"large-{users}")).lower()
    domain = f"large{users}.onmicrosoft.com"
    with store.transaction() as tx:
        tx.conn.execute("DELETE FROM docs WHERE kind IN ('user', 'sku') AND tenant=?", (tenant_id,))
        tx.put(
            "tenant",
            tenant_id,
            {
                "id": tenant_id,
                "displayName": f"Large tenant ({users} users)",
                "domain": domain,
                "countryLetterCode": "US",
            },
        )
        if consented:
            tx.put(
                "consent",
                tenant_id,
                {
                    "tenant": tenant_id,
                    "clientId": DEMO_APP_CLIENT_ID,
                    "scope": "https://graph.microsoft.com/.default",
                    "grantedAt": iso(now_utc()),
                },
            )
        rows = []
        for n in range(users):
            oid = demo_guid("user", f"{tenant_id}:{n}")
            upn = f"user{n:05d}@{domain}"
            rows.append(
                (
                    oid,
                    {
                        "id": oid,
                        "displayName": f"User {n:05d}",
                        "givenName": "User",
                        "surname": f"{n:05d}",
                        "userPrincipalName": upn,
                        "mail": upn,
                        "jobTitle": "Staff",
                        "department": "Operations",
                        "usageLocation": "US",
                        "accountEnabled": True,
                        "businessPhones": [],
                        "officeLocation": None,
                        "assignedLicenses": [],
                        "signInActivity": {"lastSignInDateTime": None},
                    },
                    tenant_id,
                    upn,
                )
            )
        tx.put_many("user", rows)
        sku = sku_document(tenant_id, BENCH_SKU_PART, BENCH_SKU_ID, users if seats is None else seats, [])
        tx.put("sku", sku["id"], sku, tenant=tenant_id)
    return {"tenant_id": tenant_id, "sku_id": BENCH_SKU_ID, "user_ids": [r[0] for r in rows]}
