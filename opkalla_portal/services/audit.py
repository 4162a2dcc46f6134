"""The audit trail: who did what, when, with the state before and after."""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import Session

from opkalla_portal.models import AuditEvent
from opkalla_portal.services.access import Identity


def _json(value: Any) -> str:
    return json.dumps(value or {}, default=str, sort_keys=True)


def record_audit(
    db: Session,
    identity: Identity | None,
    action: str,
    target: str = "",
    before: dict | None = None,
    after: dict | None = None,
    *,
    organization_id: int | None = None,
    actor_name: str = "",
) -> AuditEvent:
    """Append one audit event in the caller's transaction (so it commits or rolls back with the change).

    `identity` is the actor (None for the system or a visitor who is not signed in yet); the
    organization defaults to the actor's.
    """
    event = AuditEvent(
        organization_id=(
            organization_id if organization_id is not None else identity.organization_id if identity else None
        ),
        actor_user_id=identity.user_id if identity else None,
        actor_name=(identity.display_name if identity else actor_name)[:200],
        action=action[:60],
        target=target[:255],
        before_json=_json(before),
        after_json=_json(after),
    )
    db.add(event)
    return event
