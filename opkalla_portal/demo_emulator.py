"""Demo mode's Microsoft: the emulator's routes served on the portal's own port.

Only the wiring lives here; which URLs the clients call is decided by
`services.microsoft_clients` (settings), never by `if demo:` in domain code.
"""

from __future__ import annotations

import os
from functools import lru_cache

from starlette.routing import BaseRoute

from opkalla_portal.settings import PROJECT_DIR, load_settings


@lru_cache(maxsize=1)
def emulator_store():
    """The demo's emulator state (its own SQLite file, kept across restarts)."""
    from opkalla_portal.microsoft.emulator import EmulatorStore

    path = os.environ.get("OPKALLA_EMULATOR_DB") or str(PROJECT_DIR / "data" / "emulator.db")
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    return EmulatorStore(path)


def emulator_routes() -> list[BaseRoute]:
    """The emulator's routes, when demo mode is on; nothing otherwise."""
    if not load_settings().demo_mode:
        return []
    from opkalla_portal.microsoft.emulator import build_emulator_app

    routes = list(build_emulator_app(emulator_store()).routes)
    return [_forgetting_on_reset(route) for route in routes] if routes else routes


def _forgetting_on_reset(route: BaseRoute) -> BaseRoute:
    """POST /emulator/reset restores the demo world behind the portal's back: the portal's
    per-tenant cache of Microsoft reads (services/tenant_cache.py) must forget it too."""
    from starlette.routing import Mount, Route

    if isinstance(route, Mount) and any(getattr(r, "path", "").endswith("/reset") for r in route.routes):
        return Mount(route.path, routes=[_forgetting_on_reset(r) for r in route.routes], name=route.name)
    if isinstance(route, Route) and route.path.endswith("/reset"):
        endpoint = route.endpoint

        async def reset_and_forget(request):
            from opkalla_portal.services import tenant_cache

            try:
                return await endpoint(request)
            finally:
                tenant_cache.clear()

        return Route(route.path, reset_and_forget, methods=sorted(route.methods or ()), name=route.name)
    return route
