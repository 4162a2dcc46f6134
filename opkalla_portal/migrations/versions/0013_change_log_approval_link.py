"""A Change Logs entry names its approval request by foreign key

Until now an entry belonged to its request only by its message ("Approval request #N ...");
existing entries are linked from that text once, here.

Revision ID: change_log_approval_link
Revises: billing_runs
"""
import re

from alembic import op
import sqlalchemy as sa


revision = "change_log_approval_link"
down_revision = "billing_runs"
branch_labels = None
depends_on = None

_NUMBER = re.compile(r"^Approval request #(\d+)[ :,]")


def upgrade() -> None:
    with op.batch_alter_table("changelogentry", schema=None) as batch_op:
        batch_op.add_column(sa.Column("approval_request_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_changelogentry_approval_request", "approvalrequest",
                                    ["approval_request_id"], ["id"])
        batch_op.create_index("ix_changelogentry_approval_request_id", ["approval_request_id"], unique=False)
    bind = op.get_bind()
    requests = {row[0] for row in bind.execute(sa.text("SELECT id FROM approvalrequest"))}
    entries = bind.execute(sa.text("SELECT id, message FROM changelogentry "
                                   "WHERE message LIKE 'Approval request #%'")).all()
    for entry_id, message in entries:
        found = _NUMBER.match(message or "")
        if found and int(found.group(1)) in requests:
            bind.execute(sa.text("UPDATE changelogentry SET approval_request_id = :request WHERE id = :id"),
                         {"request": int(found.group(1)), "id": entry_id})


def downgrade() -> None:
    with op.batch_alter_table("changelogentry", schema=None) as batch_op:
        batch_op.drop_index("ix_changelogentry_approval_request_id")
        batch_op.drop_constraint("fk_changelogentry_approval_request", type_="foreignkey")
        batch_op.drop_column("approval_request_id")
