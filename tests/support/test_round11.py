"""Round 11 of issue 20: what r10 (tuning data since round 11) taught, as general rules.

- Scope: a personal mailbox (Hotmail, Outlook.com) is Microsoft's consumer service, not the business's tenant; a
  machine's own software is its maker's; licensing one's own photos or music is copyright, not software; and the
  customer's own receivables (its clients' unpaid invoices) are its business, not the portal's.
- A month after "in" ("in October") is not the name of an application.
- Time away ("on maternity leave") is not leaving the company, and with something the customer administers
  named, it is the customer's business, not the question.

The questions are written for these tests; a test checks none is in bench/support_questions.
"""

import pytest

from opkalla_portal import scope, vocabulary
from opkalla_portal.services.knowledge import knowledge_index
from tests.support.evaluation_sets import assert_none_is_an_evaluation_question
from tests.support.scope_checks import assert_in_scope_and_answered, assert_refused_outright

OUT_OF_SCOPE = [
    ("someone got into my personal hotmail, how do I lock them out", "hotmail"),
    ("the embroidery machine software licence ran out, who renews it", "machine software"),
    ("can we license our photos to a travel magazine and what should we charge", "license our photos"),
    ("two customers haven't paid for last month's deliveries, how firm a reminder", "customers haven't paid"),
    ("what's a polite way of chasing up late clients", "chasing up late clients"),
    ("a former tenant owes us three months, can we take it off the deposit", "tenant owes us"),
]
IN_SCOPE = [
    "the invoice Opkalla sent us last month shows as unpaid, is it overdue",
    "which of our bills from Opkalla are still open",
    "we want to drop two Business Premium seats in October, can I set that up now",
    "while our bookkeeper is on maternity leave her email should go to me",
    "Opkalla owes us a credit for the seats we cancelled on day two, where does it show",
]


def test_none_of_these_questions_is_in_the_evaluation_sets():
    assert_none_is_an_evaluation_question([q for q, _ in OUT_OF_SCOPE] + IN_SCOPE)


@pytest.mark.parametrize(("question", "named"), OUT_OF_SCOPE)
def test_a_question_about_something_else_is_refused_outright(question, named):
    assert_refused_outright(
        question, named, ("portal-my-invoices", "portal-manage-licenses", "self-service-password-reset")
    )


@pytest.mark.parametrize("question", IN_SCOPE)
def test_the_same_words_about_the_portal_and_microsoft_365_stay_answerable(question):
    assert_in_scope_and_answered(question)


def test_a_month_is_not_an_application_but_an_unknown_name_still_is():
    known = knowledge_index()._known
    assert scope.named_applications("reduce the seats in October", known) == []
    assert scope.named_applications("reset her password in Dentrix", known) == ["dentrix"]


def test_time_away_is_not_leaving_and_alone_it_is_still_not_the_portals_business():
    assert (
        "leaver" not in vocabulary.concepts("she is on maternity leave") == vocabulary.concepts("she is on sick leave")
    )
    assert vocabulary.concept("leaving") == "leaver"
    assert "maternity" in scope.out_of_scope_words("how much maternity pay is she owed", knowledge_index()._known)
