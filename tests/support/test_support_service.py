"""Cited answers, the honest no-answer, limits and per-user conversations."""

import pytest
from sqlmodel import select

from opkalla_portal.services import support
from opkalla_portal.services.access import PermissionDenied
from opkalla_portal.services.knowledge import Hit


def _hit(n: int) -> Hit:
    return Hit(f"slug-{n}", f"Title {n}", "", "text", 1.0)


def test_citations_are_renumbered_in_order_of_first_use():
    text, refs = support.map_citations(
        "Alpha. [doc3] Beta. [doc1] Gamma. [doc3] Delta [doc9].", [_hit(1), _hit(2), _hit(3)]
    )
    assert [(r.number, r.title) for r in refs] == [(1, "Title 3"), (2, "Title 1")]
    assert text == (
        "Alpha. [[1]](/support/article?slug=slug-3) Beta. [[2]](/support/article?slug=slug-1) "
        "Gamma. [[1]](/support/article?slug=slug-3) Delta."
    )


def test_a_run_of_sentences_from_one_source_is_cited_once():
    text, refs = support.map_citations("A. [doc2] B. [doc2] C. [doc1] D. [doc1]", [_hit(1), _hit(2)])
    assert text == ("A. B. [[1]](/support/article?slug=slug-2) C. D. [[2]](/support/article?slug=slug-1)")
    assert [r.title for r in refs] == ["Title 2", "Title 1"]


def test_half_written_marker_is_hidden_while_streaming():
    assert support.map_citations("Alpha. [do", [_hit(1)], streaming=True)[0] == "Alpha."
    assert support.map_citations("Alpha. [doc1", [_hit(1)], streaming=True)[0] == "Alpha."
    assert support.map_citations("Alpha. [doc1]", [_hit(1)], streaming=True)[1][0].number == 1


def test_question_limits():
    assert support.clean_question("  hello  ") == "hello"
    for bad in ("", "   ", None, 42, ["x"]):
        with pytest.raises(support.QuestionRejected):
            support.clean_question(bad)
    support.clean_question("x" * 2000)
    with pytest.raises(support.QuestionRejected, match="2,001 characters"):
        support.clean_question("x" * 2001)


def test_rate_limit_per_user_with_a_clear_message(monkeypatch):
    from opkalla_portal.services import rate_limit

    clock = [100.0]
    monkeypatch.setattr(rate_limit.time, "monotonic", lambda: clock[0])
    monkeypatch.delenv("REDIS_URL", raising=False)
    rate_limit.reset_local()
    limiter = support.RateLimiter(limit=3, seconds=60)
    for t in range(3):
        clock[0] = 100.0 + t
        limiter.check(1)
    with pytest.raises(support.RateLimited, match="wait 57 seconds"):
        clock[0] = 103.0
        limiter.check(1)
    limiter.check(2)  # another user is not affected
    clock[0] = 160.5
    limiter.check(1)  # a new window (it began with the first question, at 100)
    rate_limit.reset_local()


def _identity(email):
    from opkalla_portal.db import session_scope
    from opkalla_portal.models import PortalUser
    from opkalla_portal.services.sessions import create_session, resolve_session

    with session_scope() as db:
        user = db.exec(select(PortalUser).where(PortalUser.email == email)).one()
        return resolve_session(db, create_session(db, user))


LUIS = "luis.ortega@lakesidedental.onmicrosoft.com"
DANA = "dana.whitaker@lakesidedental.onmicrosoft.com"


async def test_answer_streams_cites_and_is_kept_per_user(seeded, emulator_clients):
    from opkalla_portal.db import session_scope

    support.rate_limiter = support.RateLimiter()
    luis, dana = _identity(LUIS), _identity(DANA)
    with session_scope() as db:
        conversation = support.ask(db, luis, None, "How long are deleted emails recoverable in Outlook?")
    with session_scope() as db:
        answer = support.pending_answer(db, luis, conversation)
    deltas = [d async for d in answer.deltas()]
    assert len(deltas) > 3
    text, references = answer.display()
    assert references and references[0].number == 1
    assert references[0].url == "/support/article?slug=recover-deleted-email"
    assert "[[1]](/support/article?slug=recover-deleted-email)" in text and "[doc" not in text
    with session_scope() as db:
        support.save_answer(db, luis, conversation, answer)
    with session_scope() as db:
        messages = support.conversation_messages(db, luis, conversation)
        assert [m.role for m in messages] == ["user", "assistant"]
        assert messages[1].references[0].title == "Recovering deleted email in Outlook"
        assert support.pending_answer(db, luis, conversation) is None  # answered
        # Dana, same organization, cannot see, continue or clear Luis's conversation.
        assert support.list_conversations(db, dana) == []
        for action in (
            lambda: support.conversation_messages(db, dana, conversation),
            lambda: support.ask(db, dana, conversation, "more?"),
            lambda: support.clear_conversation(db, dana, conversation),
        ):
            with pytest.raises(support.ConversationNotFound):
                action()
    with session_scope() as db:
        support.ask(db, luis, conversation, "And how do I restore them?")  # continued
        assert len(support.conversation_messages(db, luis, conversation)) == 3
        support.clear_conversation(db, luis, conversation)
    with session_scope() as db:
        assert support.list_conversations(db, luis) == []


async def test_no_match_gives_the_honest_answer_without_calling_the_model(seeded, monkeypatch):
    def no_model():
        raise AssertionError("the model must not be called")

    monkeypatch.setattr(support, "microsoft", no_model)
    answer = support.Answer("How do I bake sourdough bread?")
    assert [d async for d in answer.deltas()] == [support.NO_ANSWER]
    assert answer.display() == (support.NO_ANSWER, [])
    assert "support@opkalla.com" in support.NO_ANSWER and support.NO_ANSWER.startswith("I don't know")


async def test_microsoft_failure_is_reported_not_stored(seeded, emulator_clients):
    from opkalla_portal.microsoft.errors import UnavailableError

    class Failing:
        def answer(self, *args):
            async def gen():
                yield "Partial"
                raise UnavailableError()

            return gen()

    class Clients:
        support_ai = Failing()

    import opkalla_portal.services.support as module

    original = module.microsoft
    module.microsoft = lambda: Clients()
    try:
        answer = support.Answer("How do I reset a user's password?")
        [d async for d in answer.deltas()]
    finally:
        module.microsoft = original
    assert answer.error == UnavailableError.default_message


def test_support_needs_a_signed_in_user(seeded):
    from opkalla_portal.db import session_scope

    with session_scope() as db, pytest.raises(PermissionDenied):
        support.list_conversations(db, None)
