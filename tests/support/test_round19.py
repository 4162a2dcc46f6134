"""Round 19 of issue 20: what r18 (tuning data since round 19) taught, as general rules.

- A colleague's time away is absence too ("while she's away"), as one's own was (round 15).
- Mail "held back" or stuck in a "holding area" is quarantined.
- The customer's own customers' rights under consumer law are not Microsoft's ("if parents cancel the termly
  subscription, must we refund them under consumer law").

The questions are written for these tests; a test checks none is in bench/support_questions.
"""

import pytest

from opkalla_portal import scope, vocabulary
from opkalla_portal.services.knowledge import knowledge_index
from tests.support.evaluation_sets import assert_none_is_an_evaluation_question

# (a question, the concept its everyday words now carry)
EVERYDAY = [
    ("can the orders go to me while she's away on holiday", "absence"),
    ("emails from suppliers are being held back, where are they", "quarantine"),
    ("our invoices from the wholesaler sit in a holding area for days", "quarantine"),
]
CONSUMER_LAW = "if a member cancels their yearly subscription early, does consumer law make us refund them"


def test_none_of_these_questions_is_in_the_evaluation_sets():
    assert_none_is_an_evaluation_question([question for question, _ in EVERYDAY] + [CONSUMER_LAW])


@pytest.mark.parametrize(("question", "concept"), EVERYDAY)
def test_everyday_words_carry_the_articles_concept(question, concept):
    assert vocabulary.concept(concept) in vocabulary.concepts(question)


def test_consumer_law_is_refused():
    assert scope.non_it_phrases(CONSUMER_LAW)
    assert knowledge_index().search(CONSUMER_LAW) == []
