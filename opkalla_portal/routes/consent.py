"""Microsoft's admin-consent page sends the Global Admin back here (GET with state/tenant)."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse
from starlette.routing import BaseRoute, Route

from opkalla_portal.db import session_scope
from opkalla_portal.services.consent import CONSENT_CALLBACK_PATH, complete_admin_consent
from opkalla_portal.services.sessions import SESSION_COOKIE, resolve_session


async def admin_consent_callback(request: Request) -> RedirectResponse:
    """Record the outcome and return to Manage Licenses with a short result code to show."""
    params = {key: value[:500] for key, value in request.query_params.items()}
    with session_scope() as db:
        identity = resolve_session(db, request.cookies.get(SESSION_COOKIE))
        outcome = complete_admin_consent(
            db, state=params.get("state"), params=params, signed_in_user_id=identity.user_id if identity else None
        )
    return RedirectResponse("/manage-licenses?" + urlencode({"consent": outcome.result}), status_code=303)


ROUTES: list[BaseRoute] = [Route(CONSENT_CALLBACK_PATH, admin_consent_callback, methods=["GET"])]
