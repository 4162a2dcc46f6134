"""Microsoft Support (Spark AI): per-user conversations and cited, streamed answers.

An answer is grounded on passages from the knowledge index; with no good match the user
gets the honest NO_ANSWER and the model is not called. The model cites passages as
[docN]; `map_citations` renumbers them 1, 2, 3 in order of first citation and lists the
references (title and link to the article).
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, col, delete, select

from opkalla_portal.microsoft.errors import MicrosoftError
from opkalla_portal.microsoft.support_ai import ContentFiltered, Passage
from opkalla_portal.models import SupportConversation, SupportMessage, utcnow
from opkalla_portal.services import account_answers, knowledge_vectors, rate_limit
from opkalla_portal.services.access import Capability, Identity, require
from opkalla_portal.services.account_answers import AccountAnswer
from opkalla_portal.services.errors import PortalError
from opkalla_portal.services.knowledge import Hit, knowledge_index, passages_for_answer
from opkalla_portal.services.knowledge_vectors import VectorRanker
from opkalla_portal.services.microsoft_clients import microsoft

MAX_QUESTION_CHARS = 2000
RATE_LIMIT_QUESTIONS = 10
RATE_LIMIT_SECONDS = 60
HISTORY_TURNS = 3
NO_ANSWER = (
    "I don't know — I couldn't find this in Opkalla's help articles. "
    "Please contact support@opkalla.com and our team will help."
)
DOC_MARK = re.compile(r"\s*\[doc(\d+)\]")
PARTIAL_MARK = re.compile(r"\s*\[(d(o(c\d*)?)?)?$")


class SupportError(PortalError):
    """A refused question; the message is safe to show next to the input."""

    code_default = "support.refused"


class QuestionRejected(SupportError):
    code_default = "support.question_rejected"


class RateLimited(SupportError):
    code_default = "support.rate_limited"


class ConversationNotFound(SupportError):
    code_default = "support.not_found"


@dataclass(frozen=True)
class Reference:
    number: int
    title: str
    url: str


@dataclass(frozen=True)
class ConversationSummary:
    id: int
    title: str
    updated_at: datetime


@dataclass(frozen=True)
class MessageView:
    role: str
    content: str
    references: list[Reference] = field(default_factory=list)


def clean_question(raw: object) -> str:
    """The question, trimmed; raises QuestionRejected when empty, not text, or too long."""
    if not isinstance(raw, str):
        raise QuestionRejected("Type your question first.")
    question = raw.strip()
    if not question:
        raise QuestionRejected("Type your question first.")
    if len(question) > MAX_QUESTION_CHARS:
        raise QuestionRejected(
            f"Your question is {len(question):,} characters long; the limit is "
            f"{MAX_QUESTION_CHARS:,}. Please shorten it."
        )
    return question


class RateLimiter:
    """At most `limit` questions per user in `seconds` (asking and Try again alike).

    Counted by `services.rate_limit`: shared by every worker through Redis when `REDIS_URL`
    is set, in this process otherwise; clearing conversations does not reset it.
    """

    def __init__(
        self, limit: int = RATE_LIMIT_QUESTIONS, seconds: int = RATE_LIMIT_SECONDS, key_prefix: str = "support-question"
    ) -> None:
        self.limit, self.seconds, self.key_prefix = limit, seconds, key_prefix

    def check(self, user_id: int) -> None:
        """Record one question, or raise RateLimited saying when to try again."""
        key = f"{self.key_prefix}:{user_id}"
        if not rate_limit.hit(key, self.limit, self.seconds):
            raise RateLimited(
                f"You've asked {self.limit} questions in the last minute. "
                f"Please wait {rate_limit.retry_after(key)} seconds before asking another."
            )


rate_limiter = RateLimiter()


def map_citations(text: str, passages: Sequence[Hit], streaming: bool = False) -> tuple[str, list[Reference]]:
    """Replace [docN] with [1], [2]… in order of first citation, each linking to its article.

    Markers for passages that were not sent are dropped, and a run of sentences citing the
    same source keeps one marker, after the run. While streaming, a marker cut in half at
    the end ("[do") is hidden until its end arrives.
    """
    if streaming:
        text = PARTIAL_MARK.sub("", text)
    valid = [m for m in DOC_MARK.finditer(text) if 1 <= int(m.group(1)) <= len(passages)]
    # Keep a marker only when the next cited source differs (or it is the last one).
    kept = {m.start() for i, m in enumerate(valid) if i + 1 == len(valid) or valid[i + 1].group(1) != m.group(1)}
    numbers: dict[int, int] = {}
    references: list[Reference] = []

    def replace(match: re.Match) -> str:
        n = int(match.group(1))
        if not 1 <= n <= len(passages):
            return ""
        if n not in numbers:
            hit = passages[n - 1]
            numbers[n] = len(references) + 1
            references.append(Reference(numbers[n], hit.title, hit.url))
        if match.start() not in kept:
            return ""
        return f" [[{numbers[n]}]]({passages[n - 1].url})"

    return DOC_MARK.sub(replace, text), references


def _without_links(text: str) -> str:
    return re.sub(r"\s*\[\[\d+\]\]\([^)]*\)", "", text)


class Answer:
    """One answer in the making: iterate `deltas()`, then read `text`, `references`, `error`.

    Retrieval happens when the answer starts (`retrieve()`, awaited by `deltas()`): first the
    customer's own account (when the question asks about *our* data and a user is signed in),
    then the knowledge articles, ranked by BM25 + vocabulary and, when an embeddings deployment
    is configured, vector similarity.
    """

    def __init__(
        self,
        question: str,
        history: Sequence[dict[str, str]] = (),
        context: str = "",
        identity: Identity | None = None,
        vectors: VectorRanker | None | bool = True,
    ) -> None:
        self.question = question
        self.history = list(history)
        self.context = context
        self.identity = identity
        self._vectors = vectors  # True: the configured deployment's ranker (if any); None/False: BM25 only
        self.hits: list[Hit] = []
        self.passages: list[Hit] = []
        self.account: AccountAnswer | None = None
        self.retrieved = False
        self.raw = ""
        self.error = ""
        self.refused = False  # the content filter stopped it: a polite refusal, stored like an answer
        self.done = False

    @classmethod
    async def prepare(cls, question: str, **kwargs) -> Answer:
        answer = cls(question, **kwargs)
        await answer.retrieve()
        return answer

    async def retrieve(self) -> None:
        if self.retrieved:
            return
        self.retrieved = True
        if self.identity is not None:
            self.account = await account_answers.answer_for(self.identity, self.question)
            if self.account is not None:
                return
        ranker = knowledge_vectors.default_ranker() if self._vectors is True else (self._vectors or None)
        self.hits = await _search(self.question, ranker)
        if not self.hits and self.context:  # a follow-up ("and for Teams?") borrows the previous question's words
            self.hits = await _search(f"{self.context} {self.question}", ranker)
        self.passages = passages_for_answer(self.hits)

    async def deltas(self) -> AsyncIterator[str]:
        """The answer's text as it is written (NO_ANSWER at once when nothing matched)."""
        try:
            await self.retrieve()
            if self.account is not None:
                self.raw = self.account.text
                yield self.account.text
                return
            if not self.passages:
                self.raw = NO_ANSWER
                yield NO_ANSWER
                return
            passages = [Passage(h.title, h.text, h.url) for h in self.passages]
            stream = microsoft().support_ai.answer(self.question, passages, self.history)
            try:
                async for delta in stream:
                    self.raw += delta
                    yield delta
            except ContentFiltered as refusal:
                self.refused, self.raw = True, refusal.message
            except MicrosoftError as error:
                self.error = error.message
        finally:
            self.done = True

    def display(self) -> tuple[str, list[Reference]]:
        """Text for the browser with [n] links, and the references; the honest NO_ANSWER
        when the model found nothing to cite."""
        if self.account is not None:
            refs = [Reference(n, link.title, link.url) for n, link in enumerate(self.account.links, start=1)]
            marks = "".join(f" [[{r.number}]]({r.url})" for r in refs)
            return self.account.text + marks, refs
        if self.refused:
            return self.raw, []
        if not self.passages:
            return NO_ANSWER, []
        text, references = map_citations(self.raw, self.passages, streaming=not self.done)
        if self.done and not references and not self.error:
            return NO_ANSWER, []
        return text, references


async def _search(question: str, ranker) -> list[Hit]:
    if ranker is None:
        return knowledge_index().search(question, limit=8)
    similarity = await ranker.similarity(question)
    return knowledge_index().search(
        question, limit=8, vector_scores=similarity.articles or None, ask_scores=similarity.also_ask or None
    )


async def stream_answer_text(question: str, vectors=True) -> AsyncIterator[str]:
    """Deltas of an answer to a standalone question (for the benchmark)."""
    async for delta in Answer(question, vectors=vectors).deltas():
        yield delta


# --- conversations (database) ---


def _owned_conversation(db: Session, identity: Identity, conversation_id: object) -> SupportConversation:
    """The conversation if it belongs to the acting user; never anyone else's."""
    if not isinstance(conversation_id, int) or isinstance(conversation_id, bool):
        raise ConversationNotFound("That conversation was not found.")
    conversation = db.exec(
        select(SupportConversation).where(
            SupportConversation.id == conversation_id,
            SupportConversation.user_id == identity.user_id,
            SupportConversation.organization_id == identity.organization_id,
        )
    ).first()
    if conversation is None:
        raise ConversationNotFound("That conversation was not found.")
    return conversation


def list_conversations(db: Session, identity: Identity, limit: int = 30) -> list[ConversationSummary]:
    """The acting user's conversations, most recent first."""
    require(identity, Capability.SUPPORT)
    rows = db.exec(
        select(SupportConversation)
        .where(
            SupportConversation.user_id == identity.user_id,
            SupportConversation.organization_id == identity.organization_id,
        )
        .order_by(col(SupportConversation.updated_at).desc(), col(SupportConversation.id).desc())
        .limit(limit)
    ).all()
    return [ConversationSummary(r.id, r.title, r.updated_at) for r in rows]


def conversation_messages(db: Session, identity: Identity, conversation_id: object) -> list[MessageView]:
    """The messages of one of the acting user's conversations, oldest first."""
    require(identity, Capability.SUPPORT)
    conversation = _owned_conversation(db, identity, conversation_id)
    rows = db.exec(
        select(SupportMessage).where(SupportMessage.conversation_id == conversation.id).order_by(col(SupportMessage.id))
    ).all()
    return [
        MessageView(r.role, r.content, [Reference(**ref) for ref in json.loads(r.citations_json or "[]")]) for r in rows
    ]


def ask(db: Session, identity: Identity, conversation_id: object, raw_question: object) -> int:
    """Record a question (in a new conversation when conversation_id is None); returns the
    conversation id. Raises QuestionRejected, RateLimited or ConversationNotFound."""
    require(identity, Capability.SUPPORT)
    question = clean_question(raw_question)
    if conversation_id is None:
        conversation = SupportConversation(
            user_id=identity.user_id, organization_id=identity.organization_id, title=_title_for(question)
        )
        rate_limiter.check(identity.user_id)
        db.add(conversation)
        db.flush()
    else:
        conversation = _owned_conversation(db, identity, conversation_id)
        rate_limiter.check(identity.user_id)
    conversation.updated_at = utcnow()
    db.add(SupportMessage(conversation_id=conversation.id, role="user", content=question))
    db.flush()
    return conversation.id


def check_retry(identity: Identity) -> None:
    """Try again asks the model once more: it counts against the same per-user limit.
    Raises RateLimited."""
    require(identity, Capability.SUPPORT)
    rate_limiter.check(identity.user_id)


def _title_for(question: str) -> str:
    title = " ".join(question.split())
    return title if len(title) <= 80 else title[:77].rstrip() + "…"


def pending_answer(db: Session, identity: Identity, conversation_id: object) -> Answer | None:
    """The Answer to the conversation's last question if it has none yet."""
    require(identity, Capability.SUPPORT)
    conversation = _owned_conversation(db, identity, conversation_id)
    rows = db.exec(
        select(SupportMessage).where(SupportMessage.conversation_id == conversation.id).order_by(col(SupportMessage.id))
    ).all()
    if not rows or rows[-1].role != "user":
        return None
    earlier = rows[:-1][-HISTORY_TURNS * 2 :]
    history = [{"role": r.role, "content": _without_links(r.content)} for r in earlier]
    previous_questions = [r.content for r in earlier if r.role == "user"]
    return Answer(
        rows[-1].content, history, context=previous_questions[-1] if previous_questions else "", identity=identity
    )


def save_answer(db: Session, identity: Identity, conversation_id: object, answer: Answer) -> None:
    """Store a finished answer with its references (failed answers are not stored)."""
    require(identity, Capability.SUPPORT)
    conversation = _owned_conversation(db, identity, conversation_id)
    if answer.error:
        return
    text, references = answer.display()
    db.add(
        SupportMessage(
            conversation_id=conversation.id,
            role="assistant",
            content=text,
            citations_json=json.dumps([r.__dict__ for r in references]),
        )
    )
    conversation.updated_at = utcnow()
    db.add(conversation)


def clear_conversation(db: Session, identity: Identity, conversation_id: object) -> None:
    """Delete one of the acting user's conversations and its messages."""
    require(identity, Capability.SUPPORT)
    conversation = _owned_conversation(db, identity, conversation_id)
    db.exec(delete(SupportMessage).where(SupportMessage.conversation_id == conversation.id))
    db.delete(conversation)
