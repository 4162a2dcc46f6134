"""Issue 16: the provider's delegated Partner Center connection and its connect attempts.

Revision ID: partner_center_connection
Revises: issue20_knowledge_vectors
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "partner_center_connection"
down_revision = "issue20_knowledge_vectors"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "partnercenterconnection",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("connected_by_user_id", sa.Integer(), nullable=True),
        sa.Column("connected_by_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("connected_as", sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
        sa.Column("connected_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("refresh_token_encrypted", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("mfa", sa.Boolean(), nullable=False),
        sa.Column("refreshed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("problem", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.ForeignKeyConstraint(["connected_by_user_id"], ["portaluser.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "partnercenterconnectattempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("state_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("flow_encrypted", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("used_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["portaluser.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("state_hash"),
    )


def downgrade() -> None:
    op.drop_table("partnercenterconnectattempt")
    op.drop_table("partnercenterconnection")
