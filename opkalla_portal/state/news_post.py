"""A blog post page (/news/post?slug=…): one published post."""

from __future__ import annotations

from opkalla_portal.db import session_scope
from opkalla_portal.services import blog
from opkalla_portal.services.access import Capability, Identity
from opkalla_portal.state.base import PortalState, guarded


class PostState(PortalState):
    """/news/post?slug=…: one published post."""

    title: str = ""
    summary: str = ""
    cover_image: str = ""
    date_label: str = ""
    author_name: str = ""
    body_markdown: str = ""
    found: bool = True
    loaded: bool = False

    @guarded(Capability.HOME)
    def load(self, identity: Identity):
        slug = self.router.url.query_parameters.get("slug", "")
        with session_scope() as db:
            post = blog.published_post(db, identity, slug)
        self.found = post is not None
        self.title = post.title if post else ""
        self.summary = post.summary if post else ""
        self.cover_image = post.cover_image if post else ""
        self.date_label = post.date_label if post else ""
        self.author_name = post.author_name if post else ""
        self.body_markdown = post.body_markdown if post else ""
        self.loaded = True
