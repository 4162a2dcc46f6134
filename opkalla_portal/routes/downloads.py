"""File downloads (invoice PDFs, usage CSVs), each authorised against the session.

The URL names the invoice or subscription; who may read it is decided here from the
HttpOnly session cookie, the role and the customer: signed out -> sign-in, wrong role ->
403, another customer's invoice -> 404 (the same as one that does not exist).
"""

from __future__ import annotations

from html import escape
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from opkalla_portal import clock
from opkalla_portal.db import session_scope
from opkalla_portal.microsoft.errors import MicrosoftError
from opkalla_portal.services.access import Capability, Identity, PermissionDenied, require
from opkalla_portal.services.errors import MicrosoftFailure
from opkalla_portal.services.sessions import SESSION_COOKIE, resolve_session

PRIVATE = {"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"}


def _identity(request: Request) -> Identity | None:
    with session_scope() as db:
        return resolve_session(db, request.cookies.get(SESSION_COOKIE))


def _authorise(request: Request, capability: Capability) -> Identity | Response:
    identity = _identity(request)
    if identity is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/sign-in?next={quote(target, safe='/')}", status_code=303)
    try:
        return require(identity, capability)
    except PermissionDenied as error:
        return PlainTextResponse(str(error), status_code=403, headers=PRIVATE)


def _attachment(body: bytes | str, filename: str, media_type: str) -> Response:
    headers = dict(PRIVATE)
    headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return Response(body, media_type=media_type, headers=headers)


def _not_found() -> Response:
    return PlainTextResponse("That invoice was not found.", status_code=404, headers=PRIVATE)


def _microsoft_failed(error: MicrosoftError | MicrosoftFailure, back: str) -> Response:
    """A readable page (the download was a full navigation) with Microsoft's message and a way back."""
    message = escape(f"Microsoft could not provide the usage: {error.message}")
    body = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Download failed</title>'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"></head>'
        f'<body style="font-family: system-ui, sans-serif; max-width: 36rem; margin: 4rem auto; padding: 0 1rem">'
        f'<h1>The download could not be prepared</h1><p role="alert">{message}</p>'
        f'<p>Please try again in a few minutes.</p><p><a href="{escape(back)}">Go back</a></p></body></html>'
    )
    return HTMLResponse(body, status_code=502, headers=PRIVATE)


async def invoice_pdf(request: Request) -> Response:
    from opkalla_portal.services.invoice_pdf import render_invoice_pdf
    from opkalla_portal.services.invoices import InvoiceNotFound, get_invoice

    identity = _authorise(request, Capability.INVOICES)
    if isinstance(identity, Response):
        return identity
    try:
        detail = get_invoice(identity, request.path_params["invoice_id"])
    except InvoiceNotFound:
        return _not_found()
    return _attachment(render_invoice_pdf(detail), f"{detail.summary.invoice_id}.pdf", "application/pdf")


async def invoice_usage_csv(request: Request) -> Response:
    from opkalla_portal.services.invoices import InvoiceNotFound, invoice_usage_rows, usage_csv

    identity = _authorise(request, Capability.INVOICES)
    if isinstance(identity, Response):
        return identity
    invoice_id = request.path_params["invoice_id"]
    try:
        rows = invoice_usage_rows(identity, invoice_id)
    except InvoiceNotFound:
        return _not_found()
    return _attachment(usage_csv(rows), f"{invoice_id}-azure-usage.csv", "text/csv; charset=utf-8")


async def usage_data_csv(request: Request) -> Response:
    from opkalla_portal.services.usage import UsageError, report_csv, usage_report

    identity = _authorise(request, Capability.USAGE)
    if isinstance(identity, Response):
        return identity
    subscription_id = request.query_params.get("subscription", "")
    try:
        months = int(request.query_params.get("months", "3"))
        report = await usage_report(identity, subscription_id, months)
    except ValueError:
        return PlainTextResponse(
            "Choose last 3 months, 6 months, 9 months or 12 months.", status_code=400, headers=PRIVATE
        )
    except MicrosoftFailure as error:
        return _microsoft_failed(error, "/usage-data")
    except UsageError as error:
        return PlainTextResponse(error.message, status_code=404, headers=PRIVATE)
    filename = f"azure-usage-{report.months}-months-{clock.today():%Y%m%d}.csv"
    return _attachment(report_csv(report), filename, "text/csv; charset=utf-8")


ROUTES: list[BaseRoute] = [
    Route("/downloads/invoices/{invoice_id}/invoice.pdf", invoice_pdf, methods=["GET"]),
    Route("/downloads/invoices/{invoice_id}/usage.csv", invoice_usage_csv, methods=["GET"]),
    Route("/downloads/usage-data.csv", usage_data_csv, methods=["GET"]),
]
