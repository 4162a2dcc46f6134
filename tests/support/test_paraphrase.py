"""Customers' own words: synonyms, answerability over the retrieved set, the composer.

The questions here are written for these tests; none is in bench/support_questions (the
evaluation sets), so the tests do not tune on the evaluation.
"""

from opkalla_portal import vocabulary
from opkalla_portal.microsoft.emulator.openai_api import compose_answer
from opkalla_portal.microsoft.support_ai import Passage, build_messages
from opkalla_portal.services.knowledge import Article, KnowledgeIndex, knowledge_index, ranked_articles


def test_customer_words_and_portal_words_are_one_concept():
    same = [
        ("give", "assign"),
        ("allocate", "assign"),
        ("lower", "reduce"),
        ("decrease", "reduction"),
        ("prevent", "block"),
        ("stop", "disable"),
        ("info", "data"),
        ("information", "data"),
        ("seats", "quantity"),
        ("licences", "license"),
        ("bill", "invoices"),
        ("overdue", "unpaid"),
        ("outstanding", "open"),
        ("spent", "cost"),
        ("colleague", "users"),
        ("revoke", "unassign"),
    ]
    for customer, portal in same:
        assert vocabulary.concept(customer) == vocabulary.concept(portal), (customer, portal)
    assert vocabulary.concept("invoice") != vocabulary.concept("license")


def test_phrases_and_separable_verbs_are_folded():
    assert vocabulary.concepts("take the Visio licence back") == vocabulary.concepts("unassign Visio license")
    assert "leaver" in vocabulary.concepts("an engineer who left the company")
    assert "signin" in vocabulary.concepts("trouble with the sign-in page")
    assert vocabulary.concept("mfa") in vocabulary.concepts("turn on two-factor")
    assert vocabulary.concepts("the of and please") == []


def test_counts_say_nothing_about_the_article_but_sizes_and_periods_do():
    # "4 extra seats" is a count: it must not meet "Plan 4" or "4 tablets" in some article by chance.
    assert vocabulary.concepts("4 extra seats") == vocabulary.concepts("extra seats")
    assert "50" in vocabulary.concepts("a mailbox over 50 GB")
    # "3 weeks ago" and "kept for 30 days" speak of the same kind of thing; so do "uses" and "use".
    assert vocabulary.concepts("3 weeks ago") == vocabulary.concepts("for 30 days")
    assert vocabulary.concepts("nobody uses it") == []


PARAPHRASES = [
    ("Where in the portal can I allocate a licence to a colleague?", "portal-manage-licenses"),
    ("Our bills that are overdue: where are they listed?", "portal-my-invoices"),
    ("A colleague quit, how do I revoke her licence in the portal?", "portal-manage-licenses"),
    ("Where do I amend the street address of our organisation?", "portal-my-company"),
]


def test_these_questions_are_not_in_the_evaluation_sets():
    import json
    import re
    from pathlib import Path

    folder = Path(__file__).resolve().parents[2] / "bench" / "support_questions"
    norm = lambda text: re.sub(r"[^a-z0-9 ]", "", text.lower()).strip()  # noqa: E731
    evaluation = {
        norm(r["question"]) for name in ("tuning", "heldout") for r in json.loads((folder / f"{name}.json").read_text())
    }
    assert not {norm(q) for q, _ in PARAPHRASES} & evaluation


def test_paraphrased_questions_find_the_articles():
    index = knowledge_index()
    for question, slug in PARAPHRASES:
        assert slug in ranked_articles(index.search(question, limit=8))[:3], question


def test_answerability_is_decided_over_the_retrieved_set_not_the_top_hit():
    # "a" wins BM25 on one repeated word but covers little of the question; "b" ranks lower by
    # BM25 yet covers all of it: the question is answerable, and "b" comes first.
    index = KnowledgeIndex(
        (
            Article("a", "Licenses licenses", "Licenses. Licenses licenses licenses. License overview.", "help"),
            Article(
                "b", "People who leave", "When an employee leaves, unassign their license in Manage Licenses.", "help"
            ),
            Article("c", "Weather", "Sunny days and rain.", "help"),
        ),
        min_score=0.0,
    )
    hits = index.search("revoke the licence of a leaver")
    assert hits and ranked_articles(hits)[0] == "b"
    assert index.search("pizza recipe with anchovies") == []  # no article covers it: refused


def _compose(question: str, passages: list[tuple[str, str]]) -> str:
    return compose_answer(build_messages(question, [Passage(t, body) for t, body in passages]))[0]


def test_composer_picks_the_sentence_that_answers_in_other_words():
    passages = [
        (
            "Changing subscription quantities",
            "You can add seats at any time; new seats are prorated to the end of the term. "
            "You can only lower the quantity within 7 days (168 hours) of purchase or renewal. "
            "After that, the quantity can be lowered at the next renewal.",
        )
    ]
    answer = _compose("Is it possible to decrease how many seats we pay for?", passages)
    assert "only lower the quantity within 7 days" in answer and "[doc1]" in answer
    assert "prorated" not in answer


def test_composer_uses_rare_words_not_common_ones():
    passages = [
        (
            "Invoices",
            "Each subscription appears on the invoice. Subscription invoices are monthly. "
            "Open invoices are those not yet paid; the Paid tab lists settled ones.",
        )
    ]
    answer = _compose("Which of the bills are still outstanding for our subscription?", passages)
    assert answer.startswith("Open invoices are those not yet paid")


def test_composer_says_it_does_not_know_when_nothing_matches():
    answer = _compose("What is the airspeed of a swallow?", [("Invoices", "Open invoices are not yet paid.")])
    assert answer.startswith("I don't know")


def test_composer_quotes_the_first_source_even_when_another_matches_more_words():
    # retrieval ranked "Portal users" first; the partner article's sentence shares more words with the
    # question, but a model reading its best source first answers from it too.
    messages = build_messages(
        "which colleagues can open the Opkalla portal and with what access",
        [
            Passage("Portal users", "Active Portal Users lists everyone who can sign in. Invite User adds one."),
            Passage(
                "Partner access",
                "Opkalla gets admin access to your tenant through GDAP roles and access reviews in the portal.",
            ),
        ],
    )
    answer = compose_answer(messages)[0]
    assert "Active Portal Users lists everyone who can sign in. [doc1]" in answer


def test_composer_answers_from_a_source_whose_title_is_what_was_asked():
    # no sentence of the article repeats the question's words, but its title does: its opening is quoted.
    answer = _compose(
        "what do we do for a new employee",
        [
            (
                "Onboarding a new employee",
                "Check there is a free license. Add the user and assign it. Register MFA on the first day.",
            )
        ],
    )
    assert answer.startswith("Check there is a free license.") and "[doc1]" in answer
