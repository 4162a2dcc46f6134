"""A support knowledge article, the target of Spark AI's references: /support/article?slug=…"""

import reflex as rx

from opkalla_portal.components.layout import empty_state, portal_page
from opkalla_portal.components.markdown import safe_markdown
from opkalla_portal.components.page import Page
from opkalla_portal.state.base import PortalState
from opkalla_portal.state.support_article import SupportArticleState


def article_page() -> rx.Component:
    return portal_page(
        "Help article",
        rx.link(
            rx.hstack(
                rx.icon("arrow-left", size=16), rx.text("Back to Microsoft Support"), align="center", spacing="1"
            ),
            href="/support",
            size="2",
        ),
        rx.cond(
            SupportArticleState.loaded,
            rx.cond(
                SupportArticleState.found,
                rx.el.article(
                    rx.vstack(
                        rx.badge(
                            rx.cond(SupportArticleState.is_portal_help, "Portal help", "Microsoft 365 and Azure"),
                            variant="soft",
                        ),
                        rx.heading(SupportArticleState.title, size="6", as_="h2"),
                        safe_markdown(SupportArticleState.body),
                        rx.text("Still need help? Contact support@opkalla.com.", size="2", color_scheme="gray"),
                        spacing="3",
                        align="start",
                        width="100%",
                    ),
                    style={"maxWidth": "48rem", "width": "100%"},
                ),
                empty_state("file-x", "Article not found", "This help article does not exist. Ask Spark AI instead."),
            ),
            rx.skeleton(height="300px", width="100%"),
        ),
    )


PAGES = [
    Page("/support/article", "Help article", article_page, on_load=[PortalState.guard, SupportArticleState.load]),
]
