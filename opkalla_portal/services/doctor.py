"""Day-one readiness: check a provider's real Microsoft configuration, one line per check.

`python -m opkalla_portal.cli doctor [--customer TENANT_ID]` runs these against the
configured Microsoft endpoints (or, in demo mode, against the emulator started for the run)
and exits non-zero, naming the fix, when one fails.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from opkalla_portal.microsoft import MicrosoftClients
from opkalla_portal.microsoft.errors import MicrosoftError
from opkalla_portal.microsoft.graph import GRAPH_SCOPE
from opkalla_portal.microsoft.partner_center import PARTNER_CENTER_SCOPE

# Application permissions the portal needs in every customer tenant (admin consent).
CUSTOMER_PERMISSIONS = {
    "User.Read.All": "read the directory's users (Manage Licenses, Manage Users)",
    "LicenseAssignment.ReadWrite.All": "assign and remove licenses",
    "Directory.Read.All": "read subscribed SKUs and licensing groups",
    "AuditLog.Read.All": "read users' last sign-in (license insight; needs Entra ID P1/P2 too)",
}
# In the provider's own tenant: the billing reconciliation v2 exports.
PARTNER_PERMISSIONS = {"PartnerBilling.Read.All": "export billed and unbilled usage (Azure usage, invoices)"}
ENTRA_PORTAL = "Entra admin center > App registrations > the portal's app > API permissions"


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str = ""
    fix: str = ""

    def line(self) -> str:
        mark = "ok  " if self.ok else "FAIL"
        text = f"[{mark}] {self.name}"
        if self.detail:
            text += f": {self.detail}"
        if not self.ok and self.fix:
            text += f"\n       Fix: {self.fix}"
        return text


def token_roles(token: str) -> set[str]:
    """The `roles` of an app-only access token (read, not verified: Microsoft verifies it)."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return set()
    return set(claims.get("roles") or [])


async def _attempt(name: str, fix: str, action: Callable[[], Awaitable[str]]) -> Check:
    try:
        return Check(name, True, await action())
    except MicrosoftError as error:
        return Check(name, False, f"{error.message} ({error.code or error.status or error.detail})", fix)


async def run_checks(clients: MicrosoftClients, customer_tenant: str | None) -> list[Check]:
    """Every check, in order; later checks still run when an earlier one fails."""
    settings = clients.settings
    checks: list[Check] = []
    partner = settings.partner_tenant_id
    partner_graph_token = ""

    async def app_registration() -> str:
        nonlocal partner_graph_token
        partner_graph_token = await clients.identity.app_token(partner, GRAPH_SCOPE)
        return f"client {settings.client_id} signs in to tenant {partner}"

    checks.append(
        await _attempt(
            "App registration reachable",
            "Set OPKALLA_MS_CLIENT_ID, OPKALLA_MS_CLIENT_SECRET (a current secret of the app registration) and "
            "OPKALLA_MS_PARTNER_TENANT_ID (your own tenant's id); see docs/deploying.md step 1.",
            app_registration,
        )
    )

    customer_roles: set[str] | None = None
    if customer_tenant:
        try:
            customer_roles = token_roles(await clients.identity.app_token(customer_tenant, GRAPH_SCOPE))
        except MicrosoftError as error:
            checks.append(
                Check(
                    "Customer tenant token",
                    False,
                    f"{error.message} ({error.code or error.status})",
                    "A Global Admin of that customer must grant admin consent (Manage Licenses > "
                    "Grant consent) to the multi-tenant app registration.",
                )
            )
    for permission, why in CUSTOMER_PERMISSIONS.items():
        name = f"Permission {permission} granted"
        if customer_roles is None:
            checks.append(
                Check(
                    name,
                    False,
                    "no customer tenant to check it in",
                    "Run doctor with --customer <a customer's tenant id> that has granted consent.",
                )
            )
        else:
            checks.append(
                Check(
                    name,
                    permission in customer_roles,
                    why,
                    f"Add the Microsoft Graph application permission {permission} ({ENTRA_PORTAL}), "
                    "then have the customer's Global Admin grant consent again.",
                )
            )
    partner_roles = token_roles(partner_graph_token) if partner_graph_token else set()
    for permission, why in PARTNER_PERMISSIONS.items():
        checks.append(
            Check(
                f"Permission {permission} granted",
                permission in partner_roles,
                why,
                f"Add the Microsoft Graph application permission {permission} ({ENTRA_PORTAL}) and "
                "grant admin consent in your own (partner) tenant.",
            )
        )

    async def partner_center() -> str:
        await clients.identity.app_token(partner, PARTNER_CENTER_SCOPE)
        invoices = await clients.partner_center.list_invoices()
        return f"app-only access answers ({len(invoices)} invoices)"

    checks.append(
        await _attempt(
            "Partner Center reachable (app-only)",
            "In Partner Center > Account settings > App management, register the app's client id as a web app, "
            "and make sure the app registration lives in your partner tenant.",
            partner_center,
        )
    )

    async def partner_center_app_user() -> str:
        # App+User-only calls (the Microsoft Customer Agreement) go through the provider's
        # delegated connection; Partner Center requires MFA on them (from 1 April 2026).
        from opkalla_portal.services.microsoft_clients import use_clients
        from opkalla_portal.services.partner_connection import check_connection

        use_clients(clients)
        try:
            return await check_connection()
        except Exception as error:  # no database yet, or a configuration error: say so
            if isinstance(error, MicrosoftError):
                raise
            raise MicrosoftError(str(error), code=type(error).__name__) from error

    checks.append(
        await _attempt(
            "Partner Center connection valid and MFA-backed (App+User)",
            "Sign in to the portal as a provider administrator, open Partner Center connection and press "
            "Connect (or Reconnect), signing in with MFA; set OPKALLA_SECRET_KEY to the key it was stored with.",
            partner_center_app_user,
        )
    )

    if customer_tenant:

        async def customer_graph() -> str:
            skus = await clients.graph(customer_tenant).subscribed_skus()
            return f"{len(skus)} subscribed SKUs in tenant {customer_tenant}"

        checks.append(
            await _attempt(
                "Graph reachable for a sample customer",
                "The customer's Global Admin must grant admin consent; check that the tenant id is right.",
                customer_graph,
            )
        )

    async def reconciliation() -> str:
        location = await clients.billing_reconciliation.start(
            "usage/unbilled", {"currencyCode": "USD", "billingPeriod": "current", "attributeSet": "basic"}
        )
        return "unbilled usage export accepted (202, operation " + location.rsplit("/", 1)[-1] + ")"

    checks.append(
        await _attempt(
            "Reconciliation export permitted",
            "Grant PartnerBilling.Read.All (application) in your partner tenant; the app must be one your Partner "
            "Center account knows (App management).",
            reconciliation,
        )
    )

    async def chat() -> str:
        if not clients.support_ai.configured:
            raise MicrosoftError("No chat deployment is configured.", code="not_configured")
        stream = clients.support_ai.stream_chat([{"role": "user", "content": "Reply with the word ready."}])
        text = "".join([delta async for delta in stream])
        if not text.strip():
            raise MicrosoftError("The deployment answered with no text.", code="empty")
        return f"deployment {settings.openai_deployment} answered"

    checks.append(
        await _attempt(
            "Chat deployment answering",
            "Set OPKALLA_MS_OPENAI_URL (https://<resource>.openai.azure.com), OPKALLA_MS_OPENAI_DEPLOYMENT and "
            "OPKALLA_MS_OPENAI_KEY; the deployment must exist in that resource.",
            chat,
        )
    )
    return checks
