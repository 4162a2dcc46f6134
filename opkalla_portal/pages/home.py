"""Home page: the latest blog posts and Opkalla's Microsoft Solutions Partner badge."""

import reflex as rx

from opkalla_portal.components.layout import empty_state, portal_page
from opkalla_portal.components.page import Page
from opkalla_portal.state.base import PortalState
from opkalla_portal.state.home import HomeState, PostCard


def post_card(post: PostCard) -> rx.Component:
    return rx.card(
        rx.link(
            rx.vstack(
                rx.image(
                    src=post["cover_image"],
                    alt="",
                    width="100%",
                    height="160px",
                    object_fit="cover",
                    border_radius="var(--radius-3)",
                    loading="lazy",
                ),
                rx.text(post["date_label"], size="1", color_scheme="gray"),
                rx.heading(post["title"], size="4", as_="h3"),
                rx.text(post["summary"], size="2", color_scheme="gray"),
                rx.text("Read more", size="2", weight="medium", color=rx.color("accent", 11)),
                spacing="2",
                align="start",
            ),
            href=post["href"],
            underline="none",
            color="inherit",
        ),
        as_child=False,
        width="100%",
    )


def partner_badge() -> rx.Component:
    return rx.card(
        rx.flex(
            rx.image(
                src="/partner-badge.svg",
                alt="Opkalla: Microsoft Solutions Partner for Modern Work",
                width="200px",
                height="auto",
            ),
            rx.vstack(
                rx.heading("Microsoft Solutions Partner for Modern Work", size="4", as_="h2"),
                rx.text(
                    "Opkalla's Microsoft Solutions Partner for Modern Work badge demonstrates our best-in-class "
                    "expertise in Microsoft 365: Teams, security and device management for the way your "
                    "people work.",
                    size="2",
                    color_scheme="gray",
                ),
                spacing="2",
                align="start",
            ),
            direction=rx.breakpoints(initial="column", sm="row"),
            spacing="4",
            align=rx.breakpoints(initial="start", sm="center"),
        ),
        width="100%",
    )


def blog_section() -> rx.Component:
    return rx.el.section(
        rx.vstack(
            rx.hstack(
                rx.heading("Blogs", size="5", as_="h2"),
                rx.spacer(),
                rx.cond(
                    HomeState.can_edit_blog,
                    rx.link(rx.button(rx.icon("pencil", size=16), "Manage posts", variant="soft"), href="/news/editor"),
                ),
                width="100%",
                align="center",
            ),
            rx.text("The newest Microsoft products, features and capabilities.", size="2", color_scheme="gray"),
            rx.cond(
                HomeState.loaded,
                rx.cond(
                    HomeState.posts.length() > 0,
                    rx.grid(
                        rx.foreach(HomeState.posts, post_card),
                        columns=rx.breakpoints(initial="1", sm="2", lg="3"),
                        spacing="4",
                        width="100%",
                    ),
                    empty_state(
                        "newspaper",
                        "No news yet",
                        "Blog posts about the newest Microsoft products and features will appear here.",
                    ),
                ),
                rx.grid(
                    *[rx.skeleton(height="300px", width="100%") for _ in range(3)],
                    columns=rx.breakpoints(initial="1", sm="2", lg="3"),
                    spacing="4",
                    width="100%",
                ),
            ),
            spacing="3",
            width="100%",
        ),
        aria_label="Blogs",
        style={"width": "100%"},
    )


def home_page() -> rx.Component:
    return portal_page(
        "Home",
        partner_badge(),
        blog_section(),
        description="Welcome to the Opkalla Customer Portal.",
    )


PAGES = [
    Page("/", "Home", home_page, on_load=[PortalState.guard, HomeState.load]),
]
