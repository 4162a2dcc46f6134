"""Data model, migrations, seed, settings and the role table."""

from decimal import Decimal

import pytest
from sqlalchemy import inspect
from sqlmodel import func, select

from opkalla_portal.db import current_revisions, engine_for, head_revisions, migrate, session_scope
from opkalla_portal.demo import demo_data
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
from opkalla_portal.services.access import (
    Capability,
    Identity,
    PermissionDenied,
    capability_for_route,
    menu_for,
    require,
)
from opkalla_portal.services.sessions import create_session, resolve_session, revoke_user_sessions
from opkalla_portal.settings import ConfigError, load_settings
from tests.conftest import TODAY
from tests.demo_invoices import demo_invoice_ids

EXPECTED_TABLES = {
    "organization",
    "portaluser",
    "invitation",
    "portalsession",
    "billingcontract",
    "contractsubscription",
    "changelogentry",
    "scheduledchange",
    "invoice",
    "invoiceline",
    "paymentprofile",
    "agreement",
    "consentrequest",
    "blogpost",
    "supportconversation",
    "supportmessage",
    "outboundmail",
    "auditevent",
    "licensechange",
}


def test_migration_creates_every_table_from_nothing(database):
    tables = set(inspect(engine_for(database)).get_table_names())
    assert EXPECTED_TABLES <= tables
    assert current_revisions(database) == head_revisions()


def test_migrating_again_keeps_the_data(seeded):
    with session_scope() as db:
        before = db.exec(select(func.count()).select_from(Invoice)).one()
    migrate(seeded)
    with session_scope() as db:
        assert db.exec(select(func.count()).select_from(Invoice)).one() == before > 0


def test_seed_loads_both_customers_and_their_people(seeded):
    with session_scope() as db:
        lakeside = db.exec(select(Organization).where(Organization.name == "Lakeside Dental Partners")).one()
        assert lakeside.domain == "lakesidedental.onmicrosoft.com"
        users = db.exec(select(PortalUser).where(PortalUser.organization_id == lakeside.id)).all()
        roles = {u.display_name: (u.web_role, u.status) for u in users}
        assert roles["Dana Whitaker"] == ("Work365 Administrator", "active")
        assert roles["Luis Ortega"] == ("Work 365 Subscription Manager", "active")
        assert roles["Priya Natarajan"] == ("Work365 Finance Manager", "active")
        assert sum(1 for _, status in roles.values() if status == "inactive") == 2
        contracts = db.exec(select(BillingContract).where(BillingContract.organization_id == lakeside.id)).all()
        assert len(contracts) == 3
        mapped = db.exec(
            select(ContractSubscription).where(ContractSubscription.billing_contract_id.in_([c.id for c in contracts]))
        ).all()
        assert len(mapped) >= 12
        bayview = db.exec(select(Organization).where(Organization.name == "Bayview Logistics")).one()
        tom = db.exec(select(PortalUser).where(PortalUser.organization_id == bayview.id)).one()
        assert (tom.display_name, tom.web_role) == ("Tom Becker", "Work365 Administrator")
        assert db.exec(select(func.count()).select_from(BlogPost)).one() == 4


def test_seed_invoices_twelve_months_open_and_paid(seeded):
    with session_scope() as db:
        lakeside = db.exec(select(Organization).where(Organization.name == "Lakeside Dental Partners")).one()
        invoices = db.exec(select(Invoice).where(Invoice.organization_id == lakeside.id)).all()
        assert sorted(i.id for i in invoices) == sorted(demo_invoice_ids(TODAY, "lakeside"))
        totals = {}
        for invoice in invoices:
            lines = db.exec(select(InvoiceLine).where(InvoiceLine.invoice_id == invoice.id)).all()
            assert lines, invoice.id
            totals[invoice.id] = sum((line.amount + line.tax_amount for line in lines), Decimal("0"))
            assert all(isinstance(line.amount, Decimal) for line in lines)
        paid = [i for i in invoices if i.paid_amount == totals[i.id]]
        open_ = [i for i in invoices if i.paid_amount < totals[i.id]]
        newest_two = sorted({i.invoice_date for i in invoices})[-2:]  # those months stay open
        assert sorted(i.id for i in open_) == sorted(i.id for i in invoices if i.invoice_date in newest_two)
        assert len(paid) == len(invoices) - len(open_) and len(open_) == 6  # 3 contracts, both months
        usage_lines = db.exec(select(InvoiceLine).where(InvoiceLine.kind == "azure_usage")).all()
        assert usage_lines and all(line.amount > 0 for line in usage_lines)


def test_seed_agreements_and_payment_profiles_hold_no_card_number(seeded):
    with session_scope() as db:
        statuses = sorted(a.status for a in db.exec(select(Agreement)).all())
        assert statuses.count("accepted") == 2 and statuses.count("pending") == 2
        for profile in db.exec(select(PaymentProfile)).all():
            assert len(profile.last4) == 4 and not hasattr(profile, "card_number")


def test_demo_directory_matches_purchased_seats():
    for customer in ("lakeside", "bayview"):
        users = demo_data.directory_users(customer)
        assert len(users) == demo_data.CUSTOMERS[customer].directory_size
        for subscription in demo_data.customer_subscriptions(customer):
            if subscription.sku_part_number:
                holders = sum(subscription.sku_part_number in u.licenses for u in users)
                assert holders == subscription.assigned <= subscription.quantity
        assert any(u.usage_location is None for u in users)


def test_bad_database_url_is_named(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "mysql://somewhere/db")
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        load_settings()
    monkeypatch.setenv("DATABASE_URL", "sqlite:////tmp/x.db")
    monkeypatch.setenv("OPKALLA_SESSION_IDLE_MINUTES", "soon")
    with pytest.raises(ConfigError, match="OPKALLA_SESSION_IDLE_MINUTES"):
        load_settings()


def test_unreachable_database_is_named():
    with pytest.raises(ConfigError, match="DATABASE_URL cannot be reached"):
        migrate("postgresql+psycopg://nobody@127.0.0.1:1/none")


def _identity(role):
    return Identity(user_id=1, organization_id=1, role=role, display_name="X", email="x@y", tenant_id="t")


def test_roles_match_the_training_guide():
    admin = _identity(demo_data.ROLE_ADMINISTRATOR)
    subs = _identity(demo_data.ROLE_SUBSCRIPTION_MANAGER)
    finance = _identity(demo_data.ROLE_FINANCE_MANAGER)
    assert [m.label for m in menu_for(admin)] == [
        "Home",
        "My Services",
        "Approvals",
        "My Agreements",
        "My Invoices",
        "Usage Data",
        "My Company",
        "Manage Users",
        "Manage Licenses",
        "Microsoft Support",
    ]
    assert [m.label for m in menu_for(subs)] == [
        "Home",
        "My Services",
        "Usage Data",
        "Manage Licenses",
        "Microsoft Support",
    ]
    assert [m.label for m in menu_for(finance)] == [
        "Home",
        "Approvals",
        "My Agreements",
        "My Invoices",
        "Microsoft Support",
    ]
    with pytest.raises(PermissionDenied):
        require(finance, Capability.LICENSES)
    with pytest.raises(PermissionDenied):
        require(None, Capability.HOME)
    assert capability_for_route("/my-services/catalog") == Capability.SERVICES
    assert capability_for_route("/unknown") is None


def test_sessions_resolve_and_are_revoked(seeded):
    with session_scope() as db:
        dana = db.exec(select(PortalUser).where(PortalUser.first_name == "Dana")).one()
        token = create_session(db, dana)
    with session_scope() as db:
        identity = resolve_session(db, token)
        assert identity and identity.display_name == "Dana Whitaker" and identity.is_global_admin
        assert resolve_session(db, token + "x") is None
        assert revoke_user_sessions(db, dana.id) == 1
    with session_scope() as db:
        assert resolve_session(db, token) is None
