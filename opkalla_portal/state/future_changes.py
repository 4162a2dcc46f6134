"""Future Changes: pending scheduled changes (and ones that finally failed), cancel or edit each."""

from __future__ import annotations

import reflex as rx

from opkalla_portal.models import ChangeMode, ScheduledStatus, mode_label
from opkalla_portal.services import quantity_change as service
from opkalla_portal.services.access import Capability, Identity
from opkalla_portal.services.errors import PortalError
from opkalla_portal.state.base import PortalState, guarded

STATUS_LABELS = {
    ScheduledStatus.PENDING: "Pending",
    ScheduledStatus.APPLYING: "Applying",
    ScheduledStatus.FAILED: "Failed",
}
NO_EDIT_ERRORS = {"quantity": "", "effective_date": "", "form": ""}


def _row(change) -> dict[str, str]:
    status = STATUS_LABELS.get(change.status, change.status)
    if change.status == ScheduledStatus.APPLYING and change.last_error and change.lease_owner is None:
        status = "Retrying"
    return {
        "id": str(change.id),
        "subscription": change.subscription_name,
        "subscription_id": change.subscription_id,
        "old": str(change.old_quantity),
        "new": str(change.new_quantity),
        "mode": mode_label(change.effective_mode),
        "custom": "1" if change.effective_mode == ChangeMode.CUSTOM else "",
        "kind": "New subscription" if not change.subscription_id else "Quantity change",
        "due": f"{change.due_date:%Y-%m-%d}",
        "status": status,
        "message": change.last_error,
        "can_cancel": "1" if change.status in (ScheduledStatus.PENDING, ScheduledStatus.FAILED) else "",
        "can_edit": "1" if change.status == ScheduledStatus.PENDING else "",
    }


class FutureChangesState(PortalState):
    rows: list[dict[str, str]] = []
    confirm_id: str = ""
    confirm_text: str = ""
    edit_id: str = ""
    edit_title: str = ""
    edit_custom: bool = False
    edit_quantity: str = ""
    edit_date: str = ""
    edit_min: str = ""
    edit_max: str = ""
    edit_errors: dict[str, str] = NO_EDIT_ERRORS
    working: bool = False

    def _refresh(self, identity) -> None:
        self.rows = [_row(c) for c in service.future_changes(identity)]

    def _row_for(self, change_id: str) -> dict[str, str] | None:
        return next((r for r in self.rows if r["id"] == str(change_id)), None)

    @guarded(Capability.SERVICES)
    def load(self, identity: Identity):
        self.confirm_id, self.edit_id = "", ""
        self._refresh(identity)

    @guarded(Capability.SERVICES)
    def ask_cancel(self, identity: Identity, change_id: str):
        row = self._row_for(change_id)
        if row is None:
            return
        self.confirm_id = row["id"]
        self.confirm_text = (
            f"Cancel the change of {row['subscription']} from {row['old']} to {row['new']} "
            f"licenses due {row['due']}? Nothing will change at Microsoft on that date."
        )

    @guarded(Capability.SERVICES)
    def close_confirm(self, identity: Identity, open_: bool = False):
        if not open_:
            self.confirm_id = ""

    @guarded(Capability.SERVICES, background=True)
    async def confirm_cancel(self, identity: Identity):
        async with self:
            if self.working or not self.confirm_id:
                return None
            self.working, change_id = True, self.confirm_id
        message, ok = "The change was cancelled.", True
        try:
            await service.cancel_future_change(identity, change_id)
        except PortalError as failure:  # the dialog closes and the list refreshes either way
            message, ok = failure.message, False
        async with self:
            self.working, self.confirm_id = False, ""
            self._refresh(identity)
            return rx.toast.success(message) if ok else rx.toast.error(message)

    @guarded(Capability.SERVICES)
    def open_edit(self, identity: Identity, change_id: str):
        row = self._row_for(change_id)
        if row is None or row["can_edit"] != "1":
            return
        self.edit_id, self.edit_title = row["id"], row["subscription"]
        self.edit_custom = row["custom"] == "1"
        self.edit_quantity, self.edit_date = row["new"], row["due"]
        self.edit_errors = NO_EDIT_ERRORS

    @guarded(Capability.SERVICES)
    def close_edit(self, identity: Identity, open_: bool = False):
        if not open_:
            self.edit_id = ""

    @guarded(Capability.SERVICES)
    def set_edit_quantity(self, identity: Identity, value: str):
        self.edit_quantity = str(value or "")[:12]

    @guarded(Capability.SERVICES)
    def set_edit_date(self, identity: Identity, value: str):
        self.edit_date = str(value or "")[:10]

    @guarded(Capability.SERVICES, background=True)
    async def save_edit(self, identity: Identity):
        async with self:
            if self.working or not self.edit_id:
                return None
            self.working = True
            args = (self.edit_id, self.edit_quantity, self.edit_date)
        errors: dict[str, str] = {}
        try:
            errors, _ = await service.edit_future_change(identity, *args)
        except PortalError as failure:  # shown in the dialog, beside the form
            errors = {"form": failure.message}
        async with self:
            self.working = False
            if "held" in errors:  # above the approval threshold: the change stays as it was
                self.edit_id = ""
                self._refresh(identity)
                return rx.toast.info(errors["held"], duration=10000)
            if errors:
                self.edit_errors = {**NO_EDIT_ERRORS, **{name: str(message) for name, message in errors.items()}}
                if "mode" in errors:
                    self.edit_errors["form"] = errors["mode"]
                return None
            self.edit_id = ""
            self._refresh(identity)
            return rx.toast.success("The change was updated.")
