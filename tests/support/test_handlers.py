"""The blog and support event handlers called directly, as the browser could call them:
refused on the server for the wrong person, arguments validated, nothing changed."""

from __future__ import annotations

import pytest
import reflex as rx
from reflex.istate.data import RouterData
from sqlmodel import select

from opkalla_portal.db import session_scope
from opkalla_portal.models import BlogPost, PortalUser, SupportConversation, SupportMessage
from opkalla_portal.services import support
from opkalla_portal.services.sessions import SESSION_COOKIE, create_session, resolve_session
from opkalla_portal.state.news_editor import BlogEditorState
from opkalla_portal.state.support import SupportState

DANA = "dana.whitaker@lakesidedental.onmicrosoft.com"
LUIS = "luis.ortega@lakesidedental.onmicrosoft.com"
RILEY = "riley.morgan@opkalla.onmicrosoft.com"


def make_state(state_cls, email: str | None, path: str = "/"):
    cookie = ""
    if email:
        with session_scope() as db:
            user = db.exec(select(PortalUser).where(PortalUser.email == email)).one()
            cookie = f"{SESSION_COOKIE}={create_session(db, user)}"
    root = rx.State(_reflex_internal_init=True)
    root.router = RouterData.from_router_data(
        {"headers": {"cookie": cookie}, "pathname": path, "asPath": path, "query": {}}
    )
    return root.get_substate(state_cls.get_full_name().split(".")[1:])


def call(state, name: str, *args):
    return getattr(type(state), name).fn(state, *args)


def posts() -> list[tuple]:
    with session_scope() as db:
        return sorted((p.id, p.slug, p.title, p.published, p.body_markdown) for p in db.exec(select(BlogPost)))


@pytest.mark.parametrize("email", [None, DANA, LUIS])
@pytest.mark.parametrize(
    "name, args",
    [
        ("load", ()),
        ("new_post", ()),
        ("edit_post", (1,)),
        ("set_field", ("title", "Hacked")),
        ("save", (True,)),
        ("set_published", (1, False)),
    ],
)
def test_only_provider_admins_reach_the_editor(seeded, email, name, args):
    state = make_state(BlogEditorState, email, "/news/editor")
    state.draft = {"title": "Hacked", "slug": "hacked", "summary": "", "cover_image": "", "body_markdown": "x"}
    before = posts()
    result = call(state, name, *args)
    assert "sign in" in str(result).lower() or "Only Opkalla's portal administrators" in str(result)
    assert posts() == before
    assert state.rows == []


def test_editor_ignores_unknown_fields_and_odd_arguments(seeded):
    state = make_state(BlogEditorState, RILEY, "/news/editor")
    call(state, "load")
    assert state.allowed and len(state.rows) == 4
    call(state, "new_post")
    call(state, "set_field", "published", "true")  # not an editable field
    call(state, "set_field", "title", {"$gt": ""})  # not text
    assert "published" not in state.draft and state.draft["title"] == ""
    call(state, "set_field", "title", "Hello world")
    call(state, "set_field", "body_markdown", "Body")
    call(state, "save", "yes")  # only True publishes
    with session_scope() as db:
        post = db.exec(select(BlogPost).where(BlogPost.slug == "hello-world")).one()
        assert post.published is False
    before = posts()
    call(state, "set_published", "1; DROP TABLE blogpost", True)
    call(state, "edit_post", 99999)
    assert posts() == before


def _luis_conversation() -> int:
    with session_scope() as db:
        user = db.exec(select(PortalUser).where(PortalUser.email == LUIS)).one()
        identity = resolve_session(db, create_session(db, user))
        return support.ask(db, identity, None, "How do I reset a password?")


def test_support_handlers_refuse_signed_out_and_other_users(seeded):
    support.rate_limiter = support.RateLimiter()
    luis_conversation = _luis_conversation()
    signed_out = make_state(SupportState, None, "/support")
    assert "session has ended" in str(call(signed_out, "submit", {"question": "Hello"})).lower()

    dana = make_state(SupportState, DANA, "/support")
    call(dana, "load")
    assert dana.conversations == []
    assert "not found" in str(call(dana, "open_conversation", luis_conversation))
    assert dana.messages == [] and dana.current_id == 0
    dana.current_id = luis_conversation  # even if the browser forged it
    call(dana, "clear_conversation")
    call(dana, "submit", {"question": "Adding to Luis's conversation?"})
    assert dana.question_error == "That conversation was not found."
    with session_scope() as db:
        assert db.get(SupportConversation, luis_conversation) is not None
        assert (
            len(db.exec(select(SupportMessage).where(SupportMessage.conversation_id == luis_conversation)).all()) == 1
        )


def test_submit_validates_the_question(seeded):
    support.rate_limiter = support.RateLimiter()
    state = make_state(SupportState, DANA, "/support")
    for bad, message in (
        (None, "Type your question first."),
        ({"question": 42}, "Type your question first."),
        ({"question": "x" * 2001}, "the limit is 2,000"),
    ):
        state.question_error = ""
        assert call(state, "submit", bad) is None
        assert message in state.question_error
    assert state.messages == [] and not state.streaming
    with session_scope() as db:
        assert db.exec(select(SupportConversation)).all() == []


def test_rate_limit_message_beside_the_field(seeded):
    support.rate_limiter = support.RateLimiter(limit=2)
    state = make_state(SupportState, DANA, "/support")
    for _ in range(2):
        assert call(state, "submit", {"question": "How do I reset a password?"}) is SupportState.stream_answer
        state.streaming = False  # as if the answer had finished
    call(state, "submit", {"question": "And another?"})
    assert "You've asked 2 questions in the last minute" in state.question_error
    support.rate_limiter = support.RateLimiter()
