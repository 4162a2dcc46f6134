"""Spark AI's account answers through the real handlers (SupportState.submit, then the streamed
answer), as each role, signed out and as another customer: only what the role may see is
published to the browser, refusals say why, and Bayview never sees Lakeside's figures."""

from __future__ import annotations

import pytest

from opkalla_portal.services import invoices, support
from opkalla_portal.services.money import format_money
from opkalla_portal.state.support import SupportState
from tests.security import harness

LAST_INVOICE = "What was our last invoice total?"


@pytest.fixture(autouse=True)
def _fresh_limit(monkeypatch):
    monkeypatch.setattr(support, "rate_limiter", support.RateLimiter())


async def _ask(token: str | None, question: str):
    root = harness.build_root(token, "/support")
    handlers = SupportState.event_handlers
    await harness.call(root, handlers["load"])
    emitted = await harness.call(root, handlers["submit"], {"question": question})
    state = harness.substate(root, SupportState)
    if state.streaming:
        await harness.call(root, handlers["stream_answer"])
    return state, emitted, harness.public_values(root)


def _lakeside_last_invoice() -> str:
    from sqlmodel import select

    from opkalla_portal.db import session_scope
    from opkalla_portal.models import PortalUser
    from opkalla_portal.services.sessions import create_session, resolve_session

    with session_scope() as db:
        priya = db.exec(select(PortalUser).where(PortalUser.first_name == "Priya")).one()
        identity = resolve_session(db, create_session(db, priya))
    rows = invoices.list_invoices(identity, tab=invoices.OPEN) + invoices.list_invoices(identity, tab=invoices.PAID)
    return format_money(max(rows, key=lambda r: (r.invoice_date, r.invoice_id)).total)


@pytest.mark.parametrize("who", ["dana", "priya"])
async def test_roles_with_invoices_get_the_figure_and_the_page_link(cookies, who):
    state, _, public = await _ask(cookies[who], LAST_INVOICE)
    answer = state.messages[-1]
    assert answer["role"] == "assistant" and _lakeside_last_invoice() in answer["content"]
    assert [r["url"] for r in answer["references"]] == ["/my-invoices"]


async def test_subscription_manager_is_told_why_and_sees_no_amount(cookies):
    state, _, public = await _ask(cookies["luis"], LAST_INVOICE)
    answer = state.messages[-1]
    assert "Subscription Manager" in answer["content"] and "My Invoices" in answer["content"]
    assert answer["references"] == [] and _lakeside_last_invoice() not in public


async def test_signed_out_is_sent_to_sign_in_and_nothing_is_answered(cookies):
    state, emitted, public = await _ask(None, LAST_INVOICE)
    assert "sign-in" in harness.describe(emitted) and state.messages == []
    assert _lakeside_last_invoice() not in public


async def test_another_customer_gets_its_own_figures_never_lakesides(cookies):
    state, _, public = await _ask(cookies["tom"], LAST_INVOICE)
    assert "BVL-INV" in state.messages[-1]["content"]
    assert "LDP-INV" not in public and _lakeside_last_invoice() not in public
    state, _, public = await _ask(cookies["tom"], "Who are our Finance Managers?")
    assert "Priya" not in public and "lakesidedental" not in public
