"""A knowledge article (/support/article?slug=…): where Microsoft Support's references link."""

from __future__ import annotations

from opkalla_portal.services.access import Capability, Identity
from opkalla_portal.services.knowledge import article_by_slug
from opkalla_portal.state.base import PortalState, guarded


class SupportArticleState(PortalState):
    """/support/article?slug=…: one knowledge article (the references link here)."""

    title: str = ""
    body: str = ""
    is_portal_help: bool = False
    found: bool = True
    loaded: bool = False

    @guarded(Capability.SUPPORT)
    def load(self, identity: Identity):
        article = article_by_slug(self.router.url.query_parameters.get("slug", ""))
        self.found = article is not None
        self.title = article.title if article else ""
        self.body = article.page_markdown if article else ""
        self.is_portal_help = bool(article and article.kind == "help")
        self.loaded = True
