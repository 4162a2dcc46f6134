"""Form pieces of every page: labels, fields, and the server's message right beside its field."""

from __future__ import annotations

import reflex as rx


def field_error(message, field_id: str) -> rx.Component:
    """The server's message beside its field, announced when it appears; the field points at it
    with aria-describedby="<field_id>-error"."""
    return rx.cond(
        message != "",
        rx.text(
            rx.icon("circle-alert", size=14, display="inline", vertical_align="middle", margin_right="0.25rem"),
            message,
            id=f"{field_id}-error",
            color_scheme="red",
            size="2",
            role="alert",
        ),
    )


def field_label(text: str, for_id: str) -> rx.Component:
    """A real <label for=...> (rx.text(as_="label") drops html_for)."""
    return rx.el.label(text, html_for=for_id, style={"font_size": "var(--font-size-2)", "font_weight": "600"})


def live_input(**props) -> rx.Component:
    """A controlled input whose every change reaches the server at once (a preview follows it) and whose value a
    Submit reads from the state. No debounce: with Reflex's default 300 ms a Submit clicked just after typing could
    reach the server first and check the previous value (seen in CI: a date typed, then Submit, judged stale)."""
    return rx.input(debounce_timeout=0, **props)


def select_label(text: str, for_id: str) -> rx.Component:
    """The label of a drop-down; its trigger is named by this label plus its chosen value."""
    return rx.el.label(
        text, id=f"{for_id}-label", html_for=for_id, style={"font_size": "var(--font-size-2)", "font_weight": "600"}
    )


def text_field(
    label: str,
    name: str,
    value,
    error,
    *,
    form: str,
    input_type: str = "text",
    required: bool = False,
    hint: str = "",
    max_length: int | None = None,
    autocomplete: str = "off",
) -> rx.Component:
    """One labelled input; `value` is the initial value (the form re-mounts after each load)."""
    field_id = f"{form}-{name}"
    return rx.box(
        rx.el.label(
            label,
            rx.cond(required, rx.text(" *", as_="span", color=rx.color("red", 11), aria_hidden="true"), rx.fragment()),
            html_for=field_id,
            style={
                "fontSize": "var(--font-size-2)",
                "fontWeight": "500",
                "display": "block",
                "marginBottom": "0.25rem",
            },
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
        field_error(error, field_id),
        width="100%",
    )


def server_link_button(label: str, href, icon: str, **button_props) -> rx.Component:
    """A button-styled link that loads the whole page: for server routes (/auth/..., /register)
    that the in-page router must not handle."""
    return rx.button(
        rx.el.a(rx.icon(icon, size=18), label, href=href, reload_document=True), as_child=True, **button_props
    )
