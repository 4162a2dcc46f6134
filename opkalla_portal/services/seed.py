"""Loads the demo world (demo_data.py) into the portal's database, deterministically."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import delete
from sqlmodel import Session, SQLModel, select

from opkalla_portal import clock
from opkalla_portal import demo_data
from opkalla_portal.models import (
    Agreement,
    BillingContract,
    BlogPost,
    ContractSubscription,
    Invoice,
    InvoiceLine,
    Organization,
    PaymentProfile,
    PortalUser,
)
from opkalla_portal.services.blog_seed import DEMO_POSTS

CENT = Decimal("0.01")
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
            name=customer.name, tenant_id=customer.tenant_id, domain=customer.domain, phone=customer.phone,
            website=customer.website, email=customer.email, address_line1=customer.address_line1,
            city=customer.city, state=customer.state, postal_code=customer.postal_code, country=customer.country,
            is_provider=customer.is_provider,
            consent_granted_at=datetime.combine(today - timedelta(days=90), time(9, tzinfo=timezone.utc)) if customer.consented else None,
        )
        db.add(organization)
        organizations[customer.key] = organization
    db.flush()

    for persona in demo_data.PERSONAS:
        organization = organizations[persona.customer_key]
        active = persona.status == "active"
        db.add(PortalUser(
            organization_id=organization.id, first_name=persona.first_name, last_name=persona.last_name,
            email=persona.email, business_phone=persona.business_phone, organization_name=organization.name,
            title=persona.title, web_role=persona.role, status=persona.status,
            entra_object_id=persona.object_id if active else None,
            entra_tenant_id=organization.tenant_id if active else None,
            is_global_admin=persona.global_admin,
        ))

    contracts: dict[tuple[str, str], BillingContract] = {}
    for contract in demo_data.CONTRACTS:
        record = BillingContract(organization_id=organizations[contract.customer_key].id, name=contract.name,
                                 number=contract.number)
        db.add(record)
        contracts[(contract.customer_key, contract.key)] = record
    db.flush()
    for subscription in demo_data.SUBSCRIPTIONS:
        contract = contracts[(subscription.customer_key, subscription.contract_key)]
        db.add(ContractSubscription(billing_contract_id=contract.id, subscription_id=subscription.id))

    for key, organization in organizations.items():
        if demo_data.CUSTOMERS[key].is_provider:
            continue
        _seed_invoices(db, key, organization, contracts, today)
        _seed_agreements(db, key, organization, today)
        db.add(PaymentProfile(organization_id=organization.id, brand="Visa", last4="4242", exp_month=8,
                              exp_year=today.year + 2, holder_name=f"{organization.name} Accounts Payable",
                              processor_token=f"pm_demo_{key}_visa", is_default=True))

    for index, post in enumerate(DEMO_POSTS):
        published = datetime.combine(post_published_on(index, today), time(14, tzinfo=timezone.utc))
        db.add(BlogPost(slug=post["slug"], title=post["title"], summary=post["summary"],
                        body_markdown=post["body"], cover_image=post["cover"], published=True,
                        published_at=published, author_name="Opkalla Modern Work Team",
                        created_at=published, updated_at=published))
    db.flush()


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _previous_month(day: date) -> date:
    return _month_start(_month_start(day) - timedelta(days=1))


def invoice_due_date(invoice_date: date) -> date:
    """Due at the end of the month the invoice is issued in (issued on the 1st): on any day the
    newest invoice is still open and the one before it overdue, as the demo's story has it."""
    return demo_data._add_months(_month_start(invoice_date), 1) - timedelta(days=1)


def _seed_invoices(db: Session, key: str, organization: Organization,
                   contracts: dict[tuple[str, str], BillingContract], today: date) -> None:
    """Twelve monthly invoices, each billing the month before its date.

    Monthly-billed seats are charged every month; annually billed ones in the month their
    term started (12 months at once); the Azure plan with the month's rated usage. The two
    newest invoices are open, the rest paid in full.
    """
    tax_rate = TAX_RATES[key]
    subscriptions = demo_data.customer_subscriptions(key)
    prefix = {"lakeside": "LDP", "bayview": "BVL"}.get(key, key[:3].upper())
    invoice_month = _month_start(today)
    for age in range(12):
        period_start = _previous_month(invoice_month)
        period_end = invoice_month - timedelta(days=1)
        invoice = Invoice(
            id=f"{prefix}-INV-{invoice_month:%Y%m}", organization_id=organization.id,
            billing_contract_id=contracts[(key, demo_data.CONTRACTS[0].key if key == 'lakeside' else 'm365')].id,
            invoice_date=invoice_month, due_date=invoice_due_date(invoice_month),
            period_start=period_start, period_end=period_end,
        )
        db.add(invoice)
        lines: list[InvoiceLine] = []
        for subscription in subscriptions:
            started = subscription.creation_date(today)
            if started > period_end:
                continue
            if subscription.unit_type == "Usage-based":
                usage = demo_data.azure_usage(key, max(period_start, started), period_end)
                amount = sum((record.cost for record in usage), Decimal("0.00"))
                lines.append(_line(invoice, subscription, "azure_usage", 1, amount, period_start, period_end,
                                   Decimal(1), amount, tax_rate))
                continue
            if subscription.billing_cycle == "annual":
                if started.month != period_start.month:
                    continue
                months = 12
            else:
                months = 1
            proration = Decimal(1)
            if period_start <= started <= period_end:  # bought mid-month: charge the days used
                days_in_period = (period_end - period_start).days + 1
                proration = (Decimal((period_end - started).days + 1) / Decimal(days_in_period)).quantize(
                    Decimal("0.0001"))
            amount = (subscription.unit_price * subscription.quantity * months * proration).quantize(
                CENT, ROUND_HALF_UP)
            lines.append(_line(invoice, subscription, "license", subscription.quantity,
                               subscription.unit_price * months, max(period_start, started), period_end,
                               proration, amount, tax_rate))
        for line in lines:
            db.add(line)
        total = sum((line.amount + line.tax_amount for line in lines), Decimal("0.00"))
        if age >= 2:
            invoice.paid_amount = total
            invoice.paid_at = datetime.combine(invoice.invoice_date + timedelta(days=12), time(10, tzinfo=timezone.utc))
        invoice_month = _previous_month(invoice_month)


def _line(invoice: Invoice, subscription: demo_data.DemoSubscription, kind: str, quantity: int,
          unit_price: Decimal, start: date, end: date, proration: Decimal, amount: Decimal,
          tax_rate: Decimal) -> InvoiceLine:
    return InvoiceLine(
        invoice_id=invoice.id, kind=kind, subscription_id=subscription.id, product_name=subscription.offer_name,
        quantity=quantity, unit_price=unit_price.quantize(CENT), period_start=start, period_end=end,
        proration=proration, amount=amount, tax_rate=tax_rate,
        tax_amount=(amount * tax_rate).quantize(CENT, ROUND_HALF_UP),
    )


def _seed_agreements(db: Session, key: str, organization: Organization, today: date) -> None:
    admin = next(p for p in demo_data.personas(key) if p.role == demo_data.ROLE_ADMINISTRATOR)
    db.add(Agreement(organization_id=organization.id, template_id=MCA_TEMPLATE_ID, version="2024-04",
                     status="accepted", accepted_by_name=admin.display_name, accepted_by_email=admin.email,
                     accepted_at=datetime.combine(today - timedelta(days=400), time(15, 30, tzinfo=timezone.utc))))
    db.add(Agreement(organization_id=organization.id, template_id=MCA_TEMPLATE_ID, version="2026-10",
                     status="pending"))


def clear_all(db: Session) -> None:
    """Delete every row of every portal table (children first), keeping the schema."""
    for table in reversed(SQLModel.metadata.sorted_tables):
        db.exec(delete(table))
