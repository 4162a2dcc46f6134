"""issue 20: knowledge-article embeddings (hybrid retrieval when an embeddings deployment is set)

Revision ID: issue20_knowledge_vectors
Revises: session_identity
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = "issue20_knowledge_vectors"
down_revision = "session_identity"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "knowledgevector",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("deployment", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("slug", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("content_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("vector_json", sa.Text(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("deployment", "slug", name="uq_knowledgevector_deployment_slug"),
    )


def downgrade() -> None:
    op.drop_table("knowledgevector")
