"""Pieces shared by the My Services screens: the section links, loading, failures, links, figures.
(Form pieces, the field error included, are in components/forms.py.)"""

from __future__ import annotations

import reflex as rx


def services_links(current: str) -> rx.Component:
    """Links between My Services, Change Logs, Future Changes and Add Service."""

    def link(label: str, href: str, icon: str, solid: bool = False) -> rx.Component:
        return link_button(
            label,
            href,
            icon,
            variant="solid" if solid else "soft",
            color_scheme="indigo" if solid else "gray",
            size="2",
        )

    items = [
        ("My Services", "/my-services", "layers"),
        ("Change Logs", "/my-services/change-logs", "history"),
        ("Future Changes", "/my-services/future-changes", "calendar-clock"),
        ("My Approval Requests", "/my-services/approval-requests", "stamp"),
    ]
    return rx.flex(
        *[link(label, href, icon) for label, href, icon in items if href != current],
        link("Add Service", "/my-services/catalog", "plus", solid=True),
        spacing="2",
        wrap="wrap",
    )


def loading_block(text: str) -> rx.Component:
    return rx.center(
        rx.hstack(rx.spinner(size="3"), rx.text(text, color_scheme="gray", size="2"), align="center", spacing="3"),
        padding="3rem 1rem",
        width="100%",
        role="status",
    )


def error_callout(message, on_retry=None, *, role: str = "alert", retry_label: str = "Try again") -> rx.Component:
    """A failure with an optional retry; secondary panels (the dashboard) pass role="status" so the
    page's main error stays the one alert."""
    return rx.callout.root(
        rx.callout.icon(rx.icon("triangle-alert")),
        rx.callout.text(message),
        *(
            [rx.button(retry_label, on_click=on_retry, size="1", variant="soft", color_scheme="red")]
            if on_retry
            else []
        ),
        color_scheme="red",
        role=role,
        width="100%",
    )


def back_link(label: str, href: str) -> rx.Component:
    return rx.link(
        rx.hstack(rx.icon("arrow-left", size=16), rx.text(label, size="2"), align="center", spacing="1"),
        href=href,
        underline="hover",
    )


def visually_hidden(text: str) -> rx.Component:
    """Text for screen readers only (e.g. the heading of an icon-only column)."""
    return rx.el.span(
        text,
        style={
            "position": "absolute",
            "width": "1px",
            "height": "1px",
            "overflow": "hidden",
            "clip": "rect(0 0 0 0)",
            "white_space": "nowrap",
            "margin": "-1px",
        },
    )


def link_button(label: str, href: str, icon: str | None = None, **props) -> rx.Component:
    """A link that looks like a button (one focusable element, not a button inside a link)."""
    return rx.button(
        rx.link(*([rx.icon(icon, size=16)] if icon else []), label, href=href, underline="none"), as_child=True, **props
    )


def stat_card(label: str, value, test_id: str, size: str = "6") -> rx.Component:
    """A labelled figure (Usage Data's totals, license insight's idle seats)."""
    return rx.card(
        rx.vstack(
            rx.text(label, size="1", color_scheme="gray", weight="medium"),
            rx.text(value, size=size, weight="bold", data_testid=test_id),
            spacing="1",
        ),
        flex="1",
        min_width="12rem",
    )
