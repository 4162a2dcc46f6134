"""Microsoft sends the provider administrator back here after connecting Partner Center."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse
from starlette.routing import BaseRoute, Route

from opkalla_portal.db import session_scope
from opkalla_portal.services.access import PermissionDenied
from opkalla_portal.services.partner_connection import CALLBACK_PATH, PAGE_PATH, complete_connect
from opkalla_portal.services.sessions import SESSION_COOKIE, resolve_session


async def partner_center_callback(request: Request) -> RedirectResponse:
    """Record the connection (the signed-in provider administrator's own attempt only) and
    return to the Partner Center connection page with a short result code to show."""
    params = {key: value[:4000] for key, value in request.query_params.items()}
    with session_scope() as db:
        identity = resolve_session(db, request.cookies.get(SESSION_COOKIE))
    if identity is None:
        return RedirectResponse("/sign-in?" + urlencode({"next": PAGE_PATH}), status_code=303)
    try:
        result = await complete_connect(identity, params)
    except PermissionDenied:
        return RedirectResponse("/not-allowed?" + urlencode({"page": PAGE_PATH}), status_code=303)
    response = RedirectResponse(PAGE_PATH + "?" + urlencode({"result": result}), status_code=303)
    response.headers["cache-control"] = "no-store"
    return response


ROUTES: list[BaseRoute] = [Route(CALLBACK_PATH, partner_center_callback, methods=["GET"])]
