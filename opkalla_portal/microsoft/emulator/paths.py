"""Where the emulator serves each service, relative to its base URL (one place)."""

from __future__ import annotations

from opkalla_portal.demo import demo_data

GRAPH_PREFIX = "/graph/v1.0"
PARTNER_CENTER_PREFIX = "/partnercenter/v1"
LOGIN_PREFIX = "/login"
OPENAI_PREFIX = "/openai"  # Azure OpenAI paths start with /openai/deployments/...
ADMIN_PREFIX = "/emulator"

# The provider's (partner's) own tenant: the demo customer flagged is_provider.
PARTNER_TENANT_ID = next(
    (c.tenant_id for c in demo_data.CUSTOMERS.values() if getattr(c, "is_provider", False)),
    demo_data.demo_guid("tenant", "partner"),
)


def emulator_urls(base_url: str) -> dict[str, str]:
    """Client base URLs for an emulator reachable at ``base_url``."""
    base = base_url.rstrip("/")
    return {
        "graph_url": base + GRAPH_PREFIX,
        "partner_center_url": base + PARTNER_CENTER_PREFIX,
        "login_url": base + LOGIN_PREFIX,
        # Azure OpenAI's endpoint is the resource root; clients append /openai/deployments/...
        "openai_url": base,
        "admin_url": base + ADMIN_PREFIX,
        "partner_tenant_id": PARTNER_TENANT_ID,
    }
