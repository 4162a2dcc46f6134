"""Issue 11: join the approvals/reminders and license-insight branches into one head.

Revision ID: issue11_merge
Revises: issue11_approvals_reminders, issue11_license_insight
"""

from __future__ import annotations

revision = "issue11_merge"
down_revision = ("issue11_approvals_reminders", "issue11_license_insight")
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing to change: the two branches touch different tables."""


def downgrade() -> None:
    """Nothing to change."""
