"""Round 8 of issue 20: what the old blind sets (tuning data since round 8) taught, as general rules.

- Scope: licences a government grants, a bank's own website, tax law and an industry's own software are not
  Microsoft 365 administration, whatever the articles' words they share ("license", "password", "subscription").
- Vocabulary: the shortenings people type in a hurry ("lic", "pw", "acct") are the articles' words.
- The demo's composer quotes the retrieved article when a sentence holds a tenth of what was asked (was a fifth:
  it said "I don't know" over the very article retrieval had found).

The questions are written for these tests; a test checks none is in bench/support_questions.
"""

import pytest

from opkalla_portal import scope, vocabulary
from opkalla_portal.microsoft.emulator import openai_api
from opkalla_portal.services.knowledge import knowledge_index
from tests.support.evaluation_sets import assert_none_is_an_evaluation_question
from tests.support.scope_checks import assert_in_scope_and_answered, assert_refused_outright

OUT_OF_SCOPE = [
    ("when do we renew the bakery's food licence with the county", "licence with the county"),
    ("our liquor licenses expire in March, how do we renew them", "liquor licenses"),
    ("can you help me get a forklift license for our new warehouse hire", "forklift license"),
    ("i locked myself out of our bank's website, how do i reset that password", "bank's website"),
    ("is the Teams Premium add-on deductible for our LLC", "deductible"),
    ("can we put our Azure spend down as a business expense", "business expense"),
    ("what corporation tax do we owe on the Microsoft invoices", "corporation tax"),
    ("we need two more seats for our practice management system", "practice management"),
    ("how do I create Apple IDs for the new iPads", "apple ids"),
]
IN_SCOPE = [
    "how many Business Premium licenses do we have left to give out",
    "move the license from the state office manager to her replacement",
    "where do I download last year's invoices for our tax records",
]

TRADES = [
    "our head chef needs a mailbox of her own, how do I set that up",
    "can the hotel's night porter sign in to Teams on the lobby PC",
]


def test_none_of_these_questions_is_in_the_evaluation_sets():
    assert_none_is_an_evaluation_question([q for q, _ in OUT_OF_SCOPE] + IN_SCOPE + TRADES)


@pytest.mark.parametrize(("question", "named"), OUT_OF_SCOPE)
def test_a_question_about_something_else_is_refused_outright(question, named):
    assert_refused_outright(
        question, named, ("portal-manage-licenses", "nce-renewal-auto-renew", "self-service-password-reset")
    )


@pytest.mark.parametrize("question", IN_SCOPE)
def test_the_same_words_about_microsoft_365_stay_answerable(question):
    assert_in_scope_and_answered(question)


@pytest.mark.parametrize("question", TRADES)
def test_a_trade_beside_what_a_customer_administers_is_their_business_not_the_question(question):
    known = knowledge_index()._known
    assert scope.out_of_scope_words(question, known) == []
    assert not scope.refuse_outright(question, vocabulary.concepts(question), known)


def test_without_it_the_everyday_topic_is_the_question():
    known = knowledge_index()._known
    assert scope.out_of_scope_words("what should the kitchen cook for the staff lunch", known)  # the subject
    assert scope.out_of_scope_words("can Microsoft 365 do our payroll", known) == ["payroll"]  # still the subject
    assert scope.out_of_scope_words("can I bill our restaurant tenants their rent through the portal", known) == [
        "rent"
    ]


def test_shortenings_typed_in_a_hurry_are_the_articles_words():
    assert vocabulary.concepts("pls give the new guy a lic and reset his pw thx") == vocabulary.concepts(
        "give the new guy a license and reset his password"
    )
    assert vocabulary.concepts("3 lics for 12 mths") == vocabulary.concepts("3 licenses for 12 months")


def test_the_composer_quotes_the_article_when_a_sentence_holds_a_tenth_of_the_question(monkeypatch):
    passage = (
        "[doc1] Shared mailboxes\nA shared mailbox lets a team read and send from one address. "
        "It needs no license up to 50 GB."
    )
    question = "the front counter crew at our depot wants one address"  # one concept of five: "address"
    messages = [{"role": "system", "content": passage}, {"role": "user", "content": question}]
    text, _ = openai_api.compose_answer(messages)
    assert text.startswith("A shared mailbox lets a team read and send from one address. [doc1]")
    monkeypatch.setattr(openai_api, "MIN_SHARE", 0.2)  # before round 8
    assert openai_api.compose_answer(messages)[0] == openai_api.DONT_KNOW
