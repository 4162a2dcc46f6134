"""The Homepage: the latest published blog posts."""

from __future__ import annotations

from typing import TypedDict

from opkalla_portal.db import session_scope
from opkalla_portal.services import blog
from opkalla_portal.services.access import Capability, Identity
from opkalla_portal.state.base import PortalState, guarded
from opkalla_portal.state.deltas import assign_changed


class PostCard(TypedDict):
    slug: str
    title: str
    summary: str
    cover_image: str
    date_label: str
    href: str


class HomeState(PortalState):
    posts: list[PostCard] = []
    can_edit_blog: bool = False
    loaded: bool = False

    @guarded(Capability.HOME)
    def load(self, identity: Identity):
        """Load the latest published posts (unpublished ones never reach the browser)."""
        with session_scope() as db:
            posts = blog.published_posts(db, identity)
        assign_changed(
            self,
            posts=[
                PostCard(
                    slug=p.slug,
                    title=p.title,
                    summary=p.summary,
                    cover_image=p.cover_image,
                    date_label=p.date_label,
                    href=f"/news/post?slug={p.slug}",
                )
                for p in posts
            ],
        )
        self.can_edit_blog = blog.can_edit(identity)
        self.loaded = True
