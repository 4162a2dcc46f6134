"""My Agreements: Accepted Agreements and Pending Agreements; an Administrator accepts."""

from __future__ import annotations

from typing import TypedDict

import reflex as rx

from opkalla_portal import clock
from opkalla_portal.services.access import Capability, Identity
from opkalla_portal.services.agreements import (
    ACCEPTED,
    TABS,
    AgreementAlreadyAccepted,
    AgreementNotFound,
    accept_agreement,
    can_accept,
    get_agreement,
    list_agreements,
)
from opkalla_portal.services.errors import MicrosoftFailure
from opkalla_portal.state.base import PortalState, guarded
from opkalla_portal.state.deltas import assign_changed

TAB_BY_LABEL = {label: key for key, label in TABS.items()}


class AgreementRow(TypedDict):
    id: int
    name: str
    version: str
    status: str
    accepted_by: str
    accepted_by_email: str
    accepted_on: str


def _row(view) -> AgreementRow:
    return AgreementRow(
        id=view.id,
        name=view.name,
        version=view.version,
        status=view.status.capitalize(),
        accepted_by=view.accepted_by_name or "—",
        accepted_by_email=view.accepted_by_email,
        accepted_on=view.accepted_at.strftime("%b %d, %Y") if view.accepted_at else "—",
    )


class AgreementsState(PortalState):
    tab_label: str = TABS[ACCEPTED]
    rows: list[AgreementRow] = []
    loaded: bool = False
    can_accept: bool = False
    # The pending agreement opened for acceptance (0: none) and what will be recorded.
    open_id: int = 0
    open_name: str = ""
    open_version: str = ""
    signer_name: str = ""
    signer_email: str = ""
    signer_date: str = ""
    confirmed: bool = False
    accepting: bool = False
    error: str = ""

    def _refresh(self, identity) -> None:
        assign_changed(
            self, rows=[_row(view) for view in list_agreements(identity, TAB_BY_LABEL.get(self.tab_label, ACCEPTED))]
        )
        self.can_accept = can_accept(identity)
        self.loaded = True

    @guarded(Capability.AGREEMENTS)
    def load(self, identity: Identity):
        self.open_id = 0
        self._refresh(identity)

    @guarded(Capability.AGREEMENTS)
    def set_tab(self, identity: Identity, label: str):
        if label in TAB_BY_LABEL:
            self.tab_label = label
        self._refresh(identity)

    @guarded(Capability.AGREEMENTS)
    def open_agreement(self, identity: Identity, agreement_id: int):
        """Open a pending agreement to read and accept it (Administrators only)."""
        if not can_accept(identity):
            return rx.toast.error("Only a Work365 Administrator can accept an agreement.")
        view = get_agreement(identity, agreement_id)
        if view.status != "pending":
            return rx.toast.info("This agreement has already been accepted.")
        self.open_id, self.open_name, self.open_version = view.id, view.name, view.version
        self.signer_name, self.signer_email = identity.display_name, identity.email
        self.signer_date = clock.today().strftime("%b %d, %Y")
        self.confirmed, self.error, self.accepting = False, "", False
        return None

    @guarded(Capability.AGREEMENTS)
    def close_agreement(self, identity: Identity, _open: bool = False):
        if not self.accepting:
            self.open_id = 0

    @guarded(Capability.AGREEMENTS)
    def set_confirmed(self, identity: Identity, checked: bool):
        self.confirmed = checked is True

    @guarded(Capability.AGREEMENTS)
    async def accept(self, identity: Identity):
        if not self.confirmed:
            self.error = "Confirm that you have read the agreement and accept it on behalf of your company."
            return
        self.accepting, self.error = True, ""
        yield
        try:
            view = await accept_agreement(identity, self.open_id)
        except MicrosoftFailure as error:
            self.error = f"Microsoft did not record the acceptance: {error.message}"
            return
        except (AgreementNotFound, AgreementAlreadyAccepted):
            self.open_id = 0
            self._refresh(identity)
            raise  # the guard shows its message
        finally:
            self.accepting = False
        self.open_id = 0
        self.tab_label = TABS[ACCEPTED]
        self._refresh(identity)
        yield rx.toast.success(f"{view.name} (version {view.version}) accepted.")
