"""Payment Profiles: the customer's saved cards; add, set default, remove."""

import reflex as rx

from opkalla_portal.components.layout import empty_state, portal_page
from opkalla_portal.components.page import Page
from opkalla_portal.state.base import PortalState
from opkalla_portal.state.payment_profiles import PaymentsState, ProfileRow

S = PaymentsState


def field_error(key: str) -> rx.Component:
    return rx.cond(
        S.errors.contains(key),
        rx.text(S.errors[key], color_scheme="red", size="1", id=f"card-{key}-error", role="alert"),
        rx.fragment(),
    )


def card_field(label: str, key: str, input_id: str, **props) -> rx.Component:
    """An input NOT bound to state: its value stays in the browser (read by the tokenizer)."""
    return rx.vstack(
        rx.el.label(label, html_for=input_id, style={"fontSize": "var(--font-size-2)", "fontWeight": "500"}),
        rx.input(
            id=input_id,
            aria_invalid=rx.cond(S.errors.contains(key), "true", "false"),
            aria_describedby=f"card-{key}-error",
            width="100%",
            **props,
        ),
        field_error(key),
        spacing="1",
        width="100%",
    )


def add_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.trigger(rx.button(rx.icon("plus", size=16), "Add payment method")),
        rx.dialog.content(
            rx.dialog.title("Add payment method"),
            rx.dialog.description(
                "Your card details go directly to our payment processor; Opkalla stores only the card type, "
                "last four digits and expiry.",
                size="2",
                color_scheme="gray",
            ),
            rx.vstack(
                card_field("Name on card", "holder_name", "card-holder", auto_complete="cc-name", max_length=200),
                card_field(
                    "Card number",
                    "number",
                    "card-number",
                    auto_complete="cc-number",
                    input_mode="numeric",
                    max_length=23,
                    placeholder="1234 5678 9012 3456",
                ),
                rx.hstack(
                    card_field(
                        "Expiry (MM/YY)",
                        "expiry",
                        "card-expiry",
                        auto_complete="cc-exp",
                        placeholder="MM/YY",
                        max_length=7,
                    ),
                    card_field(
                        "Security code",
                        "cvc",
                        "card-cvc",
                        auto_complete="cc-csc",
                        input_mode="numeric",
                        max_length=4,
                        type="password",
                    ),
                    spacing="3",
                    width="100%",
                ),
                rx.cond(
                    S.errors.contains("form"),
                    rx.callout(S.errors["form"], icon="triangle-alert", color_scheme="red", role="alert"),
                    rx.fragment(),
                ),
                rx.hstack(
                    rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray")),
                    rx.button("Add", loading=S.saving, on_click=S.submit_card),
                    justify="end",
                    spacing="3",
                    width="100%",
                ),
                spacing="3",
                margin_top="1rem",
                width="100%",
            ),
            max_width="28rem",
        ),
        open=S.adding,
        on_open_change=S.open_add,
    )


def remove_dialog() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title("Remove payment method?"),
            rx.alert_dialog.description(
                rx.text(S.remove_label, " will be removed from your payment profiles. This cannot be undone.")
            ),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray")),
                rx.alert_dialog.action(rx.button("Remove", color_scheme="red", on_click=S.confirm_remove)),
                justify="end",
                spacing="3",
                margin_top="1rem",
            ),
        ),
        open=S.remove_id != 0,
        on_open_change=S.cancel_remove,
    )


def profile_card(profile: ProfileRow) -> rx.Component:
    return rx.card(
        rx.flex(
            rx.hstack(
                rx.center(
                    rx.icon("credit-card", size=22),
                    width="44px",
                    height="44px",
                    border_radius="var(--radius-3)",
                    background=rx.color("accent", 3),
                ),
                rx.vstack(
                    rx.hstack(
                        rx.text(profile["label"], weight="bold"),
                        rx.cond(
                            profile["is_default"],
                            rx.badge("Default", color_scheme="green", high_contrast=True),
                            rx.fragment(),
                        ),
                        rx.cond(
                            profile["expired"],
                            rx.badge("Expired", color_scheme="red", high_contrast=True),
                            rx.fragment(),
                        ),
                        spacing="2",
                        align="center",
                        wrap="wrap",
                    ),
                    rx.text(profile["holder_name"], " · Expires ", profile["expiry"], size="2", color_scheme="gray"),
                    spacing="1",
                ),
                spacing="3",
                align="center",
            ),
            rx.spacer(),
            rx.hstack(
                rx.cond(
                    profile["is_default"] | profile["expired"],
                    rx.fragment(),
                    rx.button(
                        "Set as default",
                        variant="soft",
                        size="2",
                        on_click=S.make_default(profile["id"]),
                        aria_label="Set " + profile["label"] + " as default",
                    ),
                ),
                rx.button(
                    "Remove",
                    variant="soft",
                    color_scheme="red",
                    size="2",
                    on_click=S.ask_remove(profile["id"]),
                    aria_label="Remove " + profile["label"],
                ),
                spacing="2",
            ),
            direction=rx.breakpoints(initial="column", sm="row"),
            spacing="3",
            align=rx.breakpoints(initial="start", sm="center"),
            width="100%",
        ),
        width="100%",
    )


def payment_profiles_page() -> rx.Component:
    return portal_page(
        "Payment Profiles",
        rx.link(
            rx.hstack(rx.icon("arrow-left", size=16), rx.text("My Invoices"), align="center", spacing="1"),
            href="/my-invoices",
            size="2",
        ),
        rx.cond(
            ~S.loaded,
            rx.center(rx.spinner(size="3"), padding="3rem", width="100%", role="status", aria_label="Loading"),
            rx.cond(
                S.profiles.length() > 0,
                rx.vstack(rx.foreach(S.profiles, profile_card), spacing="3", width="100%"),
                empty_state("credit-card", "No payment methods", "Add a card to pay your Opkalla invoices."),
            ),
        ),
        remove_dialog(),
        description="The cards used to pay your invoices. The default card is charged when an invoice is due.",
        actions=add_dialog(),
    )


PAGES = [
    Page(
        "/my-invoices/payment-profiles",
        "Payment Profiles",
        payment_profiles_page,
        on_load=[PortalState.guard, PaymentsState.load],
    ),
]
