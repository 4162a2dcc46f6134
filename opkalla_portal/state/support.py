"""Microsoft Support (Spark AI): conversations, questions, answers streamed as they are written."""

from __future__ import annotations

import time
from typing import TypedDict

import reflex as rx

from opkalla_portal.db import session_scope
from opkalla_portal.services import support
from opkalla_portal.services.access import Capability, Identity
from opkalla_portal.services.errors import PortalError
from opkalla_portal.state.base import PortalState, guarded
from opkalla_portal.state.deltas import assign_changed

STREAM_UPDATE_SECONDS = 0.05  # push the growing answer to the browser at most 20 times a second
MAX_DRAFT_CHARS = 10_000


class ReferenceRow(TypedDict):
    number: int
    title: str
    url: str


class ChatMessage(TypedDict):
    role: str
    content: str
    references: list[ReferenceRow]


class ConversationRow(TypedDict):
    id: int
    title: str
    date_label: str


def _references(references: list[support.Reference]) -> list[ReferenceRow]:
    return [ReferenceRow(number=r.number, title=r.title, url=r.url) for r in references]


class SupportState(PortalState):
    conversations: list[ConversationRow] = []
    current_id: int = 0  # 0: a new conversation
    messages: list[ChatMessage] = []
    question: str = ""
    question_error: str = ""
    streaming: bool = False
    stream_text: str = ""
    stream_references: list[ReferenceRow] = []
    answer_error: str = ""
    loaded: bool = False
    _pending_conversation: int = 0

    @rx.var
    def question_count_label(self) -> str:
        return f"{len(self.question):,} / {support.MAX_QUESTION_CHARS:,} characters"

    @rx.var
    def question_too_long(self) -> bool:
        return len(self.question.strip()) > support.MAX_QUESTION_CHARS

    def _reload_conversations(self, identity) -> None:
        with session_scope() as db:
            rows = support.list_conversations(db, identity)
        assign_changed(
            self,
            conversations=[
                ConversationRow(
                    id=r.id,
                    title=r.title or "Conversation",
                    date_label=f"{r.updated_at:%b} {r.updated_at.day}, {r.updated_at:%H:%M}",
                )
                for r in rows
            ],
        )

    def _show(self, identity, conversation_id: int) -> None:
        with session_scope() as db:
            views = support.conversation_messages(db, identity, conversation_id)
        assign_changed(
            self,
            messages=[ChatMessage(role=m.role, content=m.content, references=_references(m.references)) for m in views],
        )
        self.current_id = conversation_id

    @guarded(Capability.SUPPORT)
    def load(self, identity: Identity):
        self._reload_conversations(identity)
        if self.current_id and not self.streaming:
            try:
                self._show(identity, self.current_id)
            except support.ConversationNotFound:
                self.current_id, self.messages = 0, []
        self.loaded = True

    @guarded(Capability.SUPPORT)
    def set_question(self, identity: Identity, value: str):
        if not isinstance(value, str):
            return
        self.question = value[:MAX_DRAFT_CHARS]
        self.question_error = ""

    @guarded(Capability.SUPPORT)
    def open_conversation(self, identity: Identity, conversation_id: int):
        if self.streaming:
            return rx.toast.info("Please wait until the answer is finished.")
        self._show(identity, conversation_id)
        self.answer_error = ""
        self.question_error = ""

    @guarded(Capability.SUPPORT)
    def new_conversation(self, identity: Identity):
        if self.streaming:
            return rx.toast.info("Please wait until the answer is finished.")
        self.current_id, self.messages = 0, []
        self.answer_error = self.question_error = ""

    @guarded(Capability.SUPPORT)
    def clear_conversation(self, identity: Identity):
        """Delete the open conversation (the page asks for confirmation first)."""
        if self.streaming or not self.current_id:
            return None
        with session_scope() as db:
            support.clear_conversation(db, identity, self.current_id)
        self.current_id, self.messages = 0, []
        self._reload_conversations(identity)
        return rx.toast.success("The conversation was cleared.")

    @guarded(Capability.SUPPORT)
    def submit(self, identity: Identity, form_data: dict):
        """Send: check the question, record it, and start streaming the answer."""
        if self.streaming:
            return None
        raw = form_data.get("question") if isinstance(form_data, dict) else None
        try:
            with session_scope() as db:
                conversation_id = support.ask(db, identity, self.current_id or None, raw)
        except support.SupportError as error:
            self.question_error = str(error)
            return None
        question = support.clean_question(raw)
        self.messages = [*self.messages, ChatMessage(role="user", content=question, references=[])]
        self.current_id = conversation_id
        self.question = ""
        self.question_error = self.answer_error = ""
        self.stream_text, self.stream_references = "", []
        self.streaming = True
        self._pending_conversation = conversation_id
        self._reload_conversations(identity)
        return SupportState.stream_answer

    @guarded(Capability.SUPPORT)
    def retry(self, identity: Identity):
        """Try again: answer the open conversation's unanswered question."""
        if self.streaming or not self.current_id:
            return None
        try:
            support.check_retry(identity)  # asking again counts like asking
        except support.RateLimited as error:
            self.answer_error = f"{error} Your question was kept: select Try again."
            return None
        self.answer_error = ""
        self.stream_text, self.stream_references = "", []
        self.streaming = True
        self._pending_conversation = self.current_id
        return SupportState.stream_answer

    @guarded(Capability.SUPPORT, background=True)
    async def stream_answer(self, identity: Identity):
        """Background: stream the pending answer into `stream_text`, then store it."""
        async with self:
            conversation_id, self._pending_conversation = self._pending_conversation, 0
            try:
                with session_scope() as db:
                    answer = support.pending_answer(db, identity, conversation_id) if conversation_id else None
            except PortalError:  # the conversation is gone: nothing to stream
                answer = None
            if answer is None:
                self.streaming = False
                return
        try:
            last_push = 0.0
            async for _ in answer.deltas():
                if time.monotonic() - last_push >= STREAM_UPDATE_SECONDS:
                    last_push = time.monotonic()
                    text, references = answer.display()
                    async with self:
                        if not self._filled_by(identity):  # signed out meanwhile: not for this tab
                            return
                        self.stream_text, self.stream_references = text, _references(references)
            text, references = answer.display()
            with session_scope() as db:
                support.save_answer(db, identity, conversation_id, answer)
        except PortalError:
            answer.error = answer.error or "This conversation is no longer available."
        except Exception:  # never leave the page stuck in "Writing…"
            answer.error = answer.error or "The answer could not be completed."
            raise
        finally:
            async with self:
                if not self._filled_by(identity):  # the tab was reset for another session
                    return  # noqa: B012 -- nothing, not even an error, reaches another session's tab
                self.streaming = False
                self.stream_text, self.stream_references = "", []
                if answer.error:
                    self.answer_error = f"{answer.error} Your question was kept: select Try again."
                elif self.current_id == conversation_id:
                    self.messages = [
                        *self.messages,
                        ChatMessage(role="assistant", content=text, references=_references(references)),
                    ]
        yield rx.scroll_to("question", align_to_top=False)  # keep the input (and the answer above it) in view
