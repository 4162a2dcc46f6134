"""The signed-in portal user as every page sees it, and the guard every page loads through.

Identity is resolved on the server from the HttpOnly session cookie on every call, never
taken from the browser; page states inherit `_require` and call it first in each handler.
"""

from __future__ import annotations

from typing import TypedDict
from urllib.parse import quote, urlencode

import reflex as rx

from opkalla_portal.db import session_scope
from opkalla_portal.services.access import Capability, Identity, PermissionDenied, capability_for_route, menu_for
from opkalla_portal.services.sessions import resolve_session, token_from_cookie_header


class MenuEntry(TypedDict):
    label: str
    route: str
    icon: str


class PortalState(rx.State):
    """Public: only what the shell shows about the signed-in user."""

    user_name: str = ""
    user_initials: str = ""
    user_role: str = ""
    organization_name: str = ""
    menu: list[MenuEntry] = []
    is_admin: bool = False
    is_provider_admin: bool = False
    # Provider administrators only: the Partner Center connection is missing, broken or expiring.
    partner_center_warning: str = ""
    # The page's path without the trailing slash the production build adds ("/my-services/").
    current_route: str = "/"

    def _identity(self) -> Identity | None:
        """Who is signed in, read from the session cookie sent with this websocket."""
        token = token_from_cookie_header(self.router.headers.cookie)
        with session_scope() as db:
            return resolve_session(db, token)

    def _require(self, capability: Capability) -> Identity:
        """The identity, if it may use `capability`; raises PermissionDenied otherwise."""
        identity = self._identity()
        if identity is None:
            from opkalla_portal.services.access import NotSignedIn

            raise NotSignedIn("Your session has ended. Please sign in again.")
        if not identity.can(capability):
            raise PermissionDenied("Your role does not allow this. Ask your portal administrator for access.")
        return identity

    def _publish_identity(self, identity: Identity) -> None:
        from opkalla_portal.services.organizations import organization_name
        from opkalla_portal.services.partner_connection import warning_for

        is_admin = identity.can(Capability.USERS)
        shown = dict(
            user_name=identity.display_name,
            user_initials="".join(part[:1] for part in identity.display_name.split()[:2]).upper(),
            user_role=identity.role or "No role",
            menu=[MenuEntry(label=i.label, route=i.route, icon=i.icon) for i in menu_for(identity)],
            is_admin=is_admin,
            is_provider_admin=identity.is_provider and is_admin,
            organization_name=organization_name(identity),
            partner_center_warning=warning_for(identity),
        )
        for name, value in shown.items():
            if getattr(self, name) != value:  # an assigned var is re-sent to the browser, even unchanged
                setattr(self, name, value)

    @rx.event
    def guard(self):
        """on_load of every protected page: sign-in first, then the role's permission."""
        path = self.router.url.path or "/"
        self.current_route = path.rstrip("/") or "/"
        identity = self._identity()
        if identity is None:
            self.user_name = ""
            self.menu = []
            # Back to this very page after sign-in, query included (e.g. /manage-users/user?id=4).
            query = urlencode(self.router.url.query_parameters)
            asked = f"{path}?{query}" if query else path
            return rx.redirect(f"/sign-in?next={quote(asked, safe='/')}")
        self._publish_identity(identity)
        needed = capability_for_route(path)
        if needed is None or not identity.can(needed):
            return rx.redirect(f"/not-allowed?page={quote(path, safe='/')}")
        return None

    @rx.event
    def load_identity(self):
        """on_load of public pages (sign-in, not-allowed): show the name if signed in."""
        identity = self._identity()
        if identity is not None:
            self._publish_identity(identity)


def refused(error: PermissionDenied):
    """The standard answer to a refused event: a toast, and sign-in when the session is gone."""
    from opkalla_portal.services.access import NotSignedIn

    if isinstance(error, NotSignedIn):
        return [rx.toast.error(str(error)), rx.redirect("/sign-in")]
    return rx.toast.error(str(error))
