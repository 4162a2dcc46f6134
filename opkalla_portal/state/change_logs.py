"""Change Logs: every transaction, newest first, filtered by subscription and date; CSV export."""

from __future__ import annotations

import reflex as rx

from opkalla_portal import clock
from opkalla_portal.models import mode_label
from opkalla_portal.services import change_logs as service
from opkalla_portal.services.access import Capability, Identity
from opkalla_portal.services.subscriptions import parse_date
from opkalla_portal.state.base import PortalState, guarded

ALL = "all"


def _row(entry) -> dict[str, str]:
    return {
        "id": str(entry.id),
        "when": f"{entry.created_at:%Y-%m-%d %H:%M}",
        "who": entry.actor_name,
        "subscription": entry.subscription_name,
        "action": service.ACTION_LABELS.get(entry.action, entry.action),
        "old": "" if entry.old_quantity is None else str(entry.old_quantity),
        "new": "" if entry.new_quantity is None else str(entry.new_quantity),
        "mode": mode_label(entry.effective_mode),
        "effective": entry.effective_date.isoformat() if entry.effective_date else "",
        "result": service.RESULT_LABELS.get(entry.result, entry.result),
        "message": entry.message,
    }


class ChangeLogsState(PortalState):
    subscriptions: list[dict[str, str]] = []
    subscription_id: str = ALL
    date_from: str = ""
    date_to: str = ""
    date_error: str = ""
    rows: list[dict[str, str]] = []
    total: int = 0
    page: int = 0

    def _filter(self) -> service.LogFilter:
        return service.LogFilter(
            subscription_id="" if self.subscription_id == ALL else self.subscription_id,
            date_from=parse_date(self.date_from),
            date_to=parse_date(self.date_to),
        )

    def _refresh(self, identity) -> None:
        self.subscriptions = [{"id": sid, "name": name} for sid, name in service.logged_subscriptions(identity)]
        entries, self.total = service.change_log_page(identity, self._filter(), self.page)
        self.rows = [_row(e) for e in entries]

    @rx.var
    def page_label(self) -> str:
        pages = max((self.total + service.PAGE_SIZE - 1) // service.PAGE_SIZE, 1)
        return f"Page {self.page + 1} of {pages}"

    @rx.var
    def has_next(self) -> bool:
        return (self.page + 1) * service.PAGE_SIZE < self.total

    @guarded(Capability.SERVICES)
    def load(self, identity: Identity):
        self.page = 0
        self._refresh(identity)

    def _apply(self, identity: Identity) -> None:
        start, end = parse_date(self.date_from), parse_date(self.date_to)
        self.date_error = "The end date is before the start date." if start and end and end < start else ""
        if self.date_error:
            return
        self._refresh(identity)

    @guarded(Capability.SERVICES)
    def set_subscription(self, identity: Identity, value: str):
        value = str(value)
        if value != ALL and value not in {s["id"] for s in self.subscriptions}:
            return
        self.subscription_id, self.page = value, 0
        self._apply(identity)

    @guarded(Capability.SERVICES)
    def set_date_from(self, identity: Identity, value: str):
        self.date_from = value if parse_date(value) else ""
        self.page = 0
        self._apply(identity)

    @guarded(Capability.SERVICES)
    def set_date_to(self, identity: Identity, value: str):
        self.date_to = value if parse_date(value) else ""
        self.page = 0
        self._apply(identity)

    @guarded(Capability.SERVICES)
    def clear_filters(self, identity: Identity):
        self.subscription_id, self.date_from, self.date_to, self.page, self.date_error = ALL, "", "", 0, ""
        self._apply(identity)

    @guarded(Capability.SERVICES)
    def next_page(self, identity: Identity):
        if (self.page + 1) * service.PAGE_SIZE < self.total:
            self.page += 1
        self._apply(identity)

    @guarded(Capability.SERVICES)
    def previous_page(self, identity: Identity):
        self.page = max(self.page - 1, 0)
        self._apply(identity)

    @guarded(Capability.SERVICES)
    def export_csv(self, identity: Identity):
        """Export to CSV: every entry matching the filters (not only this page)."""
        data = service.change_log_csv(identity, self._filter())
        return rx.download(data=data, filename=f"change-logs-{clock.today():%Y%m%d}.csv")
