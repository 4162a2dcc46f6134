"""The blog editor for Opkalla's portal administrators: /news/editor"""

import reflex as rx

from opkalla_portal.components.layout import empty_state, portal_page
from opkalla_portal.components.markdown import safe_markdown
from opkalla_portal.components.page import Page
from opkalla_portal.state.base import PortalState
from opkalla_portal.state.news_editor import BlogEditorState, EditorRow


def field_error(name: str) -> rx.Component:
    return rx.cond(
        BlogEditorState.errors[name] != "",
        rx.text(BlogEditorState.errors[name], id=f"{name}-error", color_scheme="red", size="2", role="alert"),
    )


def labelled(label: str, name: str, control: rx.Component, hint: str = "") -> rx.Component:
    return rx.vstack(
        rx.el.label(label, html_for=name, style={"fontWeight": "500", "fontSize": "var(--font-size-2)"}),
        control,
        rx.text(hint, size="1", color_scheme="gray") if hint else rx.fragment(),
        field_error(name),
        spacing="1",
        width="100%",
    )


def text_field(label: str, name: str, hint: str = "") -> rx.Component:
    return labelled(
        label,
        name,
        rx.input(
            id=name,
            value=BlogEditorState.draft[name],
            on_change=lambda value: BlogEditorState.set_field(name, value),
            aria_invalid=rx.cond(BlogEditorState.errors[name] != "", "true", "false"),
            aria_describedby=f"{name}-error",
            width="100%",
        ),
        hint,
    )


def post_row(row: EditorRow) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(rx.link(row["title"], href=row["href"])),
        rx.table.cell(row["date_label"]),
        rx.table.cell(
            rx.cond(
                row["published"],
                rx.badge("Published", color_scheme="green"),
                rx.badge("Unpublished", color_scheme="gray"),
            )
        ),
        rx.table.cell(
            rx.hstack(
                rx.button("Edit", size="1", variant="soft", on_click=BlogEditorState.edit_post(row["id"])),
                rx.cond(
                    row["published"],
                    rx.button(
                        "Unpublish",
                        size="1",
                        variant="soft",
                        color_scheme="gray",
                        on_click=BlogEditorState.set_published(row["id"], False),
                    ),
                    rx.button(
                        "Publish",
                        size="1",
                        variant="soft",
                        color_scheme="green",
                        on_click=BlogEditorState.set_published(row["id"], True),
                    ),
                ),
                spacing="2",
            )
        ),
    )


def post_list() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.heading("Posts", size="5", as_="h2"),
            rx.spacer(),
            rx.button(rx.icon("plus", size=16), "New post", on_click=BlogEditorState.new_post),
            width="100%",
            align="center",
        ),
        rx.box(
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        rx.table.column_header_cell("Title"),
                        rx.table.column_header_cell("Date"),
                        rx.table.column_header_cell("Status"),
                        rx.table.column_header_cell("Actions"),
                    )
                ),
                rx.table.body(rx.foreach(BlogEditorState.rows, post_row)),
                width="100%",
            ),
            overflow_x="auto",
            width="100%",
        ),
        spacing="3",
        width="100%",
    )


def editor_form() -> rx.Component:
    return rx.vstack(
        rx.heading(rx.cond(BlogEditorState.editing_id == 0, "New post", "Edit post"), size="5", as_="h2"),
        rx.grid(
            rx.vstack(
                text_field("Title", "title"),
                text_field("Web address", "slug", "Used in the post's link, e.g. teams-premium-news."),
                labelled(
                    "Summary",
                    "summary",
                    rx.text_area(
                        id="summary",
                        value=BlogEditorState.draft["summary"],
                        rows="2",
                        width="100%",
                        on_change=lambda value: BlogEditorState.set_field("summary", value),
                    ),
                ),
                labelled(
                    "Cover image",
                    "cover_image",
                    rx.el.select(
                        rx.foreach(BlogEditorState.covers, lambda c: rx.el.option(c["label"], value=c["value"])),
                        id="cover_image",
                        value=BlogEditorState.draft["cover_image"],
                        on_change=lambda value: BlogEditorState.set_field("cover_image", value),
                        style={
                            "width": "100%",
                            "padding": "0.4rem",
                            "borderRadius": "var(--radius-2)",
                            "border": f"1px solid {rx.color('gray', 7)}",
                            "background": rx.color("gray", 1),
                            "color": rx.color("gray", 12),
                        },
                    ),
                ),
                labelled(
                    "Post (Markdown)",
                    "body_markdown",
                    rx.text_area(
                        id="body_markdown",
                        value=BlogEditorState.draft["body_markdown"],
                        rows="16",
                        width="100%",
                        font_family="monospace",
                        on_change=lambda value: BlogEditorState.set_field("body_markdown", value),
                        debounce_timeout=250,
                    ),
                    "Headings (##), **bold**, lists, tables and links. HTML is shown as text.",
                ),
                spacing="3",
                width="100%",
            ),
            rx.el.section(
                rx.vstack(
                    rx.heading("Preview", size="3", as_="h3", color_scheme="gray"),
                    rx.card(
                        rx.vstack(
                            rx.cond(
                                BlogEditorState.draft["cover_image"] != "",
                                rx.image(
                                    src=BlogEditorState.draft["cover_image"],
                                    alt="",
                                    width="100%",
                                    height="140px",
                                    object_fit="cover",
                                    border_radius="var(--radius-3)",
                                ),
                            ),
                            rx.heading(BlogEditorState.draft["title"], size="5", as_="p"),
                            rx.text(BlogEditorState.draft["summary"], color_scheme="gray", size="2"),
                            safe_markdown(BlogEditorState.draft["body_markdown"]),
                            align="start",
                            spacing="2",
                            width="100%",
                        ),
                        width="100%",
                    ),
                    width="100%",
                ),
                aria_label="Preview",
                style={"width": "100%", "minWidth": "0"},
            ),
            columns=rx.breakpoints(initial="1", lg="2"),
            spacing="5",
            width="100%",
        ),
        rx.flex(
            rx.button("Publish", on_click=BlogEditorState.save(True)),
            rx.button("Save draft", variant="soft", on_click=BlogEditorState.save(False)),
            rx.button("Cancel", variant="ghost", color_scheme="gray", on_click=BlogEditorState.cancel),
            spacing="3",
            wrap="wrap",
        ),
        spacing="4",
        width="100%",
    )


def editor_page() -> rx.Component:
    return portal_page(
        "Blog editor",
        rx.cond(
            BlogEditorState.loaded,
            rx.cond(
                BlogEditorState.allowed,
                rx.cond(BlogEditorState.editing, editor_form(), post_list()),
                empty_state("lock", "Not available", "Only Opkalla's portal administrators can edit blog posts."),
            ),
            rx.skeleton(height="300px", width="100%"),
        ),
        description="Write, publish and unpublish the posts shown on the Homepage.",
    )


PAGES = [
    Page("/news/editor", "Blog editor", editor_page, on_load=[PortalState.guard, BlogEditorState.load]),
]
