"""Round 13 of issue 20: what r12 (tuning data since round 13) taught, as general rules.

- Everyday words for a member of staff ("the new lad", "the ladies on the front desk") and the trades the
  tuning sets name again and again (teachers, carers, therapists, volunteers, apprentices) are users, as
  "staff" and "colleague" are: a question about giving one of them a licence is about a user's licence, and
  "the new lads licence" names no system of another vendor's (`scope.named_systems`).

- A day of the month ("the 1st") or a month is a date, and a change that "kicks in" takes effect: the words of
  Subscription Edit's Change Effective and Effective Date.

The questions are written for these tests; a test checks none is in bench/support_questions.
"""

from opkalla_portal import scope, vocabulary
from opkalla_portal.services.knowledge import knowledge_index
from tests.support.evaluation_sets import assert_none_is_an_evaluation_question

NEW_LAD = "the new lads licence wont switch on, what am i missing"
FRONT_DESK = "the ladies on the front desk all need the same mailbox"
WHEN = "can the extra seats kick in on the 3rd of march instead"


def test_none_of_these_questions_is_in_the_evaluation_sets():
    assert_none_is_an_evaluation_question([NEW_LAD, FRONT_DESK, WHEN])


def test_everyday_words_for_staff_are_users():
    user = vocabulary.concept("user")
    for word in ("lad", "lads", "lady", "ladies", "girl", "woman", "teacher", "carers", "therapist", "volunteer"):
        assert vocabulary.concepts(word) == [user], word
    assert user in vocabulary.concepts(FRONT_DESK)


def test_a_persons_licence_names_no_other_system():
    index = knowledge_index()
    assert scope.named_systems(NEW_LAD, index._known) == []
    assert [h.slug for h in index.search(NEW_LAD)][:3]


def test_a_day_or_a_month_is_a_date_and_kicking_in_is_taking_effect():
    concepts = vocabulary.concepts(WHEN)
    assert {vocabulary.concept("date"), vocabulary.concept("effect")} <= set(concepts)
    assert vocabulary.concepts("on the 3rd") == vocabulary.concepts("in march") == [vocabulary.concept("date")]
    assert vocabulary.concept("date") not in vocabulary.concepts("may we")  # the modal verb is no month
