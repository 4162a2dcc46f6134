"""Spark AI answers from the customer's own account, only what the user's role may see."""

from decimal import Decimal

import pytest

from opkalla_portal.services import account_answers, support
from opkalla_portal.services.access import NotSignedIn
from tests.licenses.conftest import DANA, LUIS, PRIYA, TOM, identity_for, ms, portal  # noqa: F401
from tests.microsoft.conftest import clients, emulator_url, fresh, server, settings, store  # noqa: F401

RENEWAL = "When does our Business Premium renew?"
UNASSIGNED = "How many unassigned Microsoft 365 licenses do we have?"
LAST_INVOICE = "What was our last invoice total?"
FINANCE_MANAGERS = "Who are our Finance Managers?"
WAITING = "Is anything waiting for my approval?"


def test_account_questions_are_told_apart_from_how_to_questions():
    assert account_answers.topic_for(RENEWAL).name == "renewals"
    assert account_answers.topic_for(UNASSIGNED).name == "licenses"
    assert account_answers.topic_for(LAST_INVOICE).name == "last_invoice"
    assert account_answers.topic_for(FINANCE_MANAGERS).name == "roles"
    assert account_answers.topic_for(WAITING).name == "approvals"
    assert account_answers.topic_for("Which of our bills are still overdue?").name == "unpaid_invoices"
    # how-to questions and questions about no one's data go to the help articles
    for question in (
        "How do I see which invoices are still unpaid?",
        "How do I assign a license?",
        "When does a Microsoft 365 subscription renew?",
        "Why did my invoice total change?",
        "What is a Finance Manager?",
    ):
        assert account_answers.topic_for(question) is None, question


async def _ask(email_or_identity, question):
    identity = identity_for(email_or_identity) if isinstance(email_or_identity, str) else email_or_identity
    answer = await support.Answer.prepare(question, identity=identity)
    [d async for d in answer.deltas()]
    return answer.display()


async def test_administrator_gets_every_answer_with_a_link_to_its_page(portal, ms):
    text, refs = await _ask(DANA, RENEWAL)
    assert "Business Premium" in text and "renews on" in text
    assert [(r.title, r.url) for r in refs] == [("My Services", "/my-services")]
    assert "[[1]](/my-services)" in text
    text, refs = await _ask(DANA, UNASSIGNED)  # Lakeside has not granted consent to read licenses yet
    assert "not granted the portal consent" in text and refs[0].url == "/manage-licenses"
    text, refs = await _ask(DANA, LAST_INVOICE)
    assert "Your last invoice" in text and "$" in text and refs[0].url == "/my-invoices"
    text, refs = await _ask(DANA, FINANCE_MANAGERS)
    assert "Priya Natarajan" in text and "Luis" not in text and refs[0].url == "/manage-users"
    text, refs = await _ask(DANA, WAITING)
    assert refs[0].url == "/approvals" and ("waiting" in text or "Nothing" in text)


async def test_unassigned_count_is_the_live_purchased_minus_assigned(portal, ms):
    from opkalla_portal.services import licenses

    tom = identity_for(TOM)  # Bayview granted consent
    products = await licenses.list_products(tom)
    text, refs = await _ask(tom, UNASSIGNED)  # names Microsoft 365: only those products
    microsoft_365 = [p for p in products if "Microsoft 365" in p.name]
    assert f"You have {sum(p.available for p in microsoft_365)} unassigned" in text
    assert "Microsoft 365 Business Standard: 5 unassigned of 35 (30 assigned)" in text
    assert refs[0].url == "/manage-licenses"
    assert all(p.name not in text for p in products if p not in microsoft_365)
    text, _ = await _ask(tom, "How many spare licenses do we have left?")  # every product
    assert f"You have {sum(p.available for p in products)} unassigned" in text
    for product in products[:5]:
        assert f"{product.name}: {product.available} unassigned of {product.purchased}" in text


async def test_last_invoice_is_the_newest_of_open_and_paid(portal, ms):
    from opkalla_portal.services import invoices
    from opkalla_portal.services.money import format_money

    priya = identity_for(PRIYA)
    rows = invoices.list_invoices(priya, tab=invoices.OPEN) + invoices.list_invoices(priya, tab=invoices.PAID)
    newest = max(r.invoice_date for r in rows)
    last = [r for r in rows if r.invoice_date == newest]  # one per billing contract billed that day
    text, refs = await _ask(priya, LAST_INVOICE)
    assert all(r.invoice_id in text and format_money(r.total) in text for r in last)
    assert not [r.invoice_id for r in rows if r.invoice_date != newest and r.invoice_id in text]
    if len(last) > 1:
        assert format_money(sum((r.total for r in last), Decimal("0.00"))) in text
    assert refs[0].url == "/my-invoices"


async def test_subscription_manager_sees_licenses_but_is_told_why_not_invoices(portal, ms):
    text, refs = await _ask(LUIS, UNASSIGNED)
    assert "Manage Licenses" in text and refs[0].url == "/manage-licenses"
    text, refs = await _ask(LUIS, LAST_INVOICE)
    assert refs == [] and "$" not in text
    assert "Subscription Manager" in text and "My Invoices" in text and "Finance Manager" in text
    text, refs = await _ask(LUIS, FINANCE_MANAGERS)
    assert refs == [] and "Priya" not in text and "Manage Users" in text


async def test_finance_manager_sees_invoices_and_approvals_but_not_licenses(portal, ms):
    text, refs = await _ask(PRIYA, LAST_INVOICE)
    assert "Your last invoice" in text and refs[0].url == "/my-invoices"
    text, refs = await _ask(PRIYA, WAITING)
    assert refs[0].url == "/approvals"
    text, refs = await _ask(PRIYA, UNASSIGNED)
    assert refs == [] and "Manage Licenses" in text and "unassigned of" not in text
    text, refs = await _ask(PRIYA, RENEWAL)
    assert refs == [] and "renews on" not in text and "My Services" in text


async def test_a_product_the_customer_does_not_have_is_named_as_missing(portal, ms):
    text, refs = await _ask(TOM, RENEWAL)  # Bayview has Business Standard, not Premium
    assert text.startswith("None of your subscriptions is called Business Premium.")
    assert "Microsoft 365 Business Standard (35 licenses, Annual) renews on" in text
    assert refs[0].url == "/my-services"


async def test_a_held_increase_is_listed_for_its_approvers(portal, ms):
    from decimal import Decimal

    from opkalla_portal.db import session_scope
    from opkalla_portal.models import ApprovalRequest

    luis, priya = identity_for(LUIS), identity_for(PRIYA)
    with session_scope() as db:
        db.add(
            ApprovalRequest(
                organization_id=luis.organization_id,
                subscription_id="sub-1",
                subscription_name="Visio Plan 2",
                requested_by_id=luis.user_id,
                requested_by_name="Luis Ortega",
                old_quantity=4,
                new_quantity=10,
                effective_mode="immediately",
                unit_price=Decimal("18.00"),
                added_monthly_cost=Decimal("108.00"),
                threshold=Decimal("100.00"),
            )
        )
    text, refs = await _ask(priya, WAITING)
    assert text.startswith("1 request is waiting for approval: Luis Ortega asks for Visio Plan 2 from 4 to 10")
    assert "$108.00 per month" in text and refs[0].url == "/approvals"
    text, _ = await _ask(TOM, WAITING)  # another customer's approver sees nothing of it
    assert text == "Nothing is waiting for approval. [[1]](/approvals)"


async def test_another_customer_only_ever_sees_its_own_data(portal, ms):
    lakeside_admins = await _ask(DANA, "Who are our Administrators?")
    bayview_admins = await _ask(TOM, "Who are our Administrators?")
    assert "Dana Whitaker" in lakeside_admins[0] and "Tom Becker" not in lakeside_admins[0]
    assert "Tom Becker" in bayview_admins[0] and "Dana" not in bayview_admins[0]
    lakeside_invoice, _ = await _ask(DANA, LAST_INVOICE)
    bayview_invoice, _ = await _ask(TOM, LAST_INVOICE)
    assert lakeside_invoice != bayview_invoice


async def test_signed_out_gets_no_account_data(portal, ms):
    with pytest.raises(NotSignedIn):
        await account_answers.answer_for(None, LAST_INVOICE)
    # without a user the question is a help-article question (the benchmark's path): no figures
    answer = await support.Answer.prepare(LAST_INVOICE)
    assert answer.account is None


async def test_account_answers_are_stored_with_their_page_link(portal, ms):
    from opkalla_portal.db import session_scope

    support.rate_limiter = support.RateLimiter()
    priya = identity_for(PRIYA)
    with session_scope() as db:
        conversation = support.ask(db, priya, None, LAST_INVOICE)
    with session_scope() as db:
        answer = support.pending_answer(db, priya, conversation)
    [d async for d in answer.deltas()]
    with session_scope() as db:
        support.save_answer(db, priya, conversation, answer)
    with session_scope() as db:
        messages = support.conversation_messages(db, priya, conversation)
    assert messages[1].references[0].url == "/my-invoices"
    assert "[[1]](/my-invoices)" in messages[1].content
