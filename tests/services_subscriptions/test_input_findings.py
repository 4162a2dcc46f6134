"""Issue 15, item 4 c and d: superscript digits, and the last day of the calendar.

"1²" (AltGr+2 on a German keyboard) passed `str.isdigit()` and then broke int(): Subscription
Edit raised and stayed in "submitting". A Change Logs "to" date of 9999-12-31 overflowed and
broke the page and Export on every visit.
"""

from __future__ import annotations

from datetime import date

import pytest

from opkalla_portal.demo import demo_data
from opkalla_portal.services import change_logs, quantity_change, subscriptions
from opkalla_portal.services.validation import is_ascii_digits
from tests.services_subscriptions.conftest import LUIS, identity_for

SPB = next(s.id for s in demo_data.SUBSCRIPTIONS if s.customer_key == "lakeside" and s.key == "spb")


@pytest.mark.parametrize("text", ["1²", "²", "٣", "１２", "1 2", "-1", ""])
def test_only_ascii_digits_are_a_quantity(text):
    assert not is_ascii_digits(text)
    assert subscriptions.parse_quantity(text) is None


async def test_a_superscript_quantity_is_a_field_error_and_changes_nothing(ms):
    luis = identity_for(LUIS)
    sub = await subscriptions.load_subscription(luis, SPB)
    outcome = await quantity_change.submit_change(luis, SPB, "1²", "immediately", "", sub.etag)
    assert outcome.status == "invalid"
    assert outcome.errors["quantity"] == "Enter the quantity as a whole number, for example 25."
    assert (await subscriptions.load_subscription(luis, SPB)).quantity == sub.quantity


async def test_subscription_edit_with_a_superscript_quantity_is_not_stuck_submitting(ms, monkeypatch, tmp_path):
    import reflex as rx

    monkeypatch.setenv("OPKALLA_EMULATOR_DB", str(tmp_path / "app-emulator.db"))
    import opkalla_portal.opkalla_portal  # noqa: F401  (registers every state)
    from opkalla_portal.state.base import PortalState
    from opkalla_portal.state.subscription_edit import SubscriptionEditState

    luis = identity_for(LUIS)
    monkeypatch.setattr(PortalState, "_identity", lambda self: luis)
    root = rx.State(_reflex_internal_init=True)
    state = root.get_substate(SubscriptionEditState.get_full_name().split(".")[1:])
    state._set_sub(await subscriptions.load_subscription(luis, SPB))
    state.quantity, state.mode_label = "1²", "Immediately"

    class _Proxy:  # `async with self` of a background handler, for a state used directly
        def __init__(self, wrapped):
            self.__dict__["_wrapped"] = wrapped

        async def __aenter__(self):
            return self

        async def __aexit__(self, *exc):
            return False

        def __getattr__(self, name):
            return getattr(self._wrapped, name)

        def __setattr__(self, name, value):
            setattr(self._wrapped, name, value)

    await SubscriptionEditState.submit.fn(_Proxy(state))
    assert state.submitting is False
    assert state.errors["quantity"] == "Enter the quantity as a whole number, for example 25."


def test_change_logs_to_the_last_day_of_the_calendar(ms):
    luis = identity_for(LUIS)
    until_the_end = change_logs.LogFilter(date_from=date(2000, 1, 1), date_to=date.max)
    rows, total = change_logs.change_log_page(luis, until_the_end)
    assert total == len(rows)
    assert change_logs.change_log_csv(luis, until_the_end).startswith("Date (UTC),User")
    from_the_end = change_logs.LogFilter(date_from=date.max, date_to=date.max)
    assert change_logs.change_log_page(luis, from_the_end) == ([], 0)
