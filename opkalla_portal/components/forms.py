"""Form fields with a visible label and the server's message right beside the field."""

from __future__ import annotations

import reflex as rx


def field_error(field_id: str, error) -> rx.Component:
    """The message under a field (always present, empty when fine, announced when it appears)."""
    return rx.text(error, id=f"{field_id}-error", color=rx.color("red", 11), size="1", aria_live="polite",
                   min_height="1.1em")


def text_field(label: str, name: str, value, error, *, form: str, input_type: str = "text", required: bool = False,
               hint: str = "", max_length: int | None = None, autocomplete: str = "off") -> rx.Component:
    """One labelled input; `value` is the initial value (the form re-mounts after each load)."""
    field_id = f"{form}-{name}"
    return rx.box(
        rx.el.label(
            label,
            rx.cond(required, rx.text(" *", as_="span", color=rx.color("red", 11), aria_hidden="true"), rx.fragment()),
            html_for=field_id,
            style={"fontSize": "var(--font-size-2)", "fontWeight": "500", "display": "block",
                   "marginBottom": "0.25rem"},
        ),
        rx.input(
            id=field_id,
            name=name,
            default_value=value,
            type=input_type,
            max_length=max_length,
            auto_complete=autocomplete,
            aria_required="true" if required else "false",
            # Truthiness, not `!= ""`: an error not set yet (a missing key) is undefined, not invalid.
            aria_invalid=rx.cond(error, "true", "false"),
            aria_describedby=f"{field_id}-error",
            color_scheme=rx.cond(error, "red", "gray"),
            size="3",
            width="100%",
        ),
        rx.text(hint, size="1", color_scheme="gray") if hint else rx.fragment(),
        field_error(field_id, error),
        width="100%",
    )


def server_link_button(label: str, href, icon: str, **button_props) -> rx.Component:
    """A button-styled link that loads the whole page: for server routes (/auth/..., /register)
    that the in-page router must not handle."""
    return rx.button(rx.el.a(rx.icon(icon, size=18), label, href=href, reload_document=True), as_child=True,
                     **button_props)
