"""The blog editor (/news/editor) for the provider's administrators."""

from __future__ import annotations

from typing import TypedDict

import reflex as rx

from opkalla_portal.db import session_scope
from opkalla_portal.services import blog
from opkalla_portal.services.access import Capability, Identity
from opkalla_portal.state.base import PortalState, guarded

FIELDS = ("title", "slug", "summary", "cover_image", "body_markdown")


class EditorRow(TypedDict):
    id: int
    title: str
    date_label: str
    published: bool
    href: str


def _blank() -> dict[str, str]:
    return {name: "" for name in FIELDS}


class BlogEditorState(PortalState):
    """/news/editor: list every post; create, edit, publish and unpublish."""

    rows: list[EditorRow] = []
    allowed: bool = False
    loaded: bool = False
    editing: bool = False
    editing_id: int = 0  # 0: a new post
    draft: dict[str, str] = _blank()
    errors: dict[str, str] = _blank()
    covers: list[dict[str, str]] = []  # {value, label}

    def _reload_rows(self, identity) -> None:
        with session_scope() as db:
            posts = blog.all_posts(db, identity)
        self.rows = [
            EditorRow(
                id=p.id, title=p.title, date_label=p.date_label, published=p.published, href=f"/news/post?slug={p.slug}"
            )
            for p in posts
        ]

    @guarded(Capability.HOME)
    def load(self, identity: Identity):
        self.allowed, self.loaded, self.rows = False, True, []  # what a refused visitor is left with
        blog.require_editor(identity)
        self.allowed = True
        self.covers = [
            {"value": c, "label": c.rsplit("/", 1)[-1].removesuffix(".svg").replace("-", " ").title()}
            for c in blog.cover_choices()
        ]
        self.editing = False
        self._reload_rows(identity)
        self.loaded = True

    @guarded(Capability.HOME)
    def new_post(self, identity: Identity):
        blog.require_editor(identity)
        self.draft = {**_blank(), "cover_image": self.covers[0]["value"] if self.covers else ""}
        self.errors = _blank()
        self.editing_id = 0
        self.editing = True

    @guarded(Capability.HOME)
    def edit_post(self, identity: Identity, post_id: int):
        with session_scope() as db:
            draft = blog.post_draft(db, blog.require_editor(identity), post_id)
        self.draft = {name: getattr(draft, name) for name in FIELDS}
        self.errors = _blank()
        self.editing_id = post_id
        self.editing = True

    @guarded(Capability.HOME)
    def set_field(self, identity: Identity, name: str, value: str):
        """Editor inputs; the preview renders from `draft` as the editor types."""
        blog.require_editor(identity)
        if name not in FIELDS or not isinstance(value, str):
            return None
        value = value[: blog.LIMITS["body"] + 1]
        self.draft = {**self.draft, name: value}
        if name == "title" and self.editing_id == 0:
            self.draft = {**self.draft, "slug": blog.slug_for(value)}
            self.errors = {**self.errors, "slug": ""}
        if self.errors.get(name):
            self.errors = {**self.errors, name: ""}

    @guarded(Capability.HOME)
    def cancel(self, identity: Identity):
        self.editing = False
        self.errors = _blank()

    @guarded(Capability.HOME)
    def save(self, identity: Identity, publish: bool):
        """Save draft (publish False) or Publish (True); errors appear beside their fields."""
        blog.require_editor(identity)
        draft = blog.PostDraft(**{name: self.draft.get(name, "") for name in FIELDS})
        try:
            with session_scope() as db:
                blog.save_post(db, identity, self.editing_id or None, draft, publish=publish is True)
        except blog.PostInvalid as invalid:
            self.errors = {name: invalid.errors.get(name, "") for name in FIELDS}
            return rx.toast.error("The post was not saved. Correct the highlighted fields.")
        self.editing = False
        self._reload_rows(identity)
        return rx.toast.success("The post was published." if publish is True else "The post was saved.")

    @guarded(Capability.HOME)
    def set_published(self, identity: Identity, post_id: int, published: bool):
        with session_scope() as db:
            blog.set_published(db, blog.require_editor(identity), post_id, published is True)
        self._reload_rows(identity)
        return rx.toast.success(
            "The post is on the Homepage."
            if published is True
            else "The post was unpublished; readers no longer see it."
        )
