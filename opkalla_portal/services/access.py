"""Who may do what: the one table of web roles and capabilities.

The menu and every server-side check read ROLE_CAPABILITIES, so they cannot disagree.
Services call `require(identity, capability)` before touching data, and scope every query
to `identity.organization_id`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from opkalla_portal.roles import ROLE_ADMINISTRATOR, ROLE_FINANCE_MANAGER, ROLE_SUBSCRIPTION_MANAGER
from opkalla_portal.services.errors import PortalError


class Capability(str, Enum):
    HOME = "home"
    PROFILE = "profile"
    SUPPORT = "support"
    SERVICES = "services"  # My Services, Product Catalog, subscription changes
    LICENSES = "licenses"
    USAGE = "usage"
    INVOICES = "invoices"
    PAYMENT_PROFILES = "payment_profiles"
    AGREEMENTS = "agreements"
    COMPANY = "company"
    USERS = "users"
    APPROVALS = "approvals"  # decide held quantity increases (Approvals page)
    APPROVAL_POLICY = "approval_policy"  # set the approval threshold (Administrators only)
    BILLING_RUNS = "billing_runs"  # the provider's billing runs (the provider's Administrators only)


# Capabilities of the provider's own staff: a customer's Administrator never holds them.
PROVIDER_ONLY = frozenset({Capability.BILLING_RUNS})


WEB_ROLES = (ROLE_ADMINISTRATOR, ROLE_SUBSCRIPTION_MANAGER, ROLE_FINANCE_MANAGER)

_EVERYONE = {Capability.HOME, Capability.PROFILE, Capability.SUPPORT}
ROLE_CAPABILITIES: dict[str, frozenset[Capability]] = {
    ROLE_ADMINISTRATOR: frozenset(Capability),
    ROLE_SUBSCRIPTION_MANAGER: frozenset(_EVERYONE | {Capability.SERVICES, Capability.LICENSES, Capability.USAGE}),
    ROLE_FINANCE_MANAGER: frozenset(
        _EVERYONE | {Capability.INVOICES, Capability.PAYMENT_PROFILES, Capability.AGREEMENTS, Capability.APPROVALS}
    ),
}

ROLE_DESCRIPTIONS = {
    ROLE_ADMINISTRATOR: "has access to all menu items",
    ROLE_SUBSCRIPTION_MANAGER: "has access to subscription license and usage data",
    ROLE_FINANCE_MANAGER: "has access to invoices and payment profiles",
}


@dataclass(frozen=True)
class MenuItem:
    label: str
    route: str
    capability: Capability
    icon: str


# The "Manage My Services" menu, in the training guide's order.
MENU: tuple[MenuItem, ...] = (
    MenuItem("Home", "/", Capability.HOME, "house"),
    MenuItem("My Services", "/my-services", Capability.SERVICES, "layers"),
    MenuItem("Approvals", "/approvals", Capability.APPROVALS, "stamp"),
    MenuItem("My Agreements", "/my-agreements", Capability.AGREEMENTS, "signature"),
    MenuItem("My Invoices", "/my-invoices", Capability.INVOICES, "receipt"),
    MenuItem("Usage Data", "/usage-data", Capability.USAGE, "chart-column"),
    MenuItem("My Company", "/my-company", Capability.COMPANY, "building-2"),
    MenuItem("Manage Users", "/manage-users", Capability.USERS, "users"),
    MenuItem("Manage Licenses", "/manage-licenses", Capability.LICENSES, "key-round"),
    MenuItem("Microsoft Support", "/support", Capability.SUPPORT, "message-circle-question"),
    MenuItem("Billing Runs", "/billing-runs", Capability.BILLING_RUNS, "calculator"),
)

# Pages reached other than from the menu, and the capability each needs.
EXTRA_ROUTES: dict[str, Capability] = {
    "/profile": Capability.PROFILE,
    "/news/post": Capability.HOME,
    "/news/editor": Capability.HOME,
    # Administrators only; the page itself also requires the provider organization
    # (services/partner_connection.require_provider_admin).
    "/partner-center": Capability.USERS,
}


def capability_for_route(route: str) -> Capability | None:
    """The capability a page needs; the longest menu prefix decides (e.g. /my-services/edit)."""
    route = "/" + route.strip("/")
    if route in EXTRA_ROUTES:
        return EXTRA_ROUTES[route]
    best: MenuItem | None = None
    for item in MENU:
        if route == item.route or (item.route != "/" and route.startswith(item.route + "/")):
            if best is None or len(item.route) > len(best.route):
                best = item
    if best:
        return best.capability
    return Capability.HOME if route == "/" else None


@dataclass(frozen=True)
class Identity:
    """The signed-in person acting, as the server resolved it from their session."""

    user_id: int
    organization_id: int
    role: str | None
    display_name: str
    email: str
    tenant_id: str
    is_global_admin: bool = False
    is_provider: bool = False  # staff of the provider itself (e.g. blog editors)
    session_id: int | None = None
    organization_name: str = ""  # filled by the session lookup (saves the shell a query per page)

    @property
    def capabilities(self) -> frozenset[Capability]:
        held = ROLE_CAPABILITIES.get(self.role or "", frozenset(_EVERYONE))
        return held if self.is_provider else held - PROVIDER_ONLY

    def can(self, capability: Capability) -> bool:
        return capability in self.capabilities


class PermissionDenied(PortalError):
    """The acting identity may not do this; the message is safe to show."""

    code_default = "denied"


class NotSignedIn(PermissionDenied):
    """No (or an ended) session: the UI sends the visitor to sign in."""

    code_default = "signed_out"


def require(identity: Identity | None, capability: Capability) -> Identity:
    """Return the identity when it holds the capability, else raise PermissionDenied."""
    if identity is None:
        raise NotSignedIn("Please sign in to continue.")
    if not identity.can(capability):
        raise PermissionDenied("Your role does not allow this. Ask your portal administrator for access.")
    return identity


def menu_for(identity: Identity | None) -> list[MenuItem]:
    if identity is None:
        return []
    return [item for item in MENU if identity.can(item.capability)]
