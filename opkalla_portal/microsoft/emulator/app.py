"""The emulator's Starlette application: every service is a Mount of plain routes, so the
portal can take ``build_emulator_app(store).routes`` into its own app unchanged."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from opkalla_portal.demo import demo_data

from .billing_api import blob_routes
from .context import BaseUrlGetter, Emulator
from .faults import FaultConfig
from .graph_api import graph_routes
from .login import login_routes
from .openai_api import openai_routes
from .partner_api import partner_center_routes
from .paths import ADMIN_PREFIX, GRAPH_PREFIX, LOGIN_PREFIX, OPENAI_PREFIX, PARTNER_CENTER_PREFIX, emulator_urls
from .settings import (
    EMULATOR_CLIENT_ID,
    EMULATOR_CLIENT_SECRET,
    EMULATOR_EMBEDDINGS_DEPLOYMENT,
    EMULATOR_OPENAI_DEPLOYMENT,
    EMULATOR_OPENAI_KEY,
)
from .store import EmulatorStore


def emulator_config(base_url: str) -> dict:
    """Everything a client needs to use an emulator at ``base_url`` (printed by --print-config)."""
    return {
        **emulator_urls(base_url),
        "client_id": EMULATOR_CLIENT_ID,
        "client_secret": EMULATOR_CLIENT_SECRET,
        "openai_deployment": EMULATOR_OPENAI_DEPLOYMENT,
        "openai_key": EMULATOR_OPENAI_KEY,
        "openai_embeddings_deployment": EMULATOR_EMBEDDINGS_DEPLOYMENT,
        "customers": {
            c.key: {"name": c.name, "tenant_id": c.tenant_id, "domain": c.domain, "consented": c.consented}
            for c in demo_data.CUSTOMERS.values()
        },
    }


def admin_routes(emulator: Emulator) -> list[Route]:
    """Test/demo switches: faults and reset. Local use only (no auth, like a dev server)."""

    async def faults(request: Request) -> Response:
        if request.method == "GET":
            with emulator.store.read() as tx:
                return JSONResponse(tx.meta("faults") or FaultConfig().to_dict())
        if request.method == "DELETE":
            return JSONResponse(emulator.store.clear_faults())
        try:
            body = await request.json()
            return JSONResponse(emulator.store.set_faults(**(body or {})))
        except (TypeError, ValueError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)

    async def reset(request: Request) -> Response:
        emulator.store.reset()
        return JSONResponse({"reset": True})

    async def revoke_refresh_tokens(request: Request) -> Response:
        body = await request.json() if await request.body() else {}
        return JSONResponse({"revoked": emulator.store.revoke_refresh_tokens((body or {}).get("oid"))})

    async def config(request: Request) -> Response:
        return JSONResponse(emulator_config(emulator.base_url(request)))

    return [
        Route("/faults", faults, methods=["GET", "POST", "DELETE"]),
        Route("/reset", reset, methods=["POST"]),
        Route("/config", config, methods=["GET"]),
        Route("/revoke-refresh-tokens", revoke_refresh_tokens, methods=["POST"]),
        *blob_routes(emulator),
    ]  # the "storage account" of billing exports (SAS-checked)


def build_emulator_app(store: EmulatorStore, public_base_url: BaseUrlGetter = None) -> Starlette:
    """The emulator as a Starlette app backed by ``store``.

    ``public_base_url``: optional callable (``request -> str`` or ``() -> str``) giving the
    base URL clients reach the emulator at; by default it is taken from each request.
    """
    emulator = Emulator(store, public_base_url)
    routes = [
        Mount(GRAPH_PREFIX, routes=graph_routes(emulator)),
        Mount(PARTNER_CENTER_PREFIX, routes=partner_center_routes(emulator)),
        Mount(LOGIN_PREFIX, routes=login_routes(emulator)),
        Mount(OPENAI_PREFIX, routes=openai_routes(emulator)),
        Mount(ADMIN_PREFIX, routes=admin_routes(emulator)),
    ]
    app = Starlette(routes=routes)
    app.state.emulator = emulator
    return app
