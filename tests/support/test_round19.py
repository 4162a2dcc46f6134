"""Round 19 of issue 20: what r18 (tuning data since round 19) taught, as general rules.

- A colleague's time away is absence too ("while she's away"), as one's own was (round 15).
- Mail "held back" or stuck in a "holding area" is quarantined.
- The customer's own customers' rights under consumer law are not Microsoft's ("if parents cancel the termly
  subscription, must we refund them under consumer law").

The questions are written for these tests; a test checks none is in bench/support_questions.
"""

from opkalla_portal import scope, vocabulary
from opkalla_portal.services.knowledge import knowledge_index
from tests.support.evaluation_sets import assert_none_is_an_evaluation_question

AWAY = "can the orders go to me while she's away on holiday"
HELD = "emails from suppliers are being held back, where are they"
CONSUMER_LAW = "if a member cancels their yearly subscription early, does consumer law make us refund them"


def test_none_of_these_questions_is_in_the_evaluation_sets():
    assert_none_is_an_evaluation_question([AWAY, HELD, CONSUMER_LAW])


def test_a_colleague_away_is_absent_and_mail_held_back_is_quarantined():
    assert vocabulary.concept("absence") in vocabulary.concepts(AWAY)
    assert vocabulary.concept("quarantine") in vocabulary.concepts(HELD)


def test_consumer_law_is_refused():
    assert scope.non_it_phrases(CONSUMER_LAW)
    assert knowledge_index().search(CONSUMER_LAW) == []
