"""Payment profiles: never a card number; Luhn and expiry; default and removal; scope; the processor."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlalchemy import text
from starlette.applications import Starlette
import httpx

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


def tokenized(**changes):
    result = {"token": "tok_" + "a1" * 16, "brand": "Mastercard", "last4": "4444", "exp_month": 12,
              "exp_year": 2030, "holder_name": "Priya Natarajan"}
    result.update(changes)
    return result


def processor() -> httpx.AsyncClient:
    from opkalla_portal.payment_processor_emulator import processor_routes

    return httpx.AsyncClient(transport=httpx.ASGITransport(app=Starlette(routes=processor_routes())),
                             base_url="http://portal.test")


def test_luhn():
    assert luhn_valid("4242424242424242") and luhn_valid(CARD) and luhn_valid("378282246310005")
    assert not luhn_valid("4242424242424241") and not luhn_valid("1234") and not luhn_valid("4242 4242 4242 4242")


async def test_processor_tokenizes_and_validates(caplog):
    caplog.set_level(logging.DEBUG)
    client = processor()
    response = await client.post("/payment-processor/v1/tokens",
                           json={"number": CARD, "exp_month": 12, "exp_year": 30, "cvc": "123", "name": "P N"})
    assert response.status_code == 201
    body = response.json()
    assert body["id"].startswith("tok_") and body["card"] == {"brand": "Mastercard", "last4": "4444",
                                                              "exp_month": 12, "exp_year": 2030}
    assert CARD not in response.text and CARD not in caplog.text
    bad = await client.post("/payment-processor/v1/tokens",
                      json={"number": "4242424242424241", "exp_month": 12, "exp_year": 30, "cvc": "123"})
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "number"
    expired = await client.post("/payment-processor/v1/tokens",
                          json={"number": CARD, "exp_month": 1, "exp_year": 20, "cvc": "123"})
    assert expired.status_code == 400 and expired.json()["error"]["field"] == "expiry"


def test_add_set_default_and_remove(identity_of):
    identity = identity_of(FINANCE)
    [seeded_card] = list_profiles(identity, today=TODAY)
    assert seeded_card.is_default and seeded_card.last4 == "4242"
    added = add_profile(identity, tokenized(), today=TODAY)
    assert not added.is_default  # the first card stays the default
    set_default(identity, added.id)
    profiles = list_profiles(identity, today=TODAY)
    assert [p.id for p in profiles if p.is_default] == [added.id]
    remove_profile(identity, added.id)  # removing the default hands it to the remaining card
    assert [(p.id, p.is_default) for p in list_profiles(identity, today=TODAY)] == [(seeded_card.id, True)]


@pytest.mark.parametrize("changes, field", [
    ({"token": "4242424242424242"}, ""),
    ({"token": None}, ""),
    ({"brand": "Diners"}, "number"),
    ({"last4": "44a4"}, "number"),
    ({"last4": CARD}, "number"),
    ({"exp_month": 13}, "expiry"),
    ({"exp_month": LAST_MONTH.month, "exp_year": LAST_MONTH.year}, "expiry"),  # ended before today
    ({"exp_month": "x"}, "expiry"),
    ({"holder_name": ""}, "holder_name"),
])
def test_bad_tokenization_results_are_refused(identity_of, changes, field):
    identity = identity_of(FINANCE)
    with pytest.raises(PaymentProfileError) as error:
        add_profile(identity, tokenized(**changes), today=TODAY)
    assert error.value.field == field
    assert len(list_profiles(identity, today=TODAY)) == 1  # bad input changes nothing


def test_this_month_is_still_valid(identity_of):
    added = add_profile(identity_of(FINANCE), tokenized(exp_month=TODAY.month, exp_year=TODAY.year), today=TODAY)
    assert added.exp_month == TODAY.month


def test_scope_and_role(identity_of):
    lakeside = list_profiles(identity_of(FINANCE), today=TODAY)[0]
    with pytest.raises(PaymentProfileError):
        remove_profile(identity_of(OTHER_ADMIN), lakeside.id)
    with pytest.raises(PaymentProfileError):
        set_default(identity_of(OTHER_ADMIN), lakeside.id)
    with pytest.raises(PermissionDenied):
        list_profiles(identity_of(SUBSCRIPTION_MANAGER))
    with pytest.raises(PermissionDenied):
        add_profile(identity_of(SUBSCRIPTION_MANAGER), tokenized())
    assert list_profiles(identity_of(FINANCE), today=TODAY)[0].id == lakeside.id


def test_handler_keeps_no_card_number(identity_of, state_of, seeded):
    """The state receives only the processor's answer; nothing card-like lands in state or the DB."""
    from opkalla_portal.db import get_engine
    from opkalla_portal.state.payments import PaymentsState

    state = state_of(PaymentsState, identity_of(FINANCE))
    call(state, "load")
    # A forged event carrying a card number in every field is refused and stores nothing.
    call(state, "card_tokenized", {"ok": True, "token": CARD, "brand": "Mastercard", "last4": CARD,
                                   "exp_month": 12, "exp_year": 2030, "holder_name": CARD})
    assert state.errors and len(state.profiles) == 1
    call(state, "card_tokenized", {"ok": True, **tokenized()})
    assert len(state.profiles) == 2 and state.errors == {}
    assert CARD not in repr(state.dict())
    with get_engine().connect() as connection:
        for table in ("paymentprofile", "auditevent"):
            for row in connection.execute(text(f"SELECT * FROM {table}")):
                assert CARD not in repr(tuple(row))


def test_handler_refuses_a_subscription_manager(identity_of, state_of):
    from opkalla_portal.state.payments import PaymentsState

    state = state_of(PaymentsState, identity_of(SUBSCRIPTION_MANAGER))
    call(state, "load")
    call(state, "card_tokenized", {"ok": True, **tokenized()})
    assert state.profiles == []
    assert len(list_profiles(identity_of(FINANCE), today=TODAY)) == 1
