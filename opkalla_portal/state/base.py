"""The signed-in portal user as every page sees it, and the one guard every handler runs through.

Identity is resolved on the server from the HttpOnly session cookie on every call, never
taken from the browser. Every page handler is declared with `@guarded(Capability.X)`: the
guard resolves the identity once, checks the capability against the one table
(services/access.py), passes the identity to the handler, and turns any `PortalError` the
handler raises into the feedback the user sees (field error, toast, sign-in).

A tab's state belongs to the session that filled it: `SessionBoundState` (a Reflex
middleware, run before every event, the reconnect's hydrate included) resets every page's
data when the tab's session changed or ended, before anything is sent. The tab token alone
(Reflex's key for the state) therefore reads nothing without the session cookie.
"""

from __future__ import annotations

import functools
import inspect
import time
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any, TypedDict
from urllib.parse import quote, urlencode

import reflex as rx
from reflex.middleware import Middleware

from opkalla_portal.services.access import (
    Capability,
    Identity,
    NotSignedIn,
    PermissionDenied,
    capability_for_route,
    menu_for,
)
from opkalla_portal.services.errors import PortalError
from opkalla_portal.services.sessions import identity_for_token, token_from_cookie_header
from opkalla_portal.services.validation import ValidationFailed

# The identity resolved for the event being processed: (cookie token, when, identity). The
# session-bound middleware resolves it first for every event; the guard and the page's
# handlers in the same event reuse it instead of querying the session again (one lookup per
# event, not one per handler). Never across events: each runs in its own task (a context
# variable set there dies with it) and the middleware clears it first anyway; kept only
# briefly, so a background task re-resolves after a long Microsoft call. A signed-out
# session is refused at its next event (tests/security/test_tab_state_session.py).
_EVENT_IDENTITY: ContextVar[tuple[str | None, float, Identity | None] | None] = ContextVar(
    "opkalla_event_identity", default=None
)
_EVENT_IDENTITY_SECONDS = 0.5


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
    # Which session filled this tab's state: "" (nothing yet), "anonymous", or "session:<id>".
    _filled_by_session: str = ""

    def _identity(self) -> Identity | None:
        """Who is signed in, read from the session cookie sent with this websocket."""
        token = token_from_cookie_header(self.router.headers.cookie)
        now = time.monotonic()
        memo = _EVENT_IDENTITY.get()
        if memo is not None and memo[0] == token and now - memo[1] < _EVENT_IDENTITY_SECONDS:
            return memo[2]
        identity = identity_for_token(token)
        _EVENT_IDENTITY.set((token, now, identity))
        return identity

    def _filled_by(self, identity: Identity) -> bool:
        """Does this tab's state still belong to `identity`'s session? (A background task
        checks before writing: the tab may have been signed out and reset meanwhile.)"""
        return self._filled_by_session in ("", _session_key(identity))  # "": bound at its next event

    def _require(self, *capabilities: Capability) -> Identity:
        """The identity, if it may use every one of `capabilities`; raises PermissionDenied otherwise."""
        identity = self._identity()
        if identity is None:
            raise NotSignedIn("Your session has ended. Please sign in again.")
        if not all(identity.can(capability) for capability in capabilities):
            raise PermissionDenied("Your role does not allow this. Ask your portal administrator for access.")
        return identity

    def _feedback(self, error: PortalError) -> Any:
        """What the user sees for a refusal: sign-in when the session is gone; the message beside
        its field when this page has an `errors` dict holding that field; a toast otherwise."""
        if isinstance(error, NotSignedIn):
            return [rx.toast.error(error.message), rx.redirect("/sign-in")]
        fields = getattr(self, "errors", None)
        if isinstance(error, ValidationFailed) and isinstance(fields, dict):
            self.errors = {name: error.errors.get(name, "") for name in fields} | {
                name: message for name, message in error.errors.items() if name not in fields
            }
        elif error.field and isinstance(fields, dict) and error.field in fields:
            self.errors = {**fields, error.field: error.message}
        return rx.toast.error(error.message)

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


def _session_key(identity: Identity | None) -> str:
    return "anonymous" if identity is None else f"session:{identity.session_id}"


class SessionBoundState(Middleware):
    """Reset the whole tab state when its session changed or ended, before the event runs.

    Runs first for every event. The marker lives on PortalState (the parent of every page
    state), so it is loaded whenever page data is: on the reconnect's hydrate (the whole
    tree, sent in full) and for every page event. Events whose branch holds no portal state
    (Reflex's own on_load dispatch) carry no page data and are let through.
    """

    async def preprocess(self, app, state, event):
        _EVENT_IDENTITY.set(None)  # every event resolves the session afresh
        root = state._get_root_state()
        portal = root.substates.get(PortalState.get_name())
        if portal is None:
            return None
        current = _session_key(portal._identity())
        if portal._filled_by_session == current:
            return None
        if portal._filled_by_session:
            await _reset_tab(root)
        portal._filled_by_session = current
        return None


async def _reset_tab(root: rx.State) -> None:
    """Every substate of the tab back to its defaults (Redis loads only an event's branch,
    so the rest of the tree is fetched first; it is saved with the event)."""
    pending = list(type(root).get_substates())
    while pending:
        state_cls = pending.pop()
        await root.get_state(state_cls)
        pending.extend(state_cls.get_substates())
    for substate in root.substates.values():
        substate.reset()


def guarded(*capabilities: Capability, background: bool = False) -> Callable[[Callable], Any]:
    """The one guard of every page handler: `@guarded(Capability.COMPANY)` instead of `@rx.event`.

    The handler is written `def save(self, identity, form_data)`: it runs only for a signed-in
    user holding every capability named (none named: any signed-in user), receives that
    identity, and may raise `PortalError` anywhere — the guard turns it into feedback
    (`PortalState._feedback`). The browser sees the handler without the identity argument.
    Background handlers show refusals as toasts (they hold no lock to write field errors).
    """

    def decorate(fn: Callable) -> Any:
        def refusal(state, error: PortalError) -> Any:
            return (
                rx.toast.error(error.message)
                if background and not isinstance(error, NotSignedIn)
                else PortalState._feedback(state, error)
            )

        if inspect.isasyncgenfunction(fn):

            async def handler(self, *args, **kwargs):
                try:
                    identity = self._require(*capabilities)
                    async for item in fn(self, identity, *args, **kwargs):
                        yield item
                except PortalError as error:
                    yield refusal(self, error)
        elif inspect.iscoroutinefunction(fn):

            async def handler(self, *args, **kwargs):
                try:
                    identity = self._require(*capabilities)
                    return await fn(self, identity, *args, **kwargs)
                except PortalError as error:
                    return refusal(self, error)
        elif inspect.isgeneratorfunction(fn):

            def handler(self, *args, **kwargs):
                try:
                    identity = self._require(*capabilities)
                    yield from fn(self, identity, *args, **kwargs)
                except PortalError as error:
                    yield refusal(self, error)
        else:

            def handler(self, *args, **kwargs):
                try:
                    identity = self._require(*capabilities)
                    return fn(self, identity, *args, **kwargs)
                except PortalError as error:
                    return refusal(self, error)

        functools.update_wrapper(handler, fn)
        # What Reflex (and the browser) sees: the handler's own arguments, without `identity`.
        parameters = list(inspect.signature(fn).parameters.values())
        handler.__signature__ = inspect.Signature([parameters[0], *parameters[2:]])
        handler.__annotations__ = {k: v for k, v in fn.__annotations__.items() if k != parameters[1].name}
        handler.__guarded__ = capabilities  # the security harness checks every handler has it
        return rx.event(handler, background=background) if background else rx.event(handler)

    return decorate
