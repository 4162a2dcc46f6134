"""The sign-in page: where its Sign In button goes, and straight on when already signed in."""

from __future__ import annotations

from urllib.parse import quote

import reflex as rx

from opkalla_portal.services.sign_in import safe_next
from opkalla_portal.state.base import PortalState


class SignInState(PortalState):
    sign_in_href: str = "/auth/sign-in"

    @rx.event
    def load(self):
        next_path = safe_next(self.router.url.query_parameters.get("next", "/"))
        self.sign_in_href = f"/auth/sign-in?next={quote(next_path, safe='')}"
        identity = self._identity()
        if identity is not None:
            self._publish_identity(identity)
            return rx.redirect(next_path, replace=True)
        return None
