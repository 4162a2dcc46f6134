"""issue 17: billing runs (price list, runs, exceptions, invoice numbering, draft invoices)

Revision ID: billing_runs
Revises: partner_center_connection
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = "billing_runs"
down_revision = "partner_center_connection"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "billingrun",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("microsoft_invoice_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("microsoft_invoice_total", sa.Numeric(12, 2), nullable=True),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("rows_done", sa.Integer(), nullable=False),
        sa.Column("microsoft_total", sa.Numeric(12, 2), nullable=False),
        sa.Column("lease_owner", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("lease_expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("completed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("issued_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("issued_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["issued_by_id"], ["portaluser.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("period_start"),
    )
    op.create_table(
        "billingrunexception",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("billing_run_id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=160), nullable=False),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("line_count", sa.Integer(), nullable=False),
        sa.Column("cost_amount", sa.Numeric(12, 2), nullable=False),
        sa.Column("excluded", sa.Boolean(), nullable=False),
        sa.Column("excluded_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["billing_run_id"], ["billingrun.id"]),
        sa.ForeignKeyConstraint(["excluded_by_id"], ["portaluser.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("billing_run_id", "kind", "key", name="uq_billingrunexception_key"),
    )
    op.create_index("ix_billingrunexception_billing_run_id", "billingrunexception", ["billing_run_id"])
    op.create_table(
        "customerbillingprofile",
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("invoice_prefix", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("tax_rate", sa.Numeric(6, 4), nullable=False),
        sa.Column("billing_contract_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["organization_id"], ["organization.id"]),
        sa.ForeignKeyConstraint(["billing_contract_id"], ["billingcontract.id"]),
        sa.PrimaryKeyConstraint("organization_id"),
    )
    op.create_table(
        "pricelistentry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_key", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=True),
        sa.Column("friendly_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("monthly_sell_price", sa.Numeric(12, 4), nullable=True),
        sa.Column("markup_percent", sa.Numeric(7, 4), nullable=True),
        sa.ForeignKeyConstraint(["organization_id"], ["organization.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("product_key", "organization_id", name="uq_pricelist_product_customer"),
    )
    op.create_index("ix_pricelistentry_product_key", "pricelistentry", ["product_key"])
    op.create_table(
        "invoicenumbersequence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("invoice", schema=None) as batch_op:
        batch_op.add_column(sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False,
                                      server_default="issued"))
        batch_op.add_column(sa.Column("billing_run_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("number", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_invoice_billing_run", "billingrun", ["billing_run_id"], ["id"])
        batch_op.create_index("ix_invoice_billing_run_id", ["billing_run_id"], unique=False)
        batch_op.create_unique_constraint("uq_invoice_number", ["number"])
    with op.batch_alter_table("invoiceline", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cost_amount", sa.Numeric(12, 2), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("charge_type", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False,
                                      server_default=""))
        batch_op.add_column(sa.Column("product_key", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False,
                                      server_default=""))
    with op.batch_alter_table("notificationpreference", schema=None) as batch_op:
        batch_op.add_column(sa.Column("new_invoices", sa.Boolean(), nullable=False, server_default=sa.true()))


def downgrade() -> None:
    with op.batch_alter_table("notificationpreference", schema=None) as batch_op:
        batch_op.drop_column("new_invoices")
    with op.batch_alter_table("invoiceline", schema=None) as batch_op:
        batch_op.drop_column("product_key")
        batch_op.drop_column("charge_type")
        batch_op.drop_column("cost_amount")
    with op.batch_alter_table("invoice", schema=None) as batch_op:
        batch_op.drop_constraint("uq_invoice_number", type_="unique")
        batch_op.drop_index("ix_invoice_billing_run_id")
        batch_op.drop_constraint("fk_invoice_billing_run", type_="foreignkey")
        batch_op.drop_column("number")
        batch_op.drop_column("billing_run_id")
        batch_op.drop_column("state")
    op.drop_table("invoicenumbersequence")
    op.drop_index("ix_pricelistentry_product_key", "pricelistentry")
    op.drop_table("pricelistentry")
    op.drop_table("customerbillingprofile")
    op.drop_index("ix_billingrunexception_billing_run_id", "billingrunexception")
    op.drop_table("billingrunexception")
    op.drop_table("billingrun")
