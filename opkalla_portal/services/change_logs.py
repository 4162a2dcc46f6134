"""Change Logs: every subscription transaction of the organization, newest first, and CSV export;
and `log_change`, the one way an entry is written."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func
from sqlmodel import select

from opkalla_portal.db import session_scope
from opkalla_portal.models import (
    MODE_LABELS,  # noqa: F401  (re-exported: the one mode label table)
    ChangeLogEntry,
    ChangeResult,
    mode_label,
)
from opkalla_portal.services.access import Capability, Identity, require
from opkalla_portal.services.spreadsheet import safe_cell

PAGE_SIZE = 25
RESULT_LABELS = {
    ChangeResult.SUCCEEDED: "Succeeded",
    ChangeResult.FAILED: "Failed",
    ChangeResult.SCHEDULED: "Scheduled",
    ChangeResult.CANCELLED: "Cancelled",
    ChangeResult.AWAITING_APPROVAL: "Awaiting approval",
    ChangeResult.DENIED: "Denied",
    ChangeResult.WITHDRAWN: "Withdrawn",
}
ACTION_LABELS = {"quantity_change": "Quantity change", "purchase": "Purchase"}

# The approval request being applied in this task: every entry written meanwhile belongs to it,
# whichever path writes it (a quantity change, a Future Change edit, an order, a reconciled intent).
_APPLYING: ContextVar[int | None] = ContextVar("applying_approval", default=None)


@contextmanager
def applying_approval(request_id: int) -> Iterator[None]:
    token = _APPLYING.set(request_id)
    try:
        yield
    finally:
        _APPLYING.reset(token)


def approval_being_applied() -> int | None:
    return _APPLYING.get()


def log_change(
    db, identity: Identity | None, organization_id: int, sub_id: str, sub_name: str, **fields
) -> ChangeLogEntry:
    """Add a Change Logs entry acted by `identity` (None: the scheduler), linked to the approval
    request being applied, if any."""
    fields.setdefault("approval_request_id", _APPLYING.get())
    entry = ChangeLogEntry(
        organization_id=organization_id,
        subscription_id=sub_id,
        subscription_name=sub_name[:200],
        actor_user_id=identity.user_id if identity else None,
        actor_name=identity.display_name if identity else "Scheduler",
        **fields,
    )
    entry.message = entry.message[:1000]
    db.add(entry)
    return entry


@dataclass(frozen=True)
class LogFilter:
    subscription_id: str = ""
    date_from: date | None = None
    date_to: date | None = None


def _query(identity: Identity, log_filter: LogFilter):
    query = select(ChangeLogEntry).where(ChangeLogEntry.organization_id == identity.organization_id)
    if log_filter.subscription_id:
        query = query.where(ChangeLogEntry.subscription_id == log_filter.subscription_id[:64])
    if log_filter.date_from:
        query = query.where(ChangeLogEntry.created_at >= datetime.combine(log_filter.date_from, time(), UTC))
    if log_filter.date_to and log_filter.date_to < date.max:  # 9999-12-31: no end (the day after overflows)
        end = datetime.combine(log_filter.date_to + timedelta(days=1), time(), UTC)
        query = query.where(ChangeLogEntry.created_at < end)
    return query


def change_log_page(identity: Identity, log_filter: LogFilter, page: int = 0) -> tuple[list[ChangeLogEntry], int]:
    """One page of matching entries (newest first) and how many match in all."""
    require(identity, Capability.SERVICES)
    page = max(int(page), 0)
    with session_scope() as db:
        query = _query(identity, log_filter)
        total = db.exec(select(func.count()).select_from(query.subquery())).one()
        rows = db.exec(
            query.order_by(ChangeLogEntry.created_at.desc(), ChangeLogEntry.id.desc())
            .offset(page * PAGE_SIZE)
            .limit(PAGE_SIZE)
        ).all()
        return list(rows), int(total)


def logged_subscriptions(identity: Identity) -> list[tuple[str, str]]:
    """(subscription id, name) of every subscription with log entries, for the filter."""
    require(identity, Capability.SERVICES)
    with session_scope() as db:
        rows = db.exec(
            select(ChangeLogEntry.subscription_id, func.max(ChangeLogEntry.subscription_name))
            .where(ChangeLogEntry.organization_id == identity.organization_id)
            .group_by(ChangeLogEntry.subscription_id)
        ).all()
    return sorted(((sid, name) for sid, name in rows if sid), key=lambda r: r[1].lower())


def change_log_csv(identity: Identity, log_filter: LogFilter) -> str:
    """Every matching entry as CSV, newest first."""
    require(identity, Capability.SERVICES)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "Date (UTC)",
            "User",
            "Subscription",
            "Action",
            "Old Quantity",
            "New Quantity",
            "Change Effective",
            "Effective Date",
            "Result",
            "Message",
        ]
    )
    with session_scope() as db:
        rows = db.exec(
            _query(identity, log_filter).order_by(ChangeLogEntry.created_at.desc(), ChangeLogEntry.id.desc())
        ).all()
        for row in rows:
            writer.writerow(
                [
                    safe_cell(v)
                    for v in (
                        f"{row.created_at:%Y-%m-%d %H:%M}",
                        row.actor_name,
                        row.subscription_name,
                        ACTION_LABELS.get(row.action, row.action),
                        row.old_quantity,
                        row.new_quantity,
                        mode_label(row.effective_mode),
                        row.effective_date.isoformat() if row.effective_date else "",
                        RESULT_LABELS.get(row.result, row.result),
                        row.message,
                    )
                ]
            )
    return out.getvalue()
