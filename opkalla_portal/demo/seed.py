"""Loads the demo world (demo_data.py) into the portal's database, deterministically."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import delete
from sqlmodel import Session, SQLModel, select

from opkalla_portal import clock
from opkalla_portal.demo import demo_data
from opkalla_portal.demo.blog_posts import DEMO_POSTS
from opkalla_portal.models import (
    Agreement,
    BillingContract,
    BlogPost,
    ContractSubscription,
    CustomerBillingProfile,
    Invoice,
    InvoiceLine,
    Organization,
    PaymentProfile,
    PortalUser,
    PriceListEntry,
)
from opkalla_portal.services import billing_run

INVOICE_PREFIX = {"lakeside": "LDP", "bayview": "BVL"}
TAX_RATES = {"lakeside": Decimal("0.0688"), "bayview": Decimal("0.1025"), "opkalla": Decimal("0")}
MCA_TEMPLATE_ID = "117a488c-1c3d-4b2d-b3b6-6f4a1ad0f4c7"


def post_published_on(index: int, today: date) -> date:
    """The day the demo's blog post number ``index`` (0 = newest) was published."""
    return today - timedelta(days=6 + index * 11)


def is_empty(db: Session) -> bool:
    return db.exec(select(Organization.id)).first() is None


def seed_demo(db: Session, today: date | None = None) -> None:
    """Insert the demo customers and everything they own. Expects empty tables."""
    today = today or clock.today()
    organizations: dict[str, Organization] = {}
    for customer in demo_data.CUSTOMERS.values():
        organization = Organization(
            name=customer.name,
            tenant_id=customer.tenant_id,
            domain=customer.domain,
            phone=customer.phone,
            website=customer.website,
            email=customer.email,
            address_line1=customer.address_line1,
            city=customer.city,
            state=customer.state,
            postal_code=customer.postal_code,
            country=customer.country,
            is_provider=customer.is_provider,
            consent_granted_at=(
                datetime.combine(today - timedelta(days=90), time(9, tzinfo=UTC)) if customer.consented else None
            ),
        )
        db.add(organization)
        organizations[customer.key] = organization
    db.flush()

    for persona in demo_data.PERSONAS:
        organization = organizations[persona.customer_key]
        active = persona.status == "active"
        db.add(
            PortalUser(
                organization_id=organization.id,
                first_name=persona.first_name,
                last_name=persona.last_name,
                email=persona.email,
                business_phone=persona.business_phone,
                organization_name=organization.name,
                title=persona.title,
                web_role=persona.role,
                status=persona.status,
                entra_object_id=persona.object_id if active else None,
                entra_tenant_id=organization.tenant_id if active else None,
                is_global_admin=persona.global_admin,
            )
        )

    contracts: dict[tuple[str, str], BillingContract] = {}
    for contract in demo_data.CONTRACTS:
        record = BillingContract(
            organization_id=organizations[contract.customer_key].id, name=contract.name, number=contract.number
        )
        db.add(record)
        contracts[(contract.customer_key, contract.key)] = record
    db.flush()
    for subscription in demo_data.SUBSCRIPTIONS:
        contract = contracts[(subscription.customer_key, subscription.contract_key)]
        db.add(ContractSubscription(billing_contract_id=contract.id, subscription_id=subscription.id))

    _seed_billing_setup(db, organizations, contracts)
    for key, organization in organizations.items():
        if demo_data.CUSTOMERS[key].is_provider:
            continue
        _seed_agreements(db, key, organization, today)
        db.add(
            PaymentProfile(
                organization_id=organization.id,
                brand="Visa",
                last4="4242",
                exp_month=8,
                exp_year=today.year + 2,
                holder_name=f"{organization.name} Accounts Payable",
                processor_token=f"pm_demo_{key}_visa",
                is_default=True,
            )
        )

    for index, post in enumerate(DEMO_POSTS):
        published = datetime.combine(post_published_on(index, today), time(14, tzinfo=UTC))
        db.add(
            BlogPost(
                slug=post["slug"],
                title=post["title"],
                summary=post["summary"],
                body_markdown=post["body"],
                cover_image=post["cover"],
                published=True,
                published_at=published,
                author_name="Opkalla Modern Work Team",
                created_at=published,
                updated_at=published,
            )
        )
    db.flush()
    _run_demo_billing(db, today)


def invoice_due_date(invoice_date: date) -> date:
    """Due at the end of the month the invoice is issued in (issued on the 1st): on any day the
    newest invoice is still open and the one before it overdue, as the demo's story has it."""
    return billing_run.invoice_due_date(invoice_date)


def _seed_billing_setup(
    db: Session, organizations: dict[str, Organization], contracts: dict[tuple[str, str], BillingContract]
) -> None:
    """The provider's price list (the demo's list prices; Azure at Microsoft's cost) and each
    customer's billing profile (invoice prefix, tax rate, the contract it is billed under)."""
    for key, organization in organizations.items():
        if demo_data.CUSTOMERS[key].is_provider:
            continue
        contract_key = demo_data.CONTRACTS[0].key if key == "lakeside" else "m365"
        db.add(
            CustomerBillingProfile(
                organization_id=organization.id,
                invoice_prefix=INVOICE_PREFIX[key],
                tax_rate=TAX_RATES[key],
                billing_contract_id=contracts[(key, contract_key)].id,
            )
        )
    prices: dict[str, set] = {}
    for sub in demo_data.SUBSCRIPTIONS:
        prices.setdefault(f"{sub.product_id}:{sub.sku_id}", set()).add(sub.unit_price)
    seen: set[tuple[str, int | None]] = set()
    for sub in demo_data.SUBSCRIPTIONS:
        product_key = f"{sub.product_id}:{sub.sku_id}"
        shared = len(prices[product_key]) == 1  # one price for everyone, else a customer's own price
        owner = None if shared else organizations[sub.customer_key].id
        if (product_key, owner) in seen:
            continue
        seen.add((product_key, owner))
        usage = sub.unit_type == "Usage-based"
        db.add(
            PriceListEntry(
                product_key=product_key,
                organization_id=owner,
                friendly_name=sub.offer_name,
                monthly_sell_price=None if usage else sub.unit_price,
                markup_percent=Decimal("0") if usage else None,
            )
        )


def _run_demo_billing(db: Session, today: date) -> None:
    """The demo's invoices: the billing run over the emulator's reconciliation data for the
    last twelve closed months (the same code a provider runs), issued; all but the two newest
    have been paid."""
    from opkalla_portal.microsoft.emulator.billing_api import billed_usage_rows
    from opkalla_portal.microsoft.emulator.seed import billed_reconciliation_lines, microsoft_invoice_periods

    db.commit()  # the run works in its own transactions: it must see the customers
    for invoice_id, period_start, period_end in microsoft_invoice_periods(today):
        recon = billed_reconciliation_lines(invoice_id, period_start, period_end, today)
        microsoft_total = sum((Decimal(str(line["totalForCustomer"])) for line in recon), Decimal("0.00"))
        run = billing_run.start_run(
            period_start, period_end, microsoft_invoice_id=invoice_id, microsoft_invoice_total=microsoft_total
        )
        rows = itertools.chain(recon, billed_usage_rows(period_start, period_end, invoice_id, today))
        billing_run.execute(run.id, rows, worker="demo-seed")
        billing_run.issue(run.id, None)
    paid_before = today.replace(day=1) - timedelta(days=40)
    for invoice in db.exec(select(Invoice)).all():
        if invoice.invoice_date <= paid_before:
            lines = db.exec(select(InvoiceLine).where(InvoiceLine.invoice_id == invoice.id)).all()
            invoice.paid_amount = sum((line.amount + line.tax_amount for line in lines), Decimal("0.00"))
            invoice.paid_at = datetime.combine(invoice.invoice_date + timedelta(days=12), time(10, tzinfo=UTC))
            db.add(invoice)


def _seed_agreements(db: Session, key: str, organization: Organization, today: date) -> None:
    admin = next(p for p in demo_data.personas(key) if p.role == demo_data.ROLE_ADMINISTRATOR)
    db.add(
        Agreement(
            organization_id=organization.id,
            template_id=MCA_TEMPLATE_ID,
            version="2024-04",
            status="accepted",
            accepted_by_name=admin.display_name,
            accepted_by_email=admin.email,
            accepted_at=datetime.combine(today - timedelta(days=400), time(15, 30, tzinfo=UTC)),
        )
    )
    db.add(Agreement(organization_id=organization.id, template_id=MCA_TEMPLATE_ID, version="2026-10", status="pending"))


def clear_all(db: Session) -> None:
    """Delete every row of every portal table (children first), keeping the schema."""
    for table in reversed(SQLModel.metadata.sorted_tables):
        db.exec(delete(table))
