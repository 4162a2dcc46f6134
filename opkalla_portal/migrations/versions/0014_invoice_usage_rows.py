"""issue 17: the Azure usage rows behind each invoice's Azure line (Download Usage)

Revision ID: invoice_usage_rows
Revises: change_log_approval_link
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = "invoice_usage_rows"
down_revision = "change_log_approval_link"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "invoiceusagerow",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("subscription_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("usage_date", sa.Date(), nullable=False),
        sa.Column("resource", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("resource_group", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("category", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("meter", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("quantity", sa.Numeric(18, 6), nullable=False),
        sa.Column("unit", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("unit_price", sa.Numeric(18, 6), nullable=False),
        sa.Column("cost_amount", sa.Numeric(12, 2), nullable=False),
        sa.Column("amount", sa.Numeric(12, 2), nullable=False),
        sa.Column("currency", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.ForeignKeyConstraint(["invoice_id"], ["invoice.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_invoiceusagerow_invoice_id", "invoiceusagerow", ["invoice_id"])


def downgrade() -> None:
    op.drop_index("ix_invoiceusagerow_invoice_id", "invoiceusagerow")
    op.drop_table("invoiceusagerow")
