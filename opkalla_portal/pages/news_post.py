"""One blog post, rendered from Markdown: /news/post?slug=…"""

import reflex as rx

from opkalla_portal.components.layout import empty_state, portal_page
from opkalla_portal.components.markdown import safe_markdown
from opkalla_portal.components.page import Page
from opkalla_portal.state.base import PortalState
from opkalla_portal.state.news_post import PostState


def back_link() -> rx.Component:
    return rx.link(
        rx.hstack(rx.icon("arrow-left", size=16), rx.text("Back to Home"), align="center", spacing="1"),
        href="/",
        size="2",
    )


def article() -> rx.Component:
    return rx.el.article(
        rx.vstack(
            rx.heading(PostState.title, size="7", as_="h2"),
            rx.text(PostState.date_label, " · ", PostState.author_name, size="2", color_scheme="gray"),
            rx.cond(
                PostState.cover_image != "",
                rx.image(
                    src=PostState.cover_image,
                    alt="",
                    width="100%",
                    max_height="320px",
                    object_fit="cover",
                    border_radius="var(--radius-4)",
                ),
            ),
            rx.text(PostState.summary, size="4", color_scheme="gray"),
            safe_markdown(PostState.body_markdown),
            spacing="4",
            align="start",
            width="100%",
        ),
        style={"maxWidth": "48rem", "width": "100%"},
    )


def post_page() -> rx.Component:
    return portal_page(
        "News",
        back_link(),
        rx.cond(
            PostState.loaded,
            rx.cond(
                PostState.found,
                article(),
                empty_state(
                    "file-x",
                    "Post not found",
                    "This post may have been unpublished. Go back to Home for the latest posts.",
                ),
            ),
            rx.skeleton(height="400px", width="100%"),
        ),
    )


PAGES = [
    Page("/news/post", "News", post_page, on_load=[PortalState.guard, PostState.load]),
]
