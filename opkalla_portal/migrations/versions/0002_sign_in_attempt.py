"""issue 5: sign-in attempts (MSAL flow kept server-side, single use)

Revision ID: issue5_sign_in_attempt
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = "issue5_sign_in_attempt"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "signinattempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("state_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("browser_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("flow_json", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("next_path", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("invitation_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("used_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["invitation_id"], ["invitation.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("state_hash"),
    )


def downgrade() -> None:
    op.drop_table("signinattempt")
