"""Future Changes: pending scheduled changes (and ones that finally failed), cancel or edit each."""

from __future__ import annotations

import reflex as rx

from opkalla_portal.microsoft.errors import MicrosoftError
from opkalla_portal.services import subscriptions as service
from opkalla_portal.services.access import Capability, PermissionDenied
from opkalla_portal.state.base import PortalState, refused
from opkalla_portal.state.services_access import denied

STATUS_LABELS = {"pending": "Pending", "applying": "Applying", "failed": "Failed"}


def _row(change) -> dict[str, str]:
    status = STATUS_LABELS.get(change.status, change.status)
    if change.status == "applying" and change.last_error and change.lease_owner is None:
        status = "Retrying"
    return {
        "id": str(change.id), "subscription": change.subscription_name, "subscription_id": change.subscription_id,
        "old": str(change.old_quantity), "new": str(change.new_quantity),
        "mode": service.MODE_LABELS.get(change.effective_mode, change.effective_mode),
        "custom": "1" if change.effective_mode == "custom" else "",
        "kind": "New subscription" if not change.subscription_id else "Quantity change",
        "due": f"{change.due_date:%Y-%m-%d}", "status": status, "message": change.last_error,
        "can_cancel": "1" if change.status in ("pending", "failed") else "",
        "can_edit": "1" if change.status == "pending" else "",
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
    edit_errors: dict[str, str] = {"quantity": "", "effective_date": "", "form": ""}
    working: bool = False

    def _refresh(self, identity) -> None:
        self.rows = [_row(c) for c in service.future_changes(identity)]

    def _row_for(self, change_id: str) -> dict[str, str] | None:
        return next((r for r in self.rows if r["id"] == str(change_id)), None)

    @rx.event
    def load(self):
        try:
            identity = self._require(Capability.SERVICES)
        except PermissionDenied:
            return None  # on_load: the page guard already redirects (sign-in or not allowed)
        self.confirm_id, self.edit_id = "", ""
        self._refresh(identity)

    @rx.event
    def ask_cancel(self, change_id: str):
        if (refusal := denied(self)) is not None:
            return refusal
        row = self._row_for(change_id)
        if row is None:
            return
        self.confirm_id = row["id"]
        self.confirm_text = (f"Cancel the change of {row['subscription']} from {row['old']} to {row['new']} "
                             f"licenses due {row['due']}? Nothing will change at Microsoft on that date.")

    @rx.event
    def close_confirm(self, open_: bool = False):
        if (refusal := denied(self)) is not None:
            return refusal
        if not open_:
            self.confirm_id = ""

    @rx.event(background=True)
    async def confirm_cancel(self):
        async with self:
            try:
                identity = self._require(Capability.SERVICES)
            except PermissionDenied as error:
                return refused(error)
            if self.working or not self.confirm_id:
                return None
            self.working, change_id = True, self.confirm_id
        message, ok = "The change was cancelled.", True
        try:
            await service.cancel_future_change(identity, change_id)
        except service.ServiceError as failure:
            message, ok = str(failure), False
        except MicrosoftError as failure:
            message, ok = failure.message, False
        async with self:
            self.working, self.confirm_id = False, ""
            self._refresh(identity)
            return rx.toast.success(message) if ok else rx.toast.error(message)

    @rx.event
    def open_edit(self, change_id: str):
        if (refusal := denied(self)) is not None:
            return refusal
        row = self._row_for(change_id)
        if row is None or row["can_edit"] != "1":
            return
        self.edit_id, self.edit_title = row["id"], row["subscription"]
        self.edit_custom = row["custom"] == "1"
        self.edit_quantity, self.edit_date = row["new"], row["due"]
        self.edit_errors = {"quantity": "", "effective_date": "", "form": ""}

    @rx.event
    def close_edit(self, open_: bool = False):
        if (refusal := denied(self)) is not None:
            return refusal
        if not open_:
            self.edit_id = ""

    @rx.event
    def set_edit_quantity(self, value: str):
        if (refusal := denied(self)) is not None:
            return refusal
        self.edit_quantity = str(value or "")[:12]

    @rx.event
    def set_edit_date(self, value: str):
        if (refusal := denied(self)) is not None:
            return refusal
        self.edit_date = str(value or "")[:10]

    @rx.event(background=True)
    async def save_edit(self):
        async with self:
            try:
                identity = self._require(Capability.SERVICES)
            except PermissionDenied as error:
                return refused(error)
            if self.working or not self.edit_id:
                return None
            self.working = True
            args = (self.edit_id, self.edit_quantity, self.edit_date)
        errors: dict[str, str] = {}
        try:
            errors, _ = await service.edit_future_change(identity, *args)
        except service.ServiceError as failure:
            errors = {"form": str(failure)}
        except MicrosoftError as failure:
            errors = {"form": failure.message}
        async with self:
            self.working = False
            if "held" in errors:  # above the approval threshold: the change stays as it was
                self.edit_id = ""
                self._refresh(identity)
                return rx.toast.info(errors["held"], duration=10000)
            if errors:
                self.edit_errors = {"quantity": "", "effective_date": "", "form": "", **errors}
                if "mode" in errors:
                    self.edit_errors["form"] = errors["mode"]
                return None
            self.edit_id = ""
            self._refresh(identity)
            return rx.toast.success("The change was updated.")
