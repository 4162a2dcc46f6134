"""The portal's own records (SQLModel tables). Microsoft's data stays at Microsoft.

Money is stored as Numeric(12, 2) and handled as Decimal; nothing here holds a full card
number or a secret in clear.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import Column, Numeric, Text, UniqueConstraint, true
from sqlmodel import Field, SQLModel

from opkalla_portal import clock


def utcnow() -> datetime:
    """Now, timezone-aware in UTC (every timestamp column stores UTC)."""
    return clock.now()


class ChangeMode(StrEnum):
    """When a quantity change takes effect (Subscription Edit's "Change Effective")."""

    IMMEDIATELY = "immediately"
    ON_RENEWAL = "on_renewal"
    CUSTOM = "custom"

    @property
    def label(self) -> str:
        return MODE_LABELS[self]


# The one table of the modes' UI names (a StrEnum key matches its plain stored string).
MODE_LABELS = {ChangeMode.IMMEDIATELY: "Immediately", ChangeMode.ON_RENEWAL: "On Renewal", ChangeMode.CUSTOM: "Custom"}


def mode_label(value: str) -> str:
    """The mode as the UI names it; an unknown stored value as it is."""
    return MODE_LABELS.get(value, value)


class ChangeResult(StrEnum):
    """How a Change Logs entry ended."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"
    AWAITING_APPROVAL = "awaiting_approval"
    DENIED = "denied"
    WITHDRAWN = "withdrawn"


class ScheduledStatus(StrEnum):
    """A Future Change: pending -> applying -> applied | failed; pending | failed -> cancelled."""

    PENDING = "pending"
    APPLYING = "applying"
    APPLIED = "applied"
    FAILED = "failed"
    CANCELLED = "cancelled"


class ApprovalStatus(StrEnum):
    """An approval request: pending -> approving -> applied | failed; pending -> denied | withdrawn."""

    PENDING = "pending"
    APPROVING = "approving"
    APPLIED = "applied"
    FAILED = "failed"
    DENIED = "denied"
    WITHDRAWN = "withdrawn"


def _money(default: str | None = "0.00", nullable: bool = False):
    return Field(
        default=Decimal(default) if default is not None else None, sa_column=Column(Numeric(12, 2), nullable=nullable)
    )


class Organization(SQLModel, table=True):
    """A customer company (or the provider itself, `is_provider`)."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    tenant_id: str = Field(index=True, unique=True, max_length=64)
    domain: str = Field(default="", max_length=255)
    phone: str = Field(default="", max_length=40)
    website: str = Field(default="", max_length=255)
    email: str = Field(default="", max_length=255)
    address_line1: str = Field(default="", max_length=200)
    address_line2: str = Field(default="", max_length=200)
    city: str = Field(default="", max_length=100)
    state: str = Field(default="", max_length=100)
    postal_code: str = Field(default="", max_length=20)
    country: str = Field(default="US", max_length=2)
    is_provider: bool = False
    consent_granted_at: datetime | None = None
    consent_granted_by_id: int | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class PortalUser(SQLModel, table=True):
    """A person who may sign in to the portal for one organization."""

    __table_args__ = (UniqueConstraint("organization_id", "email"),)

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    first_name: str = Field(max_length=100)
    last_name: str = Field(max_length=100)
    email: str = Field(max_length=255, index=True)
    business_phone: str = Field(default="", max_length=40)
    organization_name: str = Field(default="", max_length=200)
    title: str = Field(default="", max_length=100)
    contact_method: str = Field(default="email", max_length=20)  # email | phone | teams
    web_role: str | None = Field(default=None, max_length=60)
    status: str = Field(default="inactive", max_length=20)  # inactive | invited | active
    entra_object_id: str | None = Field(default=None, index=True, max_length=64)
    entra_tenant_id: str | None = Field(default=None, max_length=64)
    is_global_admin: bool = False
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    last_sign_in_at: datetime | None = None

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class Invitation(SQLModel, table=True):
    """A single-use registration link; only the SHA-256 of its code is stored."""

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    user_id: int = Field(foreign_key="portaluser.id", index=True)
    code_hash: str = Field(unique=True, max_length=64)
    created_by_id: int | None = Field(default=None, foreign_key="portaluser.id")
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    used_at: datetime | None = None
    revoked_at: datetime | None = None


class PortalSession(SQLModel, table=True):
    """A signed-in browser; the cookie holds a random token, the table its SHA-256."""

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(unique=True, max_length=64)
    user_id: int = Field(foreign_key="portaluser.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)
    last_seen_at: datetime = Field(default_factory=utcnow)
    revoked_at: datetime | None = None
    # MSAL's serialized token cache for this sign-in (server-side only).
    token_cache: str = Field(default="")
    id_token_hint: str = Field(default="")
    # Who signed in, from the ID token (name, email): actions are recorded under these, never
    # under the editable Profile text.
    signed_in_name: str = Field(default="", max_length=200)
    signed_in_email: str = Field(default="", max_length=254)


class BillingContract(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    name: str = Field(max_length=200)
    number: str = Field(max_length=40)
    currency_code: str = Field(default="USD", max_length=3)


class ContractSubscription(SQLModel, table=True):
    """Which Microsoft subscription is billed under which contract."""

    id: int | None = Field(default=None, primary_key=True)
    billing_contract_id: int = Field(foreign_key="billingcontract.id", index=True)
    subscription_id: str = Field(index=True, unique=True, max_length=64)


class ChangeLogEntry(SQLModel, table=True):
    """One transaction on a subscription: who, when, what, and how it ended."""

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    subscription_id: str = Field(max_length=64, index=True)
    subscription_name: str = Field(max_length=200)
    actor_user_id: int | None = Field(default=None, foreign_key="portaluser.id")
    actor_name: str = Field(default="", max_length=200)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    action: str = Field(default="quantity_change", max_length=40)  # quantity_change | purchase | ...
    old_quantity: int | None = None
    new_quantity: int | None = None
    effective_mode: str = Field(default=ChangeMode.IMMEDIATELY, max_length=20)  # a ChangeMode
    effective_date: date | None = None
    result: str = Field(max_length=20)  # a ChangeResult
    message: str = Field(default="", max_length=1000)
    scheduled_change_id: int | None = Field(default=None, foreign_key="scheduledchange.id")
    request_id: str = Field(default="", max_length=64, index=True)
    # The approval request this entry belongs to (held, decided, or applied on approval).
    approval_request_id: int | None = Field(default=None, foreign_key="approvalrequest.id", index=True)


class ScheduledChange(SQLModel, table=True):
    """A quantity change due later ("Future Changes"), applied once by the scheduler."""

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    subscription_id: str = Field(max_length=64, index=True)
    subscription_name: str = Field(max_length=200)
    created_by_id: int | None = Field(default=None, foreign_key="portaluser.id")
    created_at: datetime = Field(default_factory=utcnow)
    old_quantity: int
    new_quantity: int
    effective_mode: str = Field(max_length=20)  # ChangeMode.ON_RENEWAL | CUSTOM
    due_date: date = Field(index=True)
    status: str = Field(default=ScheduledStatus.PENDING, max_length=20, index=True)  # a ScheduledStatus
    attempts: int = 0
    last_error: str = Field(default="", max_length=1000)
    lease_owner: str | None = Field(default=None, max_length=80)
    lease_expires_at: datetime | None = None
    applied_at: datetime | None = None
    request_id: str = Field(default="", max_length=64)


class Invoice(SQLModel, table=True):
    """The provider's invoice to its customer; totals are computed from the lines."""

    id: str = Field(primary_key=True, max_length=40)  # the Invoice ID customers see
    organization_id: int = Field(foreign_key="organization.id", index=True)
    billing_contract_id: int | None = Field(default=None, foreign_key="billingcontract.id")
    invoice_date: date
    due_date: date
    period_start: date
    period_end: date
    currency_code: str = Field(default="USD", max_length=3)
    currency_symbol: str = Field(default="$", max_length=4)
    paid_amount: Decimal = _money()
    paid_at: datetime | None = None
    # issue 17: written by a billing run. "draft" invoices are the run's preview (never shown
    # to the customer); "issued" ones never change. `number` is the provider's gapless
    # sequence, given at issue.
    state: str = Field(default="issued", max_length=10, sa_column_kwargs={"server_default": "issued"})
    billing_run_id: int | None = Field(default=None, foreign_key="billingrun.id", index=True)
    number: int | None = Field(default=None, unique=True)


class InvoiceLine(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    invoice_id: str = Field(foreign_key="invoice.id", index=True, max_length=40)
    kind: str = Field(default="license", max_length=20)  # license | azure_usage
    subscription_id: str = Field(default="", max_length=64)
    product_name: str = Field(max_length=200)
    quantity: int = 1
    unit_price: Decimal = _money()
    period_start: date
    period_end: date
    # Share of a full month billed (1.00 for a full period; less for mid-period changes).
    proration: Decimal = Field(default=Decimal("1.0000"), sa_column=Column(Numeric(6, 4), nullable=False))
    amount: Decimal = _money()  # before tax, already rounded to the cent
    tax_rate: Decimal = Field(default=Decimal("0.0000"), sa_column=Column(Numeric(6, 4), nullable=False))
    tax_amount: Decimal = _money()
    # What Microsoft billed the provider for this line (issue 17: margin and tie-out).
    cost_amount: Decimal = Field(
        default=Decimal("0.00"), sa_column=Column(Numeric(12, 2), nullable=False, server_default="0")
    )
    charge_type: str = Field(default="", max_length=40, sa_column_kwargs={"server_default": ""})
    product_key: str = Field(default="", max_length=120, sa_column_kwargs={"server_default": ""})


class InvoiceUsageRow(SQLModel, table=True):
    """One day of one meter of Azure usage billed on an invoice's Azure line (issue 17): the
    billed usage export's row the run priced, kept so Download Usage shows exactly what was
    billed. `amount` is the customer's price of the row (cost plus the price list's markup);
    the Azure line's amount is their sum."""

    id: int | None = Field(default=None, primary_key=True)
    invoice_id: str = Field(foreign_key="invoice.id", index=True, max_length=40)
    subscription_id: str = Field(default="", max_length=64)
    usage_date: date
    resource: str = Field(default="", max_length=200)
    resource_group: str = Field(default="", max_length=200)
    category: str = Field(default="", max_length=120)
    meter: str = Field(default="", max_length=200)
    quantity: Decimal = Field(default=Decimal("0"), sa_column=Column(Numeric(18, 6), nullable=False))
    unit: str = Field(default="", max_length=60)
    unit_price: Decimal = Field(default=Decimal("0"), sa_column=Column(Numeric(18, 6), nullable=False))
    cost_amount: Decimal = _money()
    amount: Decimal = _money()
    currency: str = Field(default="USD", max_length=3)


class CustomerBillingProfile(SQLModel, table=True):
    """How the provider bills one customer: invoice number prefix, tax rate, billing contract."""

    organization_id: int = Field(primary_key=True, foreign_key="organization.id")
    invoice_prefix: str = Field(max_length=10)
    tax_rate: Decimal = Field(default=Decimal("0.0000"), sa_column=Column(Numeric(6, 4), nullable=False))
    billing_contract_id: int | None = Field(default=None, foreign_key="billingcontract.id")


class PriceListEntry(SQLModel, table=True):
    """The provider's price for a Microsoft product: a monthly sell price per unit, or a markup
    on Microsoft's cost. A row with organization_id applies to that customer only (it wins)."""

    __table_args__ = (UniqueConstraint("product_key", "organization_id", name="uq_pricelist_product_customer"),)
    id: int | None = Field(default=None, primary_key=True)
    product_key: str = Field(max_length=120, index=True)  # productId:skuId (or productId alone)
    organization_id: int | None = Field(default=None, foreign_key="organization.id")
    friendly_name: str = Field(default="", max_length=200)
    monthly_sell_price: Decimal | None = Field(default=None, sa_column=Column(Numeric(12, 4), nullable=True))
    markup_percent: Decimal | None = Field(default=None, sa_column=Column(Numeric(7, 4), nullable=True))


class BillingRun(SQLModel, table=True):
    """One month's billing run over Microsoft's billed reconciliation (issue 17).

    state: running -> draft (complete, previewable) -> issued (final). `rows_done` is the
    cursor into the export: a crashed run resumes after the last committed batch. The lease
    makes one worker run it at a time."""

    id: int | None = Field(default=None, primary_key=True)
    period_start: date = Field(unique=True)
    period_end: date
    microsoft_invoice_id: str = Field(default="", max_length=40)
    microsoft_invoice_total: Decimal | None = Field(default=None, sa_column=Column(Numeric(12, 2), nullable=True))
    state: str = Field(default="running", max_length=10)
    rows_done: int = 0
    microsoft_total: Decimal = _money()  # cost of every line read, invoiced or not
    lease_owner: str | None = Field(default=None, max_length=100)
    lease_expires_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    completed_at: datetime | None = None
    issued_at: datetime | None = None
    issued_by_id: int | None = Field(default=None, foreign_key="portaluser.id")


class BillingRunException(SQLModel, table=True):
    """Lines a run could not bill: a tenant that is no portal customer, an unpriced product."""

    __table_args__ = (UniqueConstraint("billing_run_id", "kind", "key", name="uq_billingrunexception_key"),)
    id: int | None = Field(default=None, primary_key=True)
    billing_run_id: int = Field(foreign_key="billingrun.id", index=True)
    kind: str = Field(max_length=20)  # unknown_customer | unpriced_product
    key: str = Field(max_length=160)
    description: str = Field(default="", max_length=300)
    line_count: int = 0
    cost_amount: Decimal = _money()
    excluded: bool = False
    excluded_by_id: int | None = Field(default=None, foreign_key="portaluser.id")


class InvoiceNumberSequence(SQLModel, table=True):
    """The provider's last issued invoice number (one row): numbers are taken in the issuing
    transaction, so a number is never skipped or used twice."""

    id: int = Field(default=1, primary_key=True)
    last_number: int = 0


class PaymentProfile(SQLModel, table=True):
    """A saved payment method: never the card number, only what identifies it."""

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    brand: str = Field(max_length=20)
    last4: str = Field(max_length=4)
    exp_month: int
    exp_year: int
    holder_name: str = Field(default="", max_length=200)
    processor_token: str = Field(max_length=100)
    is_default: bool = False
    created_by_id: int | None = Field(default=None, foreign_key="portaluser.id")
    created_at: datetime = Field(default_factory=utcnow)


class Agreement(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    agreement_type: str = Field(default="MicrosoftCustomerAgreement", max_length=60)
    name: str = Field(default="Microsoft Customer Agreement", max_length=200)
    template_id: str = Field(max_length=64)
    version: str = Field(max_length=40)
    status: str = Field(default="pending", max_length=20)  # pending | accepted
    accepted_by_name: str = Field(default="", max_length=200)
    accepted_by_email: str = Field(default="", max_length=255)
    accepted_by_user_id: int | None = Field(default=None, foreign_key="portaluser.id")
    accepted_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


class ConsentRequest(SQLModel, table=True):
    """A non-admin's request that the Global Admin grant the portal's permissions."""

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    requested_by_id: int = Field(foreign_key="portaluser.id")
    justification: str = Field(max_length=2000)
    status: str = Field(default="pending", max_length=20)  # pending | approved | denied
    decided_by_id: int | None = Field(default=None, foreign_key="portaluser.id")
    decision_reason: str = Field(default="", max_length=2000)
    created_at: datetime = Field(default_factory=utcnow)
    decided_at: datetime | None = None


class BlogPost(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(unique=True, max_length=120)
    title: str = Field(max_length=200)
    summary: str = Field(default="", max_length=500)
    body_markdown: str = ""
    cover_image: str = Field(default="", max_length=255)
    published: bool = True
    published_at: datetime | None = None
    author_name: str = Field(default="", max_length=200)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class SupportConversation(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="portaluser.id", index=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    title: str = Field(default="", max_length=200)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class SupportMessage(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    conversation_id: int = Field(foreign_key="supportconversation.id", index=True)
    role: str = Field(max_length=20)  # user | assistant
    content: str = ""
    citations_json: str = Field(default="[]")
    created_at: datetime = Field(default_factory=utcnow)


class OutboundMail(SQLModel, table=True):
    """Every email the portal sends; the demo's outbox reads this table."""

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int | None = Field(default=None, foreign_key="organization.id", index=True)
    to_address: str = Field(max_length=255)
    subject: str = Field(max_length=300)
    body_text: str = ""
    kind: str = Field(default="", max_length=40)  # invitation | consent_request | consent_decision ...
    created_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = None
    error: str = Field(default="", max_length=1000)  # the last attempt's error
    # Delivery (services/mail.py): queued -> sending (leased by one sender) -> sent | queued (retry
    # after back-off, next_attempt_at) -> failed after MAX_ATTEMPTS. "held": SMTP is not configured.
    status: str = Field(default="queued", max_length=10, index=True)
    attempts: int = 0
    next_attempt_at: datetime | None = None
    lease_owner: str | None = Field(default=None, max_length=80)
    lease_expires_at: datetime | None = None


class AuditEvent(SQLModel, table=True):
    """Who did what, when, with the state before and after (JSON)."""

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int | None = Field(default=None, foreign_key="organization.id", index=True)
    actor_user_id: int | None = Field(default=None, foreign_key="portaluser.id")
    actor_name: str = Field(default="", max_length=200)
    action: str = Field(max_length=60, index=True)
    target: str = Field(default="", max_length=255)
    before_json: str = Field(default="{}")
    after_json: str = Field(default="{}")
    created_at: datetime = Field(default_factory=utcnow, index=True)


class LicenseChange(SQLModel, table=True):
    """Audit of one license assignment or removal made through Manage Licenses."""

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    actor_user_id: int | None = Field(default=None, foreign_key="portaluser.id")
    actor_name: str = Field(default="", max_length=200)
    target_user_id: str = Field(max_length=64)  # Entra object id
    target_user_name: str = Field(default="", max_length=200)
    sku_id: str = Field(max_length=64)
    product_name: str = Field(default="", max_length=200)
    action: str = Field(max_length=10)  # assign | unassign
    result: str = Field(max_length=20)  # succeeded | failed
    message: str = Field(default="", max_length=1000)
    batch_id: str = Field(default="", max_length=64, index=True)
    created_at: datetime = Field(default_factory=utcnow, index=True)


# --- issue 5: sign-in attempts (MSAL's authorization-code flow kept server-side, single use)
class SignInAttempt(SQLModel, table=True):
    """One trip to Microsoft and back: the MSAL flow, where to return, and the invitation it redeems."""

    id: int | None = Field(default=None, primary_key=True)
    state_hash: str = Field(unique=True, max_length=64)  # SHA-256 of the OAuth `state`
    browser_hash: str = Field(default="", max_length=64)  # SHA-256 of the key in the starting browser's cookie
    flow_json: str = ""  # MSAL's flow (PKCE verifier, nonce): server-side only
    next_path: str = Field(default="/", max_length=500)
    invitation_id: int | None = Field(default=None, foreign_key="invitation.id")
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    used_at: datetime | None = None


# --- issue 7: admin consent round trip (single-use state tied to an organization and user)
class AdminConsentAttempt(SQLModel, table=True):
    """A Global Admin's trip to Microsoft's admin-consent page; only the state's SHA-256 is kept."""

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    user_id: int = Field(foreign_key="portaluser.id")
    state_hash: str = Field(unique=True, max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    used_at: datetime | None = None
    outcome: str = Field(default="", max_length=20)  # granted | declined | expired | mismatch


# --- issue 6: scheduled purchases (Subscription Create with a future Effective Start Date)
class ScheduledPurchase(SQLModel, table=True):
    """What to order when its ScheduledChange (old quantity 0) falls due."""

    id: int | None = Field(default=None, primary_key=True)
    scheduled_change_id: int = Field(foreign_key="scheduledchange.id", unique=True)
    billing_contract_id: int = Field(foreign_key="billingcontract.id")
    offer_id: str = Field(max_length=120)
    term_duration: str = Field(max_length=10)
    billing_cycle: str = Field(max_length=20)
    parent_subscription_id: str = Field(default="", max_length=64)


# --- issue 11 (parts 5-6): customer-side approvals, renewal reminders, notification preferences
class ApprovalPolicy(SQLModel, table=True):
    """An organization's approval rule: quantity increases adding more than this per month need approval."""

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", unique=True)
    monthly_threshold: Decimal | None = _money(None, nullable=True)  # None: approvals are off
    updated_by_id: int | None = Field(default=None, foreign_key="portaluser.id")
    updated_at: datetime = Field(default_factory=utcnow)


class ApprovalRequest(SQLModel, table=True):
    """A Subscription Manager's quantity increase held for an Administrator or Finance Manager.

    status: pending -> approving -> applied | failed; pending -> denied | withdrawn. Every move
    is a conditional UPDATE on the current status, so a decision is taken exactly once.
    """

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    subscription_id: str = Field(max_length=64, index=True)
    subscription_name: str = Field(max_length=200)
    requested_by_id: int = Field(foreign_key="portaluser.id", index=True)
    requested_by_name: str = Field(default="", max_length=200)
    old_quantity: int
    new_quantity: int
    effective_mode: str = Field(max_length=20)  # a ChangeMode
    effective_date: date | None = None  # the Custom date (the others are computed when applied)
    unit_price: Decimal = _money()
    added_monthly_cost: Decimal = _money()
    threshold: Decimal = _money()  # the threshold it exceeded, as it was then
    status: str = Field(default=ApprovalStatus.PENDING, max_length=20, index=True)  # an ApprovalStatus
    decided_by_id: int | None = Field(default=None, foreign_key="portaluser.id")
    decided_by_name: str = Field(default="", max_length=200)
    decided_at: datetime | None = None
    reason: str = Field(default="", max_length=500)  # the denial reason
    outcome: str = Field(default="", max_length=1000)  # what applying it did
    created_at: datetime = Field(default_factory=utcnow, index=True)
    # issue 15: a held purchase (action "purchase") keeps its order here (JSON) to place it when
    # approved; a held Future Change edit names the change it replaces when approved.
    action: str = Field(default="quantity_change", max_length=20)
    order_json: str = ""
    replaces_change_id: int | None = Field(default=None, foreign_key="scheduledchange.id")


class NotificationPreference(SQLModel, table=True):
    """Which portal emails a user wants; no row means every kind is on (the default)."""

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="portaluser.id", unique=True)
    renewal_reminders: bool = True
    approval_requests: bool = True
    approval_outcomes: bool = True
    new_invoices: bool = Field(default=True, sa_column_kwargs={"server_default": true()})
    updated_at: datetime = Field(default_factory=utcnow)


class RenewalReminder(SQLModel, table=True):
    """One reminder sent: the unique key makes it exactly once across restarts and workers."""

    __table_args__ = (UniqueConstraint("subscription_id", "renewal_date", "days_before"),)

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    subscription_id: str = Field(max_length=64)
    renewal_date: date
    days_before: int  # the threshold: 60, 30 or 7
    recipients: int = 0
    created_at: datetime = Field(default_factory=utcnow)


# --- issue 11: license insight and right-size recommendations (remembered per customer)
class LicenseExclusion(SQLModel, table=True):
    """A product the customer keeps unassigned on purpose: left out of idle totals and recommendations."""

    __table_args__ = (UniqueConstraint("organization_id", "sku_id"),)

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    sku_id: str = Field(max_length=64)
    created_by_id: int | None = Field(default=None, foreign_key="portaluser.id")
    created_at: datetime = Field(default_factory=utcnow)


class RecommendationDismissal(SQLModel, table=True):
    """A dismissed right-size recommendation; it returns when its numbers (the fingerprint) change."""

    __table_args__ = (UniqueConstraint("organization_id", "subscription_id"),)

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    subscription_id: str = Field(max_length=64)
    fingerprint: str = Field(max_length=64)
    dismissed_by_id: int | None = Field(default=None, foreign_key="portaluser.id")
    dismissed_at: datetime = Field(default_factory=utcnow)


# --- issue 15: approvals that cannot be bypassed, and nothing lost between Microsoft and the portal
class CostIncrease(SQLModel, table=True):
    """An increase that went ahead without approval, counted against the approval threshold.

    The hold rule (services/approvals.gate_increase) adds up a user's rows of the last
    APPROVAL_WINDOW; `source` is the increase's request id, so editing a Future Change replaces
    its row instead of adding one.
    """

    __table_args__ = (UniqueConstraint("organization_id", "source"),)

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    user_id: int = Field(foreign_key="portaluser.id", index=True)
    source: str = Field(max_length=80)
    added_monthly_cost: Decimal = _money()
    counted_at: datetime = Field(default_factory=utcnow, index=True)


class Intent(SQLModel, table=True):
    """An action about to be sent to Microsoft, committed before the call (services/intents.py).

    state: pending -> done | failed. A pending intent older than the reconciler's grace is one
    whose process stopped inside the window; the reconciler reads Microsoft back and writes
    the portal's missing records exactly once.
    """

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=30)  # quantity_change | license_assignment | purchase
    organization_id: int = Field(foreign_key="organization.id", index=True)
    actor_user_id: int | None = Field(default=None, foreign_key="portaluser.id")
    actor_name: str = Field(default="", max_length=200)
    payload_json: str = ""
    idempotency_key: str = Field(max_length=80, unique=True)
    state: str = Field(default="pending", max_length=10, index=True)
    note: str = Field(default="", max_length=1000)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    updated_at: datetime = Field(default_factory=utcnow)


# --- issue 20: knowledge-article embeddings for hybrid retrieval (BM25 + vector similarity)
class KnowledgeVector(SQLModel, table=True):
    """One article's embedding (or one of its "also ask" lines', `slug` "<slug>#ask-<n>") from one
    Azure OpenAI embeddings deployment. Stored as JSON text (a few hundred vectors, compared in
    numpy in memory); `content_hash` re-embeds a text that changed."""

    __table_args__ = (UniqueConstraint("deployment", "slug", name="uq_knowledgevector_deployment_slug"),)
    id: int | None = Field(default=None, primary_key=True)
    deployment: str = Field(max_length=100)
    slug: str = Field(max_length=120)
    content_hash: str = Field(max_length=64)
    vector_json: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


# --- issue 16: the provider's delegated Partner Center connection (secure application model)
class PartnerCenterConnection(SQLModel, table=True):
    """The one App+User connection to Partner Center a provider administrator made with MFA.

    The refresh token is only ever stored encrypted (Fernet, key from OPKALLA_SECRET_KEY)."""

    id: int | None = Field(default=None, primary_key=True)
    connected_by_user_id: int | None = Field(default=None, foreign_key="portaluser.id")
    connected_by_name: str = Field(max_length=200)
    connected_as: str = Field(max_length=320)  # the Entra account (UPN) that signed in
    connected_at: datetime = Field(default_factory=utcnow)
    refresh_token_encrypted: str  # Fernet token of the refresh token, never the token itself
    mfa: bool = False  # the last access token's amr listed "mfa"
    refreshed_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime  # refresh token lifetime, sliding with each refresh
    status: str = Field(default="connected", max_length=20)  # connected | broken
    problem: str = Field(default="", max_length=500)


class PartnerCenterConnectAttempt(SQLModel, table=True):
    """A provider administrator's trip to Microsoft to connect Partner Center. The MSAL flow
    (PKCE verifier, nonce) is kept encrypted; only the state's SHA-256 is searchable."""

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="portaluser.id")
    state_hash: str = Field(unique=True, max_length=64)
    flow_encrypted: str
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    used_at: datetime | None = None
