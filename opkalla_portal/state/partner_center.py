"""Partner Center connection (/partner-center): the provider administrators' delegated
App+User connection to Partner Center: status, Connect / Reconnect, Disconnect."""

from __future__ import annotations

import json

import reflex as rx

from opkalla_portal.services import partner_connection as pcc
from opkalla_portal.services.access import Capability, Identity
from opkalla_portal.services.errors import MicrosoftFailure
from opkalla_portal.state.base import PortalState, guarded

RESULTS = {
    "connected": ("success", "Partner Center is connected."),
    "no_mfa": (
        "error",
        "Partner Center was connected without MFA: Partner Center will refuse it. "
        "Reconnect, completing multifactor authentication.",
    ),
    "cancelled": ("error", "Connecting Partner Center was cancelled."),
    "expired": ("error", "That connection attempt has expired or was already used. Please try again."),
    "failed": ("error", "Microsoft could not connect Partner Center. Please try again."),
}


def _date(moment) -> str:
    return f"{moment:%B} {moment.day}, {moment.year}" if moment else ""


class PartnerConnectionState(PortalState):
    loaded: bool = False
    connected: bool = False
    healthy: bool = False
    needs_reconnecting: bool = False
    connected_by: str = ""
    connected_as: str = ""
    connected_on: str = ""
    mfa_backed: bool = False
    expires_on: str = ""
    problem: str = ""
    result_kind: str = ""
    result_message: str = ""
    confirm_disconnect: bool = False
    working: bool = False

    def _show(self, identity) -> None:
        status = pcc.connection_status(identity)
        self.connected, self.healthy = status.connected, status.healthy
        self.needs_reconnecting = status.needs_reconnecting
        self.connected_by, self.connected_as = status.connected_by, status.connected_as
        self.connected_on, self.expires_on = _date(status.connected_at), _date(status.expires_at)
        self.mfa_backed, self.problem = status.mfa, status.problem
        self.partner_center_warning = pcc.warning_for(identity)
        self.loaded = True

    @guarded(Capability.USERS)
    def load(self, identity: Identity):
        if not pcc.is_provider_admin(identity):  # a customer's Administrator: not their page
            self.loaded = False
            return rx.redirect("/not-allowed?page=/partner-center")
        self.confirm_disconnect = False
        self.working = False
        self.result_kind, self.result_message = RESULTS.get(
            self.router.url.query_parameters.get("result", ""), ("", "")
        )
        self._show(identity)

    @guarded(Capability.USERS)
    async def connect(self, identity: Identity):
        """Off to Microsoft (sign-in with MFA); the callback route stores the connection."""
        pcc.require_provider_admin(identity)
        self.working = True
        yield
        try:
            auth_uri = await pcc.begin_connect(identity)
        except MicrosoftFailure as error:
            self.working = False
            self.result_kind, self.result_message = "error", error.message
            return
        # A full navigation (rx.redirect would route same-origin URLs, the demo's emulator, inside the app).
        yield rx.call_script(f"window.location.assign({json.dumps(auth_uri)})")

    @guarded(Capability.USERS)
    def ask_disconnect(self, identity: Identity):
        pcc.require_provider_admin(identity)
        self.confirm_disconnect = True

    @guarded(Capability.USERS)
    def cancel_disconnect(self, identity: Identity):
        self.confirm_disconnect = False

    @guarded(Capability.USERS)
    def disconnect(self, identity: Identity):
        pcc.disconnect(identity)
        self.confirm_disconnect = False
        self.result_kind, self.result_message = "success", "Partner Center was disconnected."
        self._show(identity)
