"""issue 11: license insight exclusions and dismissed right-size recommendations

Revision ID: issue11_license_insight
Revises: issue5_sign_in_attempt, issue6_scheduled_purchase, issue7_admin_consent
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = "issue11_license_insight"
down_revision = ("issue5_sign_in_attempt", "issue6_scheduled_purchase", "issue7_admin_consent")
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "licenseexclusion",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("sku_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["organization_id"], ["organization.id"]),
        sa.ForeignKeyConstraint(["created_by_id"], ["portaluser.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("organization_id", "sku_id"),
    )
    with op.batch_alter_table("licenseexclusion", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_licenseexclusion_organization_id"), ["organization_id"], unique=False)
    op.create_table(
        "recommendationdismissal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("subscription_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("fingerprint", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("dismissed_by_id", sa.Integer(), nullable=True),
        sa.Column("dismissed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["organization_id"], ["organization.id"]),
        sa.ForeignKeyConstraint(["dismissed_by_id"], ["portaluser.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("organization_id", "subscription_id"),
    )
    with op.batch_alter_table("recommendationdismissal", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_recommendationdismissal_organization_id"), ["organization_id"],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table("recommendationdismissal", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recommendationdismissal_organization_id"))
    op.drop_table("recommendationdismissal")
    with op.batch_alter_table("licenseexclusion", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_licenseexclusion_organization_id"))
    op.drop_table("licenseexclusion")
