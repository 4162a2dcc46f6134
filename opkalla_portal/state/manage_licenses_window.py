"""Manage Licenses, its window part: the Manage License window of one product (every user with
a toggle, filters, pages, Submit with progress) and reclaiming seats on offboarding.

The tenant's full user list and the pending toggles stay in backend vars; the browser gets
one page of rows, the counts and the messages.
"""

from __future__ import annotations

import asyncio
from typing import TypedDict

import reflex as rx

from opkalla_portal.services import licenses, reclaim
from opkalla_portal.services.access import Capability, Identity
from opkalla_portal.services.errors import PortalError
from opkalla_portal.services.licenses import DirectoryUser, LicenseError
from opkalla_portal.state.base import guarded
from opkalla_portal.state.deltas import assign_changed
from opkalla_portal.state.insight import InsightState

PAGE_SIZE = 50


class UserRow(TypedDict):
    """One user as Microsoft has them; pending toggles are in `page_changes`, so a toggle
    sends a few bytes instead of the whole page again."""

    id: str
    name: str
    email: str
    department: str
    licensed: bool
    no_location: bool
    via_group: str  # the group's name when only a group assigns this license ("" otherwise)


class FailureRow(TypedDict):
    name: str
    reason: str


class ReclaimRow(TypedDict):
    id: str
    name: str
    reason: str


class OptionRow(TypedDict):
    id: str
    name: str


class LicenseWindow(rx.State, mixin=True):
    """The window part of Manage Licenses' state (state/manage_licenses.py)."""

    # The Manage License window
    window_open: bool = False
    window_loading: bool = False
    window_error: str = ""
    sku_id: str = ""
    product_name: str = ""
    available: int = 0
    seats_left: int = 0
    pending_count: int = 0
    rows: list[UserRow] = []
    page_changes: dict[str, bool] = {}
    search: str = ""
    status_filter: str = "all"
    department_filter: str = "all"
    department_options: list[str] = ["all"]
    page: int = 1
    page_count: int = 1
    filtered_count: int = 0
    total_users: int = 0
    guard_message: str = ""
    submitting: bool = False
    progress_done: int = 0
    progress_total: int = 0
    success_message: str = ""
    failures: list[FailureRow] = []

    # Reclaim on offboarding (freed seats and disabled accounts holding this product)
    reclaim_rows: list[ReclaimRow] = []
    reclaim_more: int = 0
    reclaim_id: str = ""
    reclaim_name: str = ""
    reclaim_action: str = ""  # reassign | decrease
    reclaim_holds: bool = False
    reassign_options: list[OptionRow] = []
    reassign_to: str = ""
    reclaim_error: str = ""
    reclaim_busy: bool = False

    _users: dict[str, DirectoryUser] = {}
    _freed: list[str] = []
    _order: list[str] = []
    _filtered: list[str] = []
    _pending: dict[str, bool] = {}

    @guarded(Capability.LICENSES)
    async def open_manager(self, identity: Identity, sku_id: str):
        """Open the window for one product: the tenant's users with a toggle each."""
        product = next((p for p in self.products if p["sku_id"] == sku_id), None)
        if product is None:
            yield rx.toast.error("That product could not be found.")
            return
        self.sku_id, self.product_name = product["sku_id"], product["name"]
        self.available = product["available"]
        self.window_open, self.window_loading, self.window_error = True, True, ""
        self.search, self.status_filter, self.department_filter, self.page = "", "all", "all", 1
        self._pending, self.guard_message, self.success_message, self.failures = {}, "", "", []
        self.rows, self.page_changes = [], {}
        self.reclaim_rows, self.reclaim_more, self.reclaim_id = [], 0, ""
        yield
        try:  # both from Microsoft now (the toggles must show what it holds), side by side
            current, users = await asyncio.gather(
                licenses.get_product(identity, sku_id), licenses.list_directory(identity)
            )
        except PortalError as error:  # shown in the window
            self.window_error = error.message
            self.window_loading = False
            return
        self.available = current.available
        self._users = {u.id: u for u in users}
        self._order = [u.id for u in users]
        self.total_users = len(users)
        self.department_options = ["all", *licenses.departments(users)]
        self._freed = []
        self._apply_filters()
        self._publish_reclaim()
        self.window_loading = False

    def _apply_filters(self, keep_page: bool = False) -> None:
        status = self.status_filter if self.status_filter in licenses.STATUS_FILTERS else "all"
        department = "" if self.department_filter == "all" else self.department_filter
        users = self._plain("_users")
        matches = licenses.filter_users(
            (users[i] for i in self._plain("_order")),
            sku_id=self.sku_id,
            search=self.search,
            status=status,
            department=department,
        )
        self._filtered = [u.id for u in matches]
        self.filtered_count = len(self._filtered)
        self.page_count = max(1, -(-self.filtered_count // PAGE_SIZE))
        self.page = min(self.page, self.page_count) if keep_page else 1
        self._publish_page()

    def _publish_page(self) -> None:
        start = (self.page - 1) * PAGE_SIZE
        users = self._plain("_users")
        self.rows = [self._row(users[i]) for i in self._filtered[start : start + PAGE_SIZE]]
        self._publish_changes()

    def _publish_changes(self) -> None:
        self._assign(
            page_changes={row["id"]: self._pending[row["id"]] for row in self.rows if row["id"] in self._pending},
            seats_left=licenses.seats_left(self.available, self._pending),
            pending_count=len(self._pending),
        )

    def _assign(self, **values) -> None:
        """Only what changes goes to the browser (a toggle sends a few bytes, not the messages
        and counters again)."""
        assign_changed(self, **values)

    def _row(self, user: DirectoryUser) -> UserRow:
        return UserRow(
            id=user.id,
            name=user.name,
            email=user.email,
            department=user.department,
            licensed=user.holds(self.sku_id),
            no_location=not user.usage_location,
            via_group=user.group_for(self.sku_id) or "",
        )

    def _plain(self, name: str):
        """A backend var as stored, for reading only: Reflex hands out a change-tracking proxy for
        a dict or list, and one more for each item read through it (the 5,000 users of a filter or
        a reclaim scan cost ~50 ms that way, ~3 ms without). Writes still go through `self`."""
        value = getattr(self, name)
        return getattr(value, "__wrapped__", value)

    def _window_ready(self) -> bool:
        """The window is open and loaded (its handlers do nothing otherwise)."""
        return self.window_open and not self.window_loading

    @guarded(Capability.LICENSES)
    def set_search(self, identity: Identity, value: str):
        if not self._window_ready():
            return None
        self.search = value[:100] if isinstance(value, str) else ""
        self._apply_filters()
        return None

    @guarded(Capability.LICENSES)
    def set_status_filter(self, identity: Identity, value: str):
        if not self._window_ready():
            return None
        self.status_filter = value if value in licenses.STATUS_FILTERS else "all"
        self._apply_filters()
        return None

    @guarded(Capability.LICENSES)
    def set_department_filter(self, identity: Identity, value: str):
        if not self._window_ready():
            return None
        self.department_filter = value if value in self.department_options else "all"
        self._apply_filters()
        return None

    @guarded(Capability.LICENSES)
    def go_to_page(self, identity: Identity, page: int):
        if not self._window_ready():
            return None
        if isinstance(page, int) and not isinstance(page, bool) and 1 <= page <= self.page_count:
            self.page = page
            self._publish_page()
        return None

    @guarded(Capability.LICENSES)
    def toggle_user(self, identity: Identity, user_id: str, on: bool):
        """Switch one user's license on or off (pending until Submit); the seat guard applies."""
        if not self._window_ready() or self.submitting:
            return None
        user = self._users.get(user_id) if isinstance(user_id, str) else None
        if user is None or not isinstance(on, bool):
            return None
        try:
            self._pending = licenses.toggle(self._pending, user, self.sku_id, on, self.available)
        except LicenseError as error:  # shown above the table, not as a toast
            self._assign(guard_message=error.message)
            return None
        self._assign(guard_message="", success_message="")
        self._publish_changes()
        return None

    @guarded(Capability.LICENSES)
    def discard_changes(self, identity: Identity):
        if not self._window_ready() or self.submitting:
            return None
        self._pending, self.guard_message = {}, ""
        self._publish_changes()
        return None

    @guarded(Capability.LICENSES, background=True)
    async def submit(self, identity: Identity):
        """Apply only the differences, in $batch calls, reporting progress and every failure."""
        async with self:
            if not self._window_ready() or self.submitting:
                return None
            if not self._pending:
                self.guard_message = "There are no changes to submit. Turn a toggle on or off first."
                return None
            pending, users, sku_id = dict(self._pending), dict(self._plain("_users")), self.sku_id
            self.submitting, self.progress_done, self.progress_total = True, 0, len(pending)
            self.success_message, self.failures, self.guard_message, self.window_error = "", [], "", ""

        async def progress(done: int, total: int) -> None:
            async with self:
                self.progress_done, self.progress_total = done, total

        try:
            outcome = await licenses.apply_changes(
                identity, sku_id=sku_id, pending=pending, users=users, on_progress=progress
            )
            product = await licenses.get_product(identity, sku_id)
        except PortalError as error:  # shown in the window, which stays usable
            async with self:
                self.window_error, self.submitting = error.message, False
            return None
        failed = {f.user_id for f in outcome.failures}
        async with self:
            for uid, on in pending.items():
                if uid not in failed and uid in self._users:
                    self._users[uid] = licenses.with_applied(self._users[uid], sku_id, on)
            self._pending = {}
            self.available = product.available
            self.failures = [FailureRow(name=f.name, reason=f.reason) for f in outcome.failures]
            self.success_message = _summary(outcome) if outcome.succeeded else ""
            if not outcome.succeeded:
                self.window_error = "No license was changed. See the reasons below."
            self.submitting = False
            self._apply_filters(keep_page=True)
            # Users whose last license just went: offer their seat back.
            self._freed = [uid for uid, on in pending.items() if not on and uid not in failed]
            self._publish_reclaim()
        return None

    @guarded(Capability.LICENSES)
    async def set_window_open(self, identity: Identity, is_open: bool):
        """Clicking the grey area (or Escape, or Close) closes the window; the counts reload."""
        if is_open or self.submitting or self.reclaim_busy:
            return
        self.window_open = False
        self.reclaim_rows, self.reclaim_id, self._freed = [], "", []
        self._users, self._order, self._filtered, self._pending = {}, [], [], {}
        self.rows, self.page_changes = [], {}
        yield
        await self._load_products(identity)
        yield InsightState.load  # the idle figures changed too

    # ------------------------------------------------------------- reclaim on offboarding
    def _publish_reclaim(self) -> None:
        found = reclaim.candidates(self._plain("_users"), self.sku_id, self._freed)
        self.reclaim_rows = [ReclaimRow(id=c.user_id, name=c.name, reason=c.reason) for c in found[: reclaim.MAX_SHOWN]]
        self.reclaim_more = max(len(found) - reclaim.MAX_SHOWN, 0)
        if self.reclaim_id not in {c.user_id for c in found}:
            self.reclaim_id, self.reclaim_action = "", ""

    def _candidate(self, user_id: object):
        found = reclaim.candidates(self._plain("_users"), self.sku_id, self._freed)
        return next((c for c in found if c.user_id == user_id), None)

    @guarded(Capability.LICENSES)
    def start_reclaim(self, identity: Identity, user_id: str, action: str):
        """ "Reassign the seat" or "Schedule a decrease" beside a user: opens the confirmation below."""
        if not self._window_ready() or self.submitting or self.reclaim_busy:
            return None
        candidate = self._candidate(user_id)
        if candidate is None or action not in ("reassign", "decrease"):
            return None
        self.reclaim_id, self.reclaim_name, self.reclaim_action = candidate.user_id, candidate.name, action
        self.reclaim_holds, self.reclaim_error, self.reassign_to = candidate.holds_seat, "", ""
        options = reclaim.reassign_options(self._plain("_users").values(), self.sku_id) if action == "reassign" else []
        self.reassign_options = [OptionRow(id=u.id, name=f"{u.name} ({u.email})") for u in options]
        return None

    @guarded(Capability.LICENSES)
    def set_reassign_to(self, identity: Identity, value: str):
        if not self._window_ready():
            return None
        self.reassign_to = value if value in {o["id"] for o in self.reassign_options} else ""
        self.reclaim_error = ""
        return None

    @guarded(Capability.LICENSES)
    def cancel_reclaim(self, identity: Identity):
        if not self.reclaim_busy:
            self.reclaim_id, self.reclaim_action, self.reclaim_error = "", "", ""

    @guarded(Capability.LICENSES, background=True)
    async def confirm_reclaim(self, identity: Identity):
        """Apply the chosen reclaim: reassign through Graph, or a decrease On Renewal (Subscription Edit)."""
        async with self:
            candidate = self._candidate(self.reclaim_id)
            if not self._window_ready() or candidate is None or self.reclaim_busy or self.submitting:
                return None
            if self.reclaim_action == "reassign" and not self.reassign_to:
                self.reclaim_error = "Choose who gets the seat."
                return None
            action, to_user, sku_id = self.reclaim_action, self.reassign_to, self.sku_id
            users = dict(self._plain("_users"))
            self.reclaim_busy, self.reclaim_error = True, ""
        message, error, removed = await _run_reclaim(identity, action, candidate, to_user, sku_id, users)
        async with self:
            self.reclaim_busy = False
            if removed:  # the disabled account's license is gone, whatever happened next
                self._users[candidate.user_id] = licenses.with_applied(users[candidate.user_id], sku_id, False)
            if error:
                self.reclaim_error = error
                self._apply_filters(keep_page=True)
                return None
            await self._after_reclaim(identity, action, candidate, to_user)
        return [rx.toast.success(message), InsightState.load]

    async def _after_reclaim(self, identity, action: str, candidate, to_user: str) -> None:
        """Mirror Microsoft's new state in the window and drop the handled row."""
        if action == "reassign":
            self._users[to_user] = licenses.with_applied(self._users[to_user], self.sku_id, True)
        self._freed = [uid for uid in self._freed if uid != candidate.user_id]
        self.reclaim_id, self.reclaim_action = "", ""
        product = await licenses.get_product(identity, self.sku_id)
        self.available = product.available
        self._apply_filters(keep_page=True)
        self._publish_reclaim()


async def _run_reclaim(
    identity, action: str, candidate, to_user: str, sku_id: str, users: dict
) -> tuple[str, str, bool]:
    """(success message, error, whether the disabled account's license was removed)."""
    outcome = await reclaim.run(identity, action, candidate=candidate, to_user=to_user, sku_id=sku_id, users=users)
    return outcome.message, outcome.error, outcome.removed


def _summary(outcome: licenses.SubmitOutcome) -> str:
    parts = []
    if outcome.assigned:
        parts.append(f"{outcome.assigned} assigned")
    if outcome.unassigned:
        parts.append(f"{outcome.unassigned} unassigned")
    return "Licenses updated successfully: " + ", ".join(parts) + "."
