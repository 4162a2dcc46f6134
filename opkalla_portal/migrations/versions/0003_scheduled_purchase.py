"""scheduled purchases (issue 6)

Revision ID: issue6_scheduled_purchase
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = "issue6_scheduled_purchase"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scheduledpurchase",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scheduled_change_id", sa.Integer(), nullable=False),
        sa.Column("billing_contract_id", sa.Integer(), nullable=False),
        sa.Column("offer_id", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("term_duration", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("billing_cycle", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("parent_subscription_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.ForeignKeyConstraint(["billing_contract_id"], ["billingcontract.id"]),
        sa.ForeignKeyConstraint(["scheduled_change_id"], ["scheduledchange.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("scheduled_change_id"),
    )


def downgrade() -> None:
    op.drop_table("scheduledpurchase")
