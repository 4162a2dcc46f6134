"""The "Show" select that switches a list between its tabs (My Invoices, My Agreements)."""

import reflex as rx


def tab_select(value, on_change, options: list[str], label: str) -> rx.Component:
    return rx.hstack(
        rx.text(label, size="2", weight="medium", id="tab-select-label"),
        rx.select.root(
            # Named "Show" plus its value, so the visible text is part of the accessible name.
            rx.select.trigger(id="tab-select", aria_labelledby="tab-select-label tab-select", min_width="12rem"),
            rx.select.content(*[rx.select.item(option, value=option) for option in options]),
            value=value,
            on_change=on_change,
        ),
        align="center",
        spacing="2",
    )
