"""Round 18 of issue 20: what r17 (tuning data since round 18) taught, as general rules.

- Where a business works is its office, whatever the trade calls it ("the shop PCs", "our workshop", "the
  depot"): a word every article would otherwise count as unknown.
- A "web name" is a domain name.
- Not Microsoft's: a licence granted with a word between its kind and "licence" ("a waste carrier licence"), a
  personal banking app ("banking" is a non-IT topic, so the typo corrector no longer makes it "backing"), the card
  machine company's agreement.

The questions are written for these tests; a test checks none is in bench/support_questions.
"""

import pytest

from opkalla_portal import scope, vocabulary
from opkalla_portal.services.knowledge import knowledge_index
from tests.support.evaluation_sets import assert_none_is_an_evaluation_question

NOT_MICROSOFTS = [
    "our waste carrier licence is due for renewal, who do we send it to",
    "how do I turn on the two-step check in my banking app",
    "the card machine people want us to renew our agreement for two years",
]
PLACES = ["the shop pcs", "our workshop laptops", "the depot tablets", "the branch printers"]


def test_none_of_these_questions_is_in_the_evaluation_sets():
    assert_none_is_an_evaluation_question([*NOT_MICROSOFTS, *PLACES, "we bought our own web name"])


@pytest.mark.parametrize("question", NOT_MICROSOFTS)
def test_what_is_not_microsofts_is_refused(question):
    assert scope.out_of_scope_words(question, knowledge_index()._known), question
    assert knowledge_index().search(question) == []


def test_where_a_business_works_is_its_office():
    office = vocabulary.concept("office")
    for place in PLACES:
        assert office in vocabulary.concepts(place), place


def test_a_web_name_is_a_domain_name():
    assert vocabulary.concepts("we bought our own web name") == vocabulary.concepts("we bought our own domain name")
