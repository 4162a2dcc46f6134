"""Demo mode's card processor: turns a card into a token, as Stripe-like processors do.

The browser posts the card here directly (it never reaches a Reflex event); the answer is a
random token with the brand, last four digits and expiry. The card number is neither stored
nor logged: it lives only in this request's memory. The token and what it stands for (brand,
last four, expiry) are kept for an hour in this process, so the portal's server can confirm a
token before saving it (`GET .../tokens/{id}`, as Stripe's `GET /v1/tokens/:id`); an unknown
or expired token is answered 404, like the real processor.
"""

from __future__ import annotations

import secrets
import threading
import time

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from opkalla_portal import clock
from opkalla_portal.services.payments import expiry_in_future, luhn_valid
from opkalla_portal.services.validation import is_ascii_digits

TOKENS_PATH = "/payment-processor/v1/tokens"
TOKEN_LIFETIME_SECONDS = 3600
_MAX_TOKENS = 10_000

_issued: dict[str, tuple[float, dict]] = {}  # token -> (issued at, monotonic; the card's public facts)
_issued_lock = threading.Lock()


def card_brand(number: str) -> str | None:
    """The card network from the number's leading digits (IIN ranges), or None."""
    if number.startswith("4"):
        return "Visa"
    if number[:2] in {"34", "37"}:
        return "American Express"
    if 51 <= int(number[:2] or 0) <= 55 or 2221 <= int(number[:4] or 0) <= 2720:
        return "Mastercard"
    if number.startswith(("6011", "65")) or 644 <= int(number[:3] or 0) <= 649:
        return "Discover"
    return None


def _error(field: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"field": field, "message": message}}, status_code=400)


async def create_token(request: Request) -> JSONResponse:
    try:
        body = await request.json()
    except ValueError:
        return _error("", "The request body must be JSON.")
    if not isinstance(body, dict):
        return _error("", "The request body must be a card.")
    number = "".join(str(body.get("number", "")).split())
    if not is_ascii_digits(number) or not luhn_valid(number):
        return _error("number", "The card number is not valid.")
    brand = card_brand(number)
    if brand is None:
        return _error("number", "This card type is not accepted.")
    try:
        month, year = int(body.get("exp_month")), int(body.get("exp_year"))
    except (TypeError, ValueError):
        return _error("expiry", "Enter the expiry as MM/YY.")
    if year < 100:
        year += 2000
    if not 1 <= month <= 12:
        return _error("expiry", "Enter the expiry as MM/YY.")
    if not expiry_in_future(month, year, clock.today()):
        return _error("expiry", "This card has expired.")
    cvc = str(body.get("cvc", ""))
    if not is_ascii_digits(cvc) or len(cvc) != (4 if brand == "American Express" else 3):
        return _error("cvc", "Enter the security code from the card.")
    token = "tok_" + secrets.token_hex(16)
    card = {"brand": brand, "last4": number[-4:], "exp_month": month, "exp_year": year}
    with _issued_lock:
        _issued[token] = (time.monotonic(), card)
        while len(_issued) > _MAX_TOKENS:
            _issued.pop(next(iter(_issued)))
    return JSONResponse({"id": token, "card": card}, status_code=201, headers={"Cache-Control": "no-store"})


async def retrieve_token(request: Request) -> JSONResponse:
    """The portal's server confirms a token: what it stands for, or 404 for one never issued."""
    token = request.path_params["token"]
    with _issued_lock:
        issued = _issued.get(token)
    if issued is None or time.monotonic() - issued[0] > TOKEN_LIFETIME_SECONDS:
        return JSONResponse({"error": {"field": "", "message": f"No such token: '{token[:80]}'"}}, status_code=404)
    return JSONResponse({"id": token, "card": issued[1]}, headers={"Cache-Control": "no-store"})


def processor_routes() -> list[BaseRoute]:
    """The tokenization endpoint, in demo mode only (production uses the real processor)."""
    from opkalla_portal.settings import load_settings

    if not load_settings().demo_mode:
        return []
    return [
        Route(TOKENS_PATH, create_token, methods=["POST"]),
        Route(TOKENS_PATH + "/{token}", retrieve_token, methods=["GET"]),
    ]
