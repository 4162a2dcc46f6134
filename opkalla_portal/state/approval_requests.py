"""My Approval Requests: a Subscription Manager's own requests; withdraw one while it is pending."""

from __future__ import annotations

import reflex as rx

from opkalla_portal.services import approvals as service
from opkalla_portal.services.access import Capability, Identity
from opkalla_portal.services.errors import PortalError
from opkalla_portal.state.approvals import request_row
from opkalla_portal.state.base import PortalState, guarded
from opkalla_portal.state.deltas import assign_changed


class MyApprovalRequestsState(PortalState):
    loading: bool = True
    rows: list[dict[str, str]] = []

    @guarded(Capability.SERVICES)
    def load(self, identity: Identity):
        assign_changed(self, rows=[request_row(r) for r in service.my_requests(identity)])
        self.loading = False

    @guarded(Capability.SERVICES)
    def withdraw(self, identity: Identity, request_id: str):
        """Withdraw (after the confirmation dialog): only the requester's own pending request."""
        try:  # a second click finds it withdrawn already: the conditional update refuses it
            service.withdraw(identity, request_id)
            toast = rx.toast.success("The request was withdrawn.")
        except PortalError as failure:  # the list refreshes either way
            toast = rx.toast.error(failure.message)
        assign_changed(self, rows=[request_row(r) for r in service.my_requests(identity)])
        return toast
