"""issue 15: a session carries the name and email of the sign-in's ID token

Actions are recorded under the identity Microsoft vouched for at sign-in, not the
editable Profile text.

Revision ID: session_identity
Revises: issue15_records
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = "session_identity"
down_revision = "issue15_records"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("portalsession") as batch:
        batch.add_column(sa.Column("signed_in_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False,
                                   server_default=""))
        batch.add_column(sa.Column("signed_in_email", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False,
                                   server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("portalsession") as batch:
        batch.drop_column("signed_in_email")
        batch.drop_column("signed_in_name")
