"""Markdown that can never run HTML or script from its source.

Reflex's rx.markdown enables rehype-raw by default (raw HTML in the Markdown becomes real
elements). Posts, knowledge articles and model answers are text, so raw HTML is switched
off (it shows as text) and so is math (a "$20" price must not become a formula). Links are
always underlined so they stand out from the text without relying on colour.
"""

import reflex as rx


def _link(text, **props) -> rx.Component:
    return rx.link(text, underline="always", **props)


PROSE_STYLE = {
    "& table": {
        "borderCollapse": "collapse",
        "width": "100%",
        "margin": "0.75rem 0",
        "display": "block",
        "overflowX": "auto",
    },
    "& th, & td": {
        "border": f"1px solid {rx.color('gray', 6)}",
        "padding": "0.4rem 0.6rem",
        "textAlign": "left",
        "verticalAlign": "top",
    },
    "& th": {"background": rx.color("gray", 3)},
}


def safe_markdown(content, **props) -> rx.Component:
    return rx.markdown(
        content,
        use_raw=False,
        use_math=False,
        use_katex=False,
        class_name="portal-prose",
        component_map={"a": _link},
        style=PROSE_STYLE,
        width="100%",
        **props,
    )
