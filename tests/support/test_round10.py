"""Round 10 of issue 20: what r9 (tuning data since round 10) and the earlier sets taught, as general rules.

- Evidence: the concepts an article holds must weigh a quarter of an unknown word's weight (IDF) before it
  answers: an everyday word alone ("week") is no question the articles answer (`MIN_EVIDENCE`).
- Meaning alone does not answer a question more than half of whose concepts no article has: the sentence
  embedding is pulled near by its one domain word (`MAX_UNKNOWN_SHARE_SIMILAR`).
- Stop words: their inflections too ("taking", "working"), the remaining English function words ("had",
  "because") and everyday fillers no article needs ("guy", "stuck", "hit").

The questions are written for these tests; a test checks none is in bench/support_questions.
"""

from opkalla_portal import scope, vocabulary
from opkalla_portal.services import knowledge
from opkalla_portal.services.knowledge import knowledge_index
from tests.support.evaluation_sets import assert_none_is_an_evaluation_question

SMALL_TALK = "hi! how has your day been?"
MOSTLY_ELSEWHERE = "the caravan park licence needs a fire marshal stamp"
NEAR = {"portal-manage-licenses": 0.6, "nce-renewal-auto-renew": 0.6, "service-health-outages": 0.6}


def test_none_of_these_questions_is_in_the_evaluation_sets():
    assert_none_is_an_evaluation_question([SMALL_TALK, MOSTLY_ELSEWHERE])


def test_small_talk_whose_one_concept_is_an_everyday_word_is_not_answered(monkeypatch):
    index = knowledge_index()
    assert index.search(SMALL_TALK) == [] and index.search(SMALL_TALK, vector_scores=NEAR) == []
    monkeypatch.setattr(knowledge, "MIN_EVIDENCE", None)  # before round 10
    assert index.search(SMALL_TALK)


def test_near_in_meaning_is_not_enough_when_most_of_the_question_is_in_no_article(monkeypatch):
    index = knowledge_index()
    concepts = vocabulary.concepts(index.correct_typos(MOSTLY_ELSEWHERE))
    assert sum(c not in index._known for c in concepts) > len(concepts) / 2
    assert index.search(MOSTLY_ELSEWHERE, vector_scores=NEAR) == []
    monkeypatch.setattr(knowledge, "MAX_UNKNOWN_SHARE_SIMILAR", None)  # before round 10...
    monkeypatch.setattr(scope, "named_systems", lambda text, known: [])  # ...and 12 ("the caravan park licence")
    assert index.search(MOSTLY_ELSEWHERE, vector_scores=NEAR)


def test_a_stop_words_inflections_and_everyday_fillers_are_not_concepts():
    assert vocabulary.concepts("taking making working") == []
    assert vocabulary.concepts("the new guy had hit submit because he was stuck") == vocabulary.concepts("new submit")
    assert vocabulary.concepts("admin rights") == vocabulary.concepts("administrator roles")  # "rights" is no "right"
