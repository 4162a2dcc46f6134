"""issue 15 (items 2, 3, 5): cost-increase ledger, intents, outbox delivery, held purchases

Revision ID: issue15_records
Revises: issue11_merge
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = "issue15_records"
down_revision = "issue11_merge"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "costincrease",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("added_monthly_cost", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("counted_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["organization_id"], ["organization.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["portaluser.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("organization_id", "source"),
    )
    with op.batch_alter_table("costincrease", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_costincrease_organization_id"), ["organization_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_costincrease_user_id"), ["user_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_costincrease_counted_at"), ["counted_at"], unique=False)

    op.create_table(
        "intent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.Column("actor_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("payload_json", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("idempotency_key", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["organization_id"], ["organization.id"]),
        sa.ForeignKeyConstraint(["actor_user_id"], ["portaluser.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("idempotency_key"),
    )
    with op.batch_alter_table("intent", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_intent_organization_id"), ["organization_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_intent_state"), ["state"], unique=False)
        batch_op.create_index(batch_op.f("ix_intent_created_at"), ["created_at"], unique=False)

    with op.batch_alter_table("outboundmail", schema=None) as batch_op:
        batch_op.add_column(sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False,
                                      server_default="queued"))
        batch_op.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("next_attempt_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("lease_owner", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True))
        batch_op.add_column(sa.Column("lease_expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.create_index(batch_op.f("ix_outboundmail_status"), ["status"], unique=False)
    # Mails of before: those sent stay sent; those that failed or were never sent are history.
    op.execute("UPDATE outboundmail SET status = 'sent' WHERE sent_at IS NOT NULL")
    op.execute("UPDATE outboundmail SET status = 'held' WHERE sent_at IS NULL")

    with op.batch_alter_table("approvalrequest", schema=None) as batch_op:
        batch_op.add_column(sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False,
                                      server_default="quantity_change"))
        batch_op.add_column(sa.Column("order_json", sqlmodel.sql.sqltypes.AutoString(), nullable=False,
                                      server_default=""))
        batch_op.add_column(sa.Column("replaces_change_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_approvalrequest_replaces_change", "scheduledchange",
                                    ["replaces_change_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("approvalrequest", schema=None) as batch_op:
        batch_op.drop_constraint("fk_approvalrequest_replaces_change", type_="foreignkey")
        batch_op.drop_column("replaces_change_id")
        batch_op.drop_column("order_json")
        batch_op.drop_column("action")
    with op.batch_alter_table("outboundmail", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outboundmail_status"))
        for column in ("lease_expires_at", "lease_owner", "next_attempt_at", "attempts", "status"):
            batch_op.drop_column(column)
    op.drop_table("intent")
    op.drop_table("costincrease")
