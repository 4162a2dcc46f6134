"""One Reflex event per page load: the page guard, then the page's own on_load handlers.

Pages declare `on_load=[PortalState.guard, PageState.load, ...]` (components/page.py). Run as
declared, every navigation cost Reflex a separate event for the guard: load the tab's state,
run it, compute, serialise and send a delta. `PageLoadState.load(route)` runs the same guard
function and, if it lets the visitor in, the page's handlers in the same event: the
ordinary ones inline (their state updates go out together), background ones queued as
before (they load from Microsoft without holding the tab). When the guard redirects, the
page's handlers do not run at all.

Each page handler still re-checks the session and role itself (handlers are a public API),
so calling this with any route runs nothing a browser could not call directly.
"""

from __future__ import annotations

import inspect
from typing import Any

import reflex as rx

from opkalla_portal.state.base import PortalState

# route -> the page's own on_load handlers (after the guard), as (state class, handler).
_PAGE_LOADS: dict[str, list[tuple[type, Any]]] = {}


def _state_class(handler) -> type:
    cls: type = rx.State
    for part in handler.state_full_name.split(".")[1:]:
        cls = next(sub for sub in cls.get_substates() if sub.get_name() == part)
    return cls


def _is_guard(handler) -> bool:
    guard = PortalState.event_handlers["guard"]
    return getattr(handler, "fn", None) is guard.fn and handler.state_full_name == guard.state_full_name


def on_load_for(route: str, on_load: Any) -> Any:
    """The on_load to register for `route`: one PageLoadState.load event when the page's list
    starts with the guard, else the declared on_load unchanged."""
    if not isinstance(on_load, (list, tuple)) or not on_load or not _is_guard(on_load[0]):
        return on_load
    _PAGE_LOADS[route] = [(_state_class(handler), handler) for handler in on_load[1:]]
    return PageLoadState.load(route)


class PageLoadState(PortalState):
    """No vars of its own: it writes the shell's (PortalState) and the pages' states."""

    @rx.event
    async def load(self, route: str):
        """on_load of every protected page: the guard, then the page's handlers, in one event."""
        verdict = PortalState.guard.fn(self)  # sign-in, role; publishes the shell's identity
        if verdict is not None:
            yield verdict  # to sign-in or not-allowed: the page loads nothing
            return
        for state_cls, handler in _PAGE_LOADS.get(str(route), []):
            if handler.is_background:
                yield handler  # queued: runs beside the page, with its own loading state
                continue
            result = handler.fn(await self.get_state(state_cls))
            if inspect.isasyncgen(result):
                async for item in result:
                    yield item
            elif inspect.isgenerator(result):
                for item in result:
                    yield item
            else:
                if inspect.isawaitable(result):
                    result = await result
                if result is not None:
                    yield result
