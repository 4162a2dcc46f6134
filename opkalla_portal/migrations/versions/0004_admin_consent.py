"""issue 7: admin consent attempts (single-use state for the admin-consent round trip)

Revision ID: issue7_admin_consent
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = "issue7_admin_consent"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "adminconsentattempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("state_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("used_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.ForeignKeyConstraint(["organization_id"], ["organization.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["portaluser.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("state_hash"),
    )
    with op.batch_alter_table("adminconsentattempt", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_adminconsentattempt_organization_id"), ["organization_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("adminconsentattempt", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_adminconsentattempt_organization_id"))
    op.drop_table("adminconsentattempt")
