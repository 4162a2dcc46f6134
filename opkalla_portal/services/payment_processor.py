"""The payment processor's server-side API: confirm a card token before anything is stored.

The browser tokenizes the card at the processor and hands the portal a token; the brand,
last four digits and expiry that come with it are the browser's word. The portal asks the
processor what the token stands for (`GET {api}/tokens/{id}`, as Stripe's
`GET /v1/tokens/:id`) and stores only what the processor answers; an unknown token is refused.

The API's base URL is `OPKALLA_PAYMENT_API_URL` (with the secret key `OPKALLA_PAYMENT_API_KEY`
sent as a bearer token); in demo mode, the processor emulator on the portal's own origin.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import quote

import httpx

from opkalla_portal.settings import load_settings

TIMEOUT_SECONDS = 10.0
_transport: httpx.AsyncBaseTransport | None = None  # tests: the emulator in process


class TokenNotConfirmed(Exception):
    """The processor does not know the token (or could not be asked)."""


@dataclass(frozen=True)
class ConfirmedCard:
    token: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int


def api_url() -> str:
    configured = os.environ.get("OPKALLA_PAYMENT_API_URL", "").strip().rstrip("/")
    if configured:
        return configured
    return f"{load_settings().public_url}/payment-processor/v1"


def use_transport(transport: httpx.AsyncBaseTransport | None) -> None:
    """Tests: send processor calls through `transport` (None: the network again)."""
    global _transport
    _transport = transport


async def confirm_token(token: str) -> ConfirmedCard:
    """The card behind `token`, as the processor has it. Raises TokenNotConfirmed."""
    headers = {"Accept": "application/json"}
    if key := os.environ.get("OPKALLA_PAYMENT_API_KEY", "").strip():
        headers["Authorization"] = f"Bearer {key}"
    try:
        async with httpx.AsyncClient(transport=_transport, timeout=TIMEOUT_SECONDS) as client:
            response = await client.get(f"{api_url()}/tokens/{quote(token, safe='')}", headers=headers)
    except httpx.HTTPError as error:
        raise TokenNotConfirmed(f"The payment processor could not be reached ({error.__class__.__name__}).") from None
    if response.status_code != 200:
        raise TokenNotConfirmed(f"The payment processor did not confirm the card (HTTP {response.status_code}).")
    try:
        body = response.json()
        card = body["card"]
        confirmed = ConfirmedCard(
            token=str(body["id"]),
            brand=str(card["brand"]),
            last4=str(card["last4"]),
            exp_month=int(card["exp_month"]),
            exp_year=int(card["exp_year"]),
        )
    except (ValueError, KeyError, TypeError):
        raise TokenNotConfirmed("The payment processor's answer was not understood.") from None
    if confirmed.token != token:
        raise TokenNotConfirmed("The payment processor answered for another card.")
    return confirmed
