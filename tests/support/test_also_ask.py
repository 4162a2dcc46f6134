""" "Customers also ask": everyday phrasings that find an article but are never quoted as its answer.

The questions here are written for these tests; none is in bench/support_questions.
"""

import json
import re
from pathlib import Path

from opkalla_portal import vocabulary
from opkalla_portal.microsoft.emulator.openai_api import compose_answer
from opkalla_portal.microsoft.support_ai import Passage, build_messages
from opkalla_portal.services.knowledge import (
    Article,
    KnowledgeIndex,
    chunk_article,
    load_articles,
    parse_article,
    passages_for_answer,
    ranked_articles,
)

MARKDOWN = """# Mailbox size limits

## Sizes
Business mailboxes hold 50 GB. When a mailbox is full it cannot send email.

## Customers also ask
- My inbox says it's out of room, what now?
- How big can an inbox get?
"""


def test_the_section_is_kept_apart_from_the_body_and_shown_on_the_page():
    article = parse_article("mailbox-size", MARKDOWN, "microsoft")
    assert article.also_ask == ("My inbox says it's out of room, what now?", "How big can an inbox get?")
    assert "Customers also ask" not in article.body and "out of room" not in article.body
    assert all("out of room" not in chunk.text for chunk in chunk_article(article))
    assert article.page_markdown.endswith(
        "## Customers also ask\n- My inbox says it's out of room, what now?\n- How big can an inbox get?"
    )


def test_every_article_has_a_few_phrasings_none_copied_from_the_evaluation_sets():
    folder = Path(__file__).resolve().parents[2] / "bench" / "support_questions"
    norm = lambda text: re.sub(r"[^a-z0-9 ]", "", text.lower()).strip()  # noqa: E731
    evaluation = {
        norm(r["question"]) for name in ("tuning", "heldout") for r in json.loads((folder / f"{name}.json").read_text())
    }
    articles = load_articles()
    assert all(3 <= len(article.also_ask) <= 6 for article in articles)
    copied = [a.slug for a in articles for q in a.also_ask if norm(q) in evaluation]
    assert not copied, f"phrasings equal to evaluation questions in {copied}"


def _index() -> KnowledgeIndex:
    return KnowledgeIndex(
        (
            parse_article("mailbox-size", MARKDOWN, "microsoft"),
            Article(
                "recordings",
                "Meeting recordings",
                "Recordings are saved to OneDrive and expire after 120 days.",
                "microsoft",
                also_ask=("Where did my recorded call go?",),
            ),
            Article("invoices", "Invoices", "Open invoices are awaiting payment.", "help"),
        ),
        min_score=0.0,
    )


def test_a_question_in_everyday_words_finds_the_article_through_its_phrasings():
    index = _index()
    # "room" appears only in the phrasings, not in the article's text.
    hits = index.search("my inbox is out of room")
    assert ranked_articles(hits)[0] == "mailbox-size"
    passages = passages_for_answer(hits)
    assert passages[0].slug == "mailbox-size" and "out of room" not in passages[0].text


def test_the_composer_quotes_the_article_never_its_phrasings():
    index = _index()
    question = "how much can a mailbox hold?"
    passages = [Passage(h.title, h.text) for h in passages_for_answer(index.search(question))]
    answer = compose_answer(build_messages(question, passages))[0]
    assert "50 GB" in answer and "[doc1]" in answer
    assert "?" not in answer  # the phrasings are questions: none of them is quoted


def test_words_found_only_in_the_phrasings_count_half_toward_answerability():
    # "Where did my recorded call go?" shares "call" and "go"-filler only; a question about an
    # unknown product's calls is not made answerable by everyday words in a phrasing.
    index = _index()
    assert index.search("zoomphone call queue") == []
    assert ranked_articles(index.search("where did the recorded call go"))[0] == "recordings"


def test_the_composer_leans_on_the_best_ranked_source():
    # doc2's sentence matches one more word, but doc1 is the source retrieval ranked first: it is
    # quoted too (without the rank prior only doc2's sentence would be).
    messages = build_messages(
        "can we reduce seats on an annual term",
        [
            Passage("Changes", "Seats can be reduced within 7 days of purchase."),
            Passage("Changes", "Annual term seats can be reduced only at renewal. Billing is monthly."),
        ],
    )
    answer = compose_answer(messages)[0]
    assert "within 7 days of purchase. [doc1]" in answer


def test_units_and_menus_are_read_as_customers_mean_them():
    assert vocabulary.concepts("over 50GB") == vocabulary.concepts("over 50 GB")
    # "drop-down" is a menu: not "drop" (reduce) nor "down" (an outage).
    concepts = vocabulary.concepts("select the drop-down")
    assert vocabulary.concept("reduce") not in concepts and vocabulary.concept("outage") not in concepts
    assert vocabulary.concept("latest") == vocabulary.concept("newest")
    assert vocabulary.concept("bookkeeper") == vocabulary.concept("finance")


def test_people_countries_and_microsoft_products_are_not_unknown_words():
    # An unknown word weighs the most (it keeps "AWS"/"QuickBooks" questions out), so everyday words
    # for people, countries and Microsoft's own products must not be unknown.
    assert vocabulary.concept("auditor") == vocabulary.concept("user")
    assert vocabulary.concept("supplier") == vocabulary.concept("guest")
    assert vocabulary.concept("visio") == vocabulary.concept("microsoft")
    assert vocabulary.concept("country") in vocabulary.concepts("block sign-ins from outside the US")
    assert vocabulary.concepts("tell us about the invoice") == vocabulary.concepts("the invoice")  # "us" the pronoun
    # Microsoft's portals are not the customer portal a question means by "the portal".
    assert vocabulary.concept("portal") not in vocabulary.concepts("open Cost Management in the Azure portal")
    assert vocabulary.concept("portal") in vocabulary.concepts("where is usage in the portal")
