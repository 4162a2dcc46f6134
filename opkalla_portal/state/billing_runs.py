"""Billing Runs (the provider's Administrators): UI state and the handlers the browser may call.

Every handler re-checks the session and Capability.BILLING_RUNS (provider staff with the
Administrator role) through services.billing_run; ids arrive raw and are validated there.
"""

from __future__ import annotations

from typing import TypedDict

import reflex as rx

from opkalla_portal.services import billing_run as billing_service
from opkalla_portal.services.access import Capability, Identity
from opkalla_portal.state.base import PortalState, guarded


class RunRow(TypedDict):
    id: int
    period: str
    state: str
    microsoft_invoice: str
    microsoft_total: str
    cost: str
    exception_cost: str
    sell: str
    margin: str
    ties_out: bool
    tie_out: str
    open_exceptions: int
    can_issue: bool


class CustomerRow(TypedDict):
    customer: str
    invoice: str
    contract: str
    cost: str
    sell: str
    margin: str


class ExceptionRow(TypedDict):
    id: int
    kind: str
    description: str
    lines: int
    cost: str
    excluded: bool


class BillingRunsState(PortalState):
    runs: list[RunRow] = []
    selected_id: int = 0
    selected_period: str = ""
    selected_state: str = ""
    selected_tie_out: str = ""
    selected_ties_out: bool = False
    selected_can_issue: bool = False
    selected_open_exceptions: int = 0
    customers: list[CustomerRow] = []
    exceptions: list[ExceptionRow] = []
    loaded: bool = False

    @guarded(Capability.BILLING_RUNS)
    def load(self, identity: Identity):
        self.runs = [RunRow(**row) for row in billing_service.runs_view(identity)]
        if self.runs:
            first_open = next((r for r in self.runs if r["state"] != "Issued"), self.runs[0])
            self._select(identity, self.selected_id or first_open["id"])
        self.loaded = True

    def _select(self, identity, run_id) -> None:
        detail = billing_service.run_detail(identity, run_id)
        self.selected_id, self.selected_period, self.selected_state = detail["id"], detail["period"], detail["state"]
        self.selected_tie_out, self.selected_ties_out = detail["tie_out"], detail["ties_out"]
        self.selected_can_issue, self.selected_open_exceptions = detail["can_issue"], detail["open_exceptions"]
        self.customers = [CustomerRow(**row) for row in detail["customers"]]
        self.exceptions = [ExceptionRow(**row) for row in detail["exceptions"]]

    @guarded(Capability.BILLING_RUNS)
    def open_run(self, identity: Identity, run_id: int):
        self._select(identity, run_id)

    @guarded(Capability.BILLING_RUNS)
    def set_excluded(self, identity: Identity, exception_id: int, excluded: bool):
        billing_service.exclude_exception(identity, exception_id, excluded is True)
        self.runs = [RunRow(**row) for row in billing_service.runs_view(identity)]
        self._select(identity, self.selected_id)
        return rx.toast.success("Excluded from the invoices." if excluded is True else "Included again.")

    @guarded(Capability.BILLING_RUNS)
    def issue_run(self, identity: Identity):
        issued = billing_service.issue_run(identity, self.selected_id)
        self.runs = [RunRow(**row) for row in billing_service.runs_view(identity)]
        self._select(identity, self.selected_id)
        count = "1 invoice" if len(issued) == 1 else f"{len(issued)} invoices"
        return rx.toast.success(f"{count} issued; customers are told by email.")
