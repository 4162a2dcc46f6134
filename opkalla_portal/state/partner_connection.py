"""Partner Center connection (/partner-center): the provider administrators' delegated
App+User connection to Partner Center: status, Connect / Reconnect, Disconnect."""

from __future__ import annotations

import json

import reflex as rx

from opkalla_portal.microsoft.errors import MicrosoftError
from opkalla_portal.services import partner_connection as pcc
from opkalla_portal.services.access import Capability, PermissionDenied
from opkalla_portal.state.base import PortalState, refused

RESULTS = {
    "connected": ("success", "Partner Center is connected."),
    "no_mfa": ("error", "Partner Center was connected without MFA: Partner Center will refuse it. "
                        "Reconnect, completing multifactor authentication."),
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

    def _admin(self):
        return pcc.require_provider_admin(self._require(Capability.USERS))

    def _show(self, identity) -> None:
        status = pcc.connection_status(identity)
        self.connected, self.healthy = status.connected, status.healthy
        self.needs_reconnecting = status.needs_reconnecting
        self.connected_by, self.connected_as = status.connected_by, status.connected_as
        self.connected_on, self.expires_on = _date(status.connected_at), _date(status.expires_at)
        self.mfa_backed, self.problem = status.mfa, status.problem
        self.partner_center_warning = pcc.warning_for(identity)
        self.loaded = True

    @rx.event
    def load(self):
        try:
            identity = self._admin()
        except PermissionDenied:
            self.loaded = False
            # The guard (first on_load) handles signed-out visitors; anyone else signed in who
            # is not a provider administrator is sent to not-allowed.
            if self._identity() is not None:
                return rx.redirect("/not-allowed?page=/partner-center")
            return None
        self.confirm_disconnect = False
        self.working = False
        self.result_kind, self.result_message = RESULTS.get(
            self.router.url.query_parameters.get("result", ""), ("", ""))
        self._show(identity)

    @rx.event
    async def connect(self):
        """Off to Microsoft (sign-in with MFA); the callback route stores the connection."""
        try:
            identity = self._admin()
        except PermissionDenied as error:
            yield refused(error)
            return
        self.working = True
        yield
        try:
            auth_uri = await pcc.begin_connect(identity)
        except MicrosoftError as error:
            self.working = False
            self.result_kind, self.result_message = "error", error.message
            return
        # A full navigation (rx.redirect would route same-origin URLs, the demo's emulator, inside the app).
        yield rx.call_script(f"window.location.assign({json.dumps(auth_uri)})")

    @rx.event
    def ask_disconnect(self):
        try:
            self._admin()
        except PermissionDenied as error:
            return refused(error)
        self.confirm_disconnect = True

    @rx.event
    def cancel_disconnect(self):
        self.confirm_disconnect = False

    @rx.event
    def disconnect(self):
        try:
            identity = self._admin()
            pcc.disconnect(identity)
        except PermissionDenied as error:
            return refused(error)
        self.confirm_disconnect = False
        self.result_kind, self.result_message = "success", "Partner Center was disconnected."
        self._show(identity)
