"""Round 16 of issue 20: what the tuning sets (with r15) taught about answerability, in hybrid mode.

- A question the coverage rule refuses is answered when the article ranked first is near it through one of its
  "Customers also ask" lines, covers a quarter of it and holds real evidence (`MIN_ASK_SIMILARITY_FIRST`,
  `MIN_FIRST_COVERAGE`, `MIN_FIRST_EVIDENCE`), and nothing out of scope is named. A question near a line by one
  shared word stays refused.
- A phishing lure is a brand named before a message ("a fake DocuSign email"); "a fake Amazon order" is Amazon's.

The questions are written for these tests; a test checks none is in bench/support_questions.
"""

from opkalla_portal.services import knowledge
from opkalla_portal.services.knowledge import knowledge_index, ranked_articles
from opkalla_portal.services.knowledge_vectors import VectorRanker
from tests.support.evaluation_sets import assert_none_is_an_evaluation_question

NEAR_A_LINE = "the tiny cloud symbol has a red mark and nothing is syncing on my pc"
NEAR_BY_ONE_WORD = "forgot the pin of my personal bank card, how do i reset it"  # round 12's probe
FAKE_ORDER = "how do I report a fake amazon order to amazon"


def test_none_of_these_questions_is_in_the_evaluation_sets():
    assert_none_is_an_evaluation_question([NEAR_A_LINE, NEAR_BY_ONE_WORD, FAKE_ORDER])


async def _hybrid_search(emulator_clients, question: str):
    similarity = await VectorRanker.in_memory(emulator_clients.embeddings).similarity(question)
    hits = knowledge_index().search(question, vector_scores=similarity.articles, ask_scores=similarity.also_ask)
    return similarity, ranked_articles(hits)


async def test_a_paraphrase_of_a_line_of_the_first_article_is_answered(emulator_clients, monkeypatch):
    _, ranked = await _hybrid_search(emulator_clients, NEAR_A_LINE)
    assert ranked[:1] == ["onedrive-storage-sync"]
    monkeypatch.setattr(knowledge, "MIN_ASK_SIMILARITY_FIRST", None)
    assert (await _hybrid_search(emulator_clients, NEAR_A_LINE))[1] == []  # the coverage rule alone refused it


async def test_near_a_line_by_one_word_or_naming_another_vendor_is_still_refused(emulator_clients):
    similarity, ranked = await _hybrid_search(emulator_clients, NEAR_BY_ONE_WORD)
    assert max(similarity.also_ask.values()) >= knowledge.MIN_ASK_SIMILARITY_FIRST  # near a password-reset line
    assert ranked == []
    assert (await _hybrid_search(emulator_clients, FAKE_ORDER))[1] == []
