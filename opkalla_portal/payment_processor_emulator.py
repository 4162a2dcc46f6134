"""Demo mode's card processor: turns a card into a token, as Stripe-like processors do.

The browser posts the card here directly (it never reaches a Reflex event); the answer is a
random token with the brand, last four digits and expiry. Nothing is stored and nothing is
logged: the card number lives only in this request's memory.
"""

from __future__ import annotations

import secrets

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from opkalla_portal import clock
from opkalla_portal.services.payments import expiry_in_future, luhn_valid

TOKENS_PATH = "/payment-processor/v1/tokens"


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
    if not number.isdigit() or not luhn_valid(number):
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
    if not cvc.isdigit() or len(cvc) != (4 if brand == "American Express" else 3):
        return _error("cvc", "Enter the security code from the card.")
    return JSONResponse({
        "id": "tok_" + secrets.token_hex(16),
        "card": {"brand": brand, "last4": number[-4:], "exp_month": month, "exp_year": year},
    }, status_code=201, headers={"Cache-Control": "no-store"})


def processor_routes() -> list[BaseRoute]:
    """The tokenization endpoint, in demo mode only (production uses the real processor)."""
    from opkalla_portal.settings import load_settings

    if not load_settings().demo_mode:
        return []
    return [Route(TOKENS_PATH, create_token, methods=["POST"])]
