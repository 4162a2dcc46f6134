"""Drive the portal's Reflex states the way the server does, without a browser.

Every public method of a state class is an event handler any connected browser can call
with any arguments, so the security tests enumerate them all from the app itself: a new
state class or handler in a feature is covered without touching these tests.
"""

from __future__ import annotations

import hashlib
import inspect
import json
from collections.abc import Iterator
from typing import Any

from sqlalchemy import inspect as sa_inspect
from sqlalchemy import text


def load_app() -> None:
    """Import the app so every page's state class is registered."""
    import opkalla_portal.opkalla_portal  # noqa: F401


def portal_state_classes() -> list[type]:
    """PortalState and every state beneath it (the portal's own; Reflex's internals excluded)."""
    from opkalla_portal.state.base import PortalState

    load_app()
    found: list[type] = []

    def walk(cls: type) -> None:
        found.append(cls)
        for sub in sorted(cls.get_substates(), key=lambda c: c.get_full_name()):
            walk(sub)

    walk(PortalState)
    return found


def own_handlers(state_cls: type) -> dict[str, Any]:
    """The event handlers a browser can call on this class (its own, not inherited)."""
    handlers = {}
    for name, handler in state_cls.event_handlers.items():
        if name.startswith("_"):
            continue
        if state_cls.__mro__[1] is not None and name in getattr(state_cls.__mro__[1], "event_handlers", {}):
            continue  # inherited from the parent state: tested there
        handlers[name] = handler
    return handlers


def public_var_names(state_cls: type) -> list[str]:
    names = [*state_cls.base_vars, *state_cls.computed_vars]
    return [name for name in names if not name.startswith("_") and not name.startswith("rx_router")]


def build_root(cookie_token: str | None, path: str = "/", query: dict | None = None):
    """A fresh state tree whose router carries the request a browser tab would send."""
    from reflex.istate.data import RouterData
    from reflex.state import State

    load_app()
    root = State(_reflex_internal_init=True)
    headers = {"cookie": f"opkalla_session={cookie_token}"} if cookie_token else {}
    query_string = "&".join(f"{k}={v}" for k, v in (query or {}).items())
    as_path = path + (f"?{query_string}" if query_string else "")
    root.router = RouterData.from_router_data(
        {
            "headers": headers,
            "pathname": path,
            "asPath": as_path,
            "query": query or {},
            "origin": "http://localhost:3000",
        }
    )
    return root


def substate(root, state_cls: type):
    return root.get_substate(state_cls.get_full_name().split(".")[1:])


async def call(root, handler, *args) -> list[Any]:
    """Run one handler like Reflex does (sync, async, generators); returns what it emitted."""
    state = substate(root, _state_cls(handler))
    result = handler.fn(state, *args)
    emitted: list[Any] = []
    if inspect.isasyncgen(result):
        async for item in result:
            emitted.append(item)
    elif inspect.isgenerator(result):
        emitted.extend(result)
    elif inspect.isawaitable(result):
        emitted.append(await result)
    else:
        emitted.append(result)
    return emitted


def _state_cls(handler) -> type:
    from reflex.state import State

    load_app()
    cls = State
    for part in handler.state_full_name.split(".")[1:]:
        cls = next(sub for sub in cls.get_substates() if sub.get_name() == part)
    return cls


def describe(emitted: list[Any]) -> str:
    """The handler's emitted events as text (toasts, redirects), for refusal checks."""
    return " ".join(repr(item) for item in emitted if item is not None)


def public_values(root) -> str:
    """Everything the browser would receive for this tree, as one JSON string."""
    from opkalla_portal.state.base import PortalState

    return json.dumps(substate(root, PortalState).dict(), default=str)


def sample_arguments(handler, ids: list[int] | None = None) -> Iterator[tuple]:
    """Argument tuples to try: one 'plausible' call, then each given id in every int slot."""
    parameters = [
        p
        for p in list(inspect.signature(handler.fn).parameters.values())[1:]
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    if not parameters:
        yield ()
        return

    def plain(p: inspect.Parameter) -> Any:
        annotation = str(p.annotation)
        if "int" in annotation:
            return 1
        if "bool" in annotation:
            return True
        if "dict" in annotation:
            return {"value": "1", "id": 1}
        if "list" in annotation:
            return ["1"]
        return "1"

    yield tuple(plain(p) for p in parameters)
    for value in ids or []:
        yield tuple(value if "int" in str(p.annotation) else str(value) for p in parameters)


def database_digest() -> str:
    """A hash of every row of every table: any write by a refused call changes it."""
    from opkalla_portal.db import get_engine

    engine = get_engine()
    digest = hashlib.sha256()
    with engine.connect() as connection:
        for table in sorted(sa_inspect(engine).get_table_names()):
            if table == "alembic_version":
                continue
            rows = connection.execute(text(f'SELECT * FROM "{table}"')).fetchall()
            for row in sorted(repr(tuple(row)) for row in rows):
                digest.update(f"{table}:{row}\n".encode())
    return digest.hexdigest()


def database_digest_without_session_touches(organization_id: int | None = None) -> str:
    """As database_digest, ignoring portalsession.last_seen_at (refreshed on any read); with
    `organization_id`, only that customer's rows (tables with an organization_id column)."""
    from opkalla_portal.db import get_engine

    engine = get_engine()
    digest = hashlib.sha256()
    with engine.connect() as connection:
        for table in sorted(sa_inspect(engine).get_table_names()):
            if table == "alembic_version":
                continue
            all_columns = [c["name"] for c in sa_inspect(engine).get_columns(table)]
            columns = [c for c in all_columns if not (table == "portalsession" and c == "last_seen_at")]
            select = ", ".join(f'"{c}"' for c in columns)
            where, params = "", {}
            if organization_id is not None:
                if "organization_id" in all_columns:
                    where, params = " WHERE organization_id = :org", {"org": organization_id}
                elif table == "organization":
                    where, params = " WHERE id = :org", {"org": organization_id}
                else:
                    continue
            rows = connection.execute(text(f'SELECT {select} FROM "{table}"{where}'), params).fetchall()
            for row in sorted(repr(tuple(row)) for row in rows):
                digest.update(f"{table}:{row}\n".encode())
    return digest.hexdigest()
