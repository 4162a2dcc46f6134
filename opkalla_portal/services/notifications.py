"""Which portal emails each user wants (Profile → Email notifications), and who gets a kind of mail.

Every kind is on until the user turns it off (no row = all on). Mail senders ask
`recipients(...)` instead of choosing addresses themselves, so a preference is never skipped.
Invitations are not listed: they go to people who cannot sign in yet.
"""

from __future__ import annotations

from sqlmodel import Session, select

from opkalla_portal.db import session_scope
from opkalla_portal.models import NotificationPreference, PortalUser, utcnow
from opkalla_portal.roles import ROLE_ADMINISTRATOR, ROLE_FINANCE_MANAGER, ROLE_SUBSCRIPTION_MANAGER
from opkalla_portal.services.access import Capability, Identity, require
from opkalla_portal.services.audit import record_audit
from opkalla_portal.services.errors import PortalError


class UnknownNotification(PortalError, ValueError):
    code_default = "notification.unknown"


RENEWAL_REMINDERS = "renewal_reminders"
APPROVAL_REQUESTS = "approval_requests"
APPROVAL_OUTCOMES = "approval_outcomes"
NEW_INVOICES = "new_invoices"

# kind -> (label, explanation, the capability that makes the kind relevant to a user)
KINDS: dict[str, tuple[str, str, Capability | None]] = {
    RENEWAL_REMINDERS: ("Renewal reminders", "Emails 60, 30 and 7 days before a subscription renews at a cost.", None),
    APPROVAL_REQUESTS: (
        "Approval requests",
        "An email when a quantity increase is waiting for your approval.",
        Capability.APPROVALS,
    ),
    APPROVAL_OUTCOMES: (
        "Approval outcomes",
        "An email when your request is approved, applied or denied.",
        Capability.SERVICES,
    ),
    NEW_INVOICES: ("New invoices", "An email when a new invoice is ready in My Invoices.", Capability.INVOICES),
}


def relevant_kinds(identity: Identity) -> list[str]:
    """The kinds this user's role can receive (a Finance Manager never requests approval)."""
    return [kind for kind, (_, _, needed) in KINDS.items() if needed is None or identity.can(needed)]


def _row(db: Session, user_id: int) -> NotificationPreference | None:
    return db.exec(select(NotificationPreference).where(NotificationPreference.user_id == user_id)).first()


def get_preferences(identity: Identity) -> dict[str, bool]:
    """The identity's own switches, for the kinds relevant to their role."""
    require(identity, Capability.PROFILE)
    with session_scope() as db:
        row = _row(db, identity.user_id)
    return {kind: bool(getattr(row, kind)) if row else True for kind in relevant_kinds(identity)}


def set_preference(identity: Identity, kind: object, enabled: object) -> dict[str, bool]:
    """Turn one kind on or off for the identity itself; unknown kinds change nothing."""
    require(identity, Capability.PROFILE)
    kind = str(kind or "")
    if kind not in relevant_kinds(identity):
        raise UnknownNotification("Unknown notification.")
    enabled = enabled is True or str(enabled).lower() in ("true", "1", "on")
    with session_scope() as db:
        row = _row(db, identity.user_id) or NotificationPreference(user_id=identity.user_id)
        before = bool(getattr(row, kind))
        if before != enabled:
            setattr(row, kind, enabled)
            row.updated_at = utcnow()
            db.add(row)
            record_audit(
                db, identity, "notifications.updated", f"user:{identity.user_id}", {kind: before}, {kind: enabled}
            )
    return get_preferences(identity)


ROLES_FOR = {
    RENEWAL_REMINDERS: (ROLE_ADMINISTRATOR, ROLE_SUBSCRIPTION_MANAGER, ROLE_FINANCE_MANAGER),
    APPROVAL_REQUESTS: (ROLE_ADMINISTRATOR, ROLE_FINANCE_MANAGER),
    NEW_INVOICES: (ROLE_ADMINISTRATOR, ROLE_FINANCE_MANAGER),
}


def recipients(db: Session, organization_id: int, kind: str, *, user_ids: list[int] | None = None) -> list[PortalUser]:
    """Active users of the organization who want `kind`: by the kind's roles, or among `user_ids`."""
    query = select(PortalUser).where(PortalUser.organization_id == organization_id, PortalUser.status == "active")
    if user_ids is not None:
        query = query.where(PortalUser.id.in_(user_ids))
    else:
        query = query.where(PortalUser.web_role.in_(ROLES_FOR[kind]))
    users = db.exec(query.order_by(PortalUser.id)).all()
    off = set(
        db.exec(
            select(NotificationPreference.user_id).where(
                NotificationPreference.user_id.in_([u.id for u in users]),
                getattr(NotificationPreference, kind).is_(False),
            )
        ).all()
    )  # noqa: E712 (SQL comparison)
    return [user for user in users if user.id not in off]
