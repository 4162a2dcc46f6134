"""Payment profiles: never a card number; Luhn and expiry; default and removal; scope; the processor."""

from __future__ import annotations

import logging
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import text
from starlette.applications import Starlette

from opkalla_portal.services.access import PermissionDenied
from opkalla_portal.services.payments import (
    PaymentProfileError,
    add_profile,
    list_profiles,
    luhn_valid,
    remove_profile,
    set_default,
)
from tests.conftest import TODAY
from tests.money.conftest import FINANCE, OTHER_ADMIN, SUBSCRIPTION_MANAGER, call

CARD = "5555555555554444"
LAST_MONTH = TODAY.replace(day=1) - timedelta(days=1)


def processor() -> httpx.AsyncClient:
    from opkalla_portal.demo.payment_processor import processor_routes

    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=Starlette(routes=processor_routes())), base_url="http://portal.test"
    )


@pytest.fixture(autouse=True)
def _processor_in_process(monkeypatch):
    """The portal's server confirms tokens with the processor emulator, in this process."""
    from opkalla_portal.demo.payment_processor import processor_routes
    from opkalla_portal.services import payment_processor

    monkeypatch.setenv("OPKALLA_PAYMENT_API_URL", "http://portal.test/payment-processor/v1")
    payment_processor.use_transport(httpx.ASGITransport(app=Starlette(routes=processor_routes())))
    yield
    payment_processor.use_transport(None)


async def tokenized(number: str = CARD, exp_month: int = 12, exp_year: int | None = None, **changes) -> dict:
    """What the browser hands the portal after tokenizing a card at the processor."""
    exp_year = exp_year or TODAY.year + 4
    async with processor() as client:
        response = await client.post(
            "/payment-processor/v1/tokens",
            json={
                "number": number,
                "exp_month": exp_month,
                "exp_year": exp_year,
                "cvc": "123",
                "name": "Priya Natarajan",
            },
        )
    assert response.status_code == 201, response.text
    body = response.json()
    result = {"token": body["id"], **body["card"], "holder_name": "Priya Natarajan"}
    result.update(changes)
    return result


def test_luhn():
    assert luhn_valid("4242424242424242") and luhn_valid(CARD) and luhn_valid("378282246310005")
    assert not luhn_valid("4242424242424241") and not luhn_valid("1234") and not luhn_valid("4242 4242 4242 4242")


async def test_processor_tokenizes_and_validates(caplog):
    caplog.set_level(logging.DEBUG)
    client = processor()
    later = TODAY.year + 4
    response = await client.post(
        "/payment-processor/v1/tokens",
        json={"number": CARD, "exp_month": 12, "exp_year": later % 100, "cvc": "123", "name": "P N"},
    )
    assert response.status_code == 201
    body = response.json()
    assert body["id"].startswith("tok_") and body["card"] == {
        "brand": "Mastercard",
        "last4": "4444",
        "exp_month": 12,
        "exp_year": later,
    }
    assert CARD not in response.text and CARD not in caplog.text
    bad = await client.post(
        "/payment-processor/v1/tokens",
        json={"number": "4242424242424241", "exp_month": 12, "exp_year": later % 100, "cvc": "123"},
    )
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "number"
    # A card is good through the last day of its expiry month, by the portal's clock.
    this_month = await client.post(
        "/payment-processor/v1/tokens",
        json={"number": CARD, "exp_month": TODAY.month, "exp_year": TODAY.year, "cvc": "123"},
    )
    assert this_month.status_code == 201
    expired = await client.post(
        "/payment-processor/v1/tokens",
        json={"number": CARD, "exp_month": LAST_MONTH.month, "exp_year": LAST_MONTH.year, "cvc": "123"},
    )
    assert expired.status_code == 400 and expired.json()["error"]["field"] == "expiry"


async def test_add_set_default_and_remove(identity_of):
    identity = identity_of(FINANCE)
    [seeded_card] = list_profiles(identity, today=TODAY)
    assert seeded_card.is_default and seeded_card.last4 == "4242"
    added = await add_profile(identity, await tokenized(), today=TODAY)
    assert not added.is_default  # the first card stays the default
    set_default(identity, added.id)
    profiles = list_profiles(identity, today=TODAY)
    assert [p.id for p in profiles if p.is_default] == [added.id]
    remove_profile(identity, added.id)  # removing the default hands it to the remaining card
    assert [(p.id, p.is_default) for p in list_profiles(identity, today=TODAY)] == [(seeded_card.id, True)]


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"token": "4242424242424242"}, ""),
        ({"token": None}, ""),
        ({"token": "tok_" + "0" * 32}, ""),  # well-formed, but never issued by the processor
        ({"holder_name": ""}, "holder_name"),
    ],
)
async def test_bad_tokenization_results_are_refused(identity_of, changes, field):
    identity = identity_of(FINANCE)
    with pytest.raises(PaymentProfileError) as error:
        await add_profile(identity, await tokenized(**changes), today=TODAY)
    assert error.value.field == field
    assert len(list_profiles(identity, today=TODAY)) == 1  # bad input changes nothing


async def test_an_invented_token_saves_nothing_and_the_processors_card_is_what_is_stored(identity_of):
    """Issue 15: a forged card_tokenized with an invented token got "Visa ending in 0000" saved."""
    identity = identity_of(FINANCE)
    forged = {
        "token": "tok_" + "ab" * 16,
        "brand": "Visa",
        "last4": "0000",
        "exp_month": 12,
        "exp_year": TODAY.year + 3,
        "holder_name": "Mallory",
    }
    with pytest.raises(PaymentProfileError, match="did not confirm"):
        await add_profile(identity, forged, today=TODAY)
    assert [p.last4 for p in list_profiles(identity, today=TODAY)] == ["4242"]
    # A real token with the browser's brand and digits changed: the processor's are stored.
    changed = {**await tokenized(), "brand": "Visa", "last4": "0000", "exp_month": 1}
    added = await add_profile(identity, changed, today=TODAY)
    assert (added.brand, added.last4, added.exp_month) == ("Mastercard", "4444", 12)


async def test_the_processor_refuses_unknown_tokens():
    async with processor() as client:
        unknown = await client.get("/payment-processor/v1/tokens/tok_" + "0" * 32)
        issued = (
            await client.post(
                "/payment-processor/v1/tokens",
                json={"number": CARD, "exp_month": 12, "exp_year": TODAY.year + 2, "cvc": "123"},
            )
        ).json()
        known = await client.get(f"/payment-processor/v1/tokens/{issued['id']}")
    assert unknown.status_code == 404
    assert known.status_code == 200 and known.json() == issued


async def test_this_month_is_still_valid_and_next_month_it_has_expired(identity_of):
    card = await tokenized(exp_month=TODAY.month, exp_year=TODAY.year)
    added = await add_profile(identity_of(FINANCE), card, today=TODAY)
    assert added.exp_month == TODAY.month
    next_month = (TODAY.replace(day=28) + timedelta(days=5)).replace(day=1)
    with pytest.raises(PaymentProfileError, match="expired") as error:
        await add_profile(
            identity_of(FINANCE), await tokenized(exp_month=TODAY.month, exp_year=TODAY.year), today=next_month
        )
    assert error.value.field == "expiry"


async def test_scope_and_role(identity_of):
    lakeside = list_profiles(identity_of(FINANCE), today=TODAY)[0]
    with pytest.raises(PaymentProfileError):
        remove_profile(identity_of(OTHER_ADMIN), lakeside.id)
    with pytest.raises(PaymentProfileError):
        set_default(identity_of(OTHER_ADMIN), lakeside.id)
    with pytest.raises(PermissionDenied):
        list_profiles(identity_of(SUBSCRIPTION_MANAGER))
    with pytest.raises(PermissionDenied):
        await add_profile(identity_of(SUBSCRIPTION_MANAGER), await tokenized())
    assert list_profiles(identity_of(FINANCE), today=TODAY)[0].id == lakeside.id


async def test_handler_keeps_no_card_number(identity_of, state_of, seeded):
    """The state receives only the processor's answer; nothing card-like lands in state or the DB."""
    from opkalla_portal.db import get_engine
    from opkalla_portal.state.payment_profiles import PaymentsState

    state = state_of(PaymentsState, identity_of(FINANCE))
    call(state, "load")
    # A forged event carrying a card number in every field is refused and stores nothing.
    await call(
        state,
        "card_tokenized",
        {
            "ok": True,
            "token": CARD,
            "brand": "Mastercard",
            "last4": CARD,
            "exp_month": 12,
            "exp_year": 2030,
            "holder_name": CARD,
        },
    )
    assert state.errors and len(state.profiles) == 1
    await call(state, "card_tokenized", {"ok": True, **await tokenized()})
    assert len(state.profiles) == 2 and state.errors == {}
    assert CARD not in repr(state.dict())
    with get_engine().connect() as connection:
        for table in ("paymentprofile", "auditevent"):
            for row in connection.execute(text(f"SELECT * FROM {table}")):
                assert CARD not in repr(tuple(row))


async def test_handler_refuses_a_subscription_manager(identity_of, state_of):
    from opkalla_portal.state.payment_profiles import PaymentsState

    state = state_of(PaymentsState, identity_of(SUBSCRIPTION_MANAGER))
    call(state, "load")
    await call(state, "card_tokenized", {"ok": True, **await tokenized()})
    assert state.profiles == []
    assert len(list_profiles(identity_of(FINANCE), today=TODAY)) == 1
