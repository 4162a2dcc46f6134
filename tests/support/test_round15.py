"""Round 15 of issue 20: what r14 (tuning data since round 15) taught, as general rules.

- "sales@", "bookings@": an address named by its first half is a team's shared address (a shared mailbox or a
  distribution group), not a word about sales or bookings.
- Time away is absence ("while I'm away"); Microsoft's plans for big organisations are the Enterprise plans; the
  head of a department is a user; a spreadsheet of charges is a download (the reconciliation file); "sorry",
  "honestly", "noticeably", "I've a feeling", "soon" are ways of speaking; a common mailbox is a shared one;
  Microsoft's own admin site is the admin center; halfway is mid-term; an accreditation is the partner badge.

The questions are written for these tests; a test checks none is in bench/support_questions.
"""

import pytest

from opkalla_portal import vocabulary
from opkalla_portal.services.knowledge import knowledge_index, ranked_articles
from opkalla_portal.services.knowledge_vectors import VectorRanker
from tests.support.evaluation_sets import assert_none_is_an_evaluation_question

TEAM_ADDRESS = "set up a sales@ address that reaches the whole sales team"
SAYINGS = {
    "make an office@ for the two of us": ["share", "address"],
    "forward my mail to Sam while I'm away": ["forward", "email", "sam", "absenc"],
    "do we need the big company plans now": ["enterpris", "subscript"],
    "our head of sales has left": ["user", "sale", "leaver"],
    "the usage spreadsheet for the invoice": ["usag", "download", "invoic"],
    "sorry, honestly I've a feeling it is noticeably slow, soon": ["slow"],
    "seats added halfway through": ["licens", "increas", "mid"],
    "proof of your accreditation": ["proof", "badg"],
    "a common inbox for the desk": ["share", "mailbox", "desk"],
    "in microsoft's own admin site": ["admincent", "site"],
}


def test_none_of_these_questions_is_in_the_evaluation_sets():
    assert_none_is_an_evaluation_question([TEAM_ADDRESS, *SAYINGS])


@pytest.mark.parametrize(("saying", "concepts"), SAYINGS.items())
def test_everyday_sayings_become_the_articles_words(saying, concepts):
    assert vocabulary.concepts(saying) == concepts


async def test_an_address_named_by_its_first_half_is_a_shared_address(emulator_clients):
    similarity = await VectorRanker.in_memory(emulator_clients.embeddings).similarity(TEAM_ADDRESS)
    for asks in (similarity.also_ask, None):  # the article vectors alone rank it right too (round 12 needed the lines)
        hits = knowledge_index().search(TEAM_ADDRESS, vector_scores=similarity.articles, ask_scores=asks)
        assert ranked_articles(hits)[0] == "groups-distribution-lists"
    assert "sale" not in vocabulary.concepts("info@")  # only the address's first half was a word
