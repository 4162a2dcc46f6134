"""Round 17 of issue 20: what r16 (tuning data since round 17) taught, as general rules.

- A licence a council or a regulator grants (premises, broadcasting, mooring, music, taxi…) is not a software
  licence: "renewing our premises licence with the council" is refused like "a liquor licence" always was; the
  same words about Microsoft licences are still answered.
- A hyphenated "scan-to-email" copier sends mail through Exchange as "scans to email" does (round 14's context).
- 36 months is a three-year term; a switch is flicked, flipped or toggled; "might" is a way of speaking.
- Tried and dropped: keeping typo correction to words with the same first letter. It stops real words being
  "corrected" ("killing" to "billing", "catch" to "watch"), but those corrections were hiding unknown words from
  the coverage rule, and the tuning sets lost nine questions in BM25 mode.

The questions are written for these tests; a test checks none is in bench/support_questions.
"""

import pytest

from opkalla_portal import scope, vocabulary
from opkalla_portal.services.knowledge import knowledge_index, ranked_articles
from tests.support.evaluation_sets import assert_none_is_an_evaluation_question

GRANTED_LICENCES = [
    "our premises licence for the bar is due with the council, how do we renew it",
    "how do I renew the music licence for the shop floor",
    "the taxi licence from the local authority runs out in may, what forms are needed",
    "our licence from the regulator needs renewing before the spring",
]
MICROSOFT_LICENCES = "our Microsoft licences renew next month, can we lower them"
COPIER = "the scan-to-email copier stopped sending once basic auth was switched off"
SAYINGS = ["signing up for 36 months", "i flicked the switch", "it might be the toggle"]


def test_none_of_these_questions_is_in_the_evaluation_sets():
    assert_none_is_an_evaluation_question([*GRANTED_LICENCES, MICROSOFT_LICENCES, COPIER, *SAYINGS])


@pytest.mark.parametrize("question", GRANTED_LICENCES)
def test_a_licence_a_council_or_regulator_grants_is_refused(question):
    assert scope.non_it_phrases(question.lower()), question
    assert knowledge_index().search(question) == []


def test_the_same_words_about_microsoft_licences_are_answered():
    assert not scope.non_it_phrases(MICROSOFT_LICENCES.lower())
    assert ranked_articles(knowledge_index().search(MICROSOFT_LICENCES))


def test_a_hyphenated_scan_to_email_copier_is_context():
    assert scope.out_of_scope_words(COPIER, knowledge_index()._known) == []
    assert "block-legacy-authentication" in ranked_articles(knowledge_index().search(COPIER))[:3]


def test_everyday_sayings_become_the_articles_words():
    assert vocabulary.concepts("36 months") == vocabulary.concepts("three years")
    assert vocabulary.concepts(SAYINGS[1]) == vocabulary.concepts(SAYINGS[2]) == ["switch"]
