"""Subscription Create: Quantity and Effective Start Date for the product chosen with Buy."""

import reflex as rx

from opkalla_portal.components.forms import field_error, field_label, live_input, select_label
from opkalla_portal.components.layout import portal_page
from opkalla_portal.components.page import Page
from opkalla_portal.components.services_ui import back_link, error_callout, link_button, loading_block
from opkalla_portal.state.base import PortalState
from opkalla_portal.state.subscription_create import SubscriptionCreateState as S


def fact(label: str, value) -> rx.Component:
    return rx.vstack(
        rx.text(label, size="1", color_scheme="gray"),
        rx.text(value, size="2", weight="medium"),
        spacing="0",
        min_width="10rem",
    )


def create_form() -> rx.Component:
    return rx.vstack(
        rx.card(
            rx.vstack(
                rx.heading(S.product["title"], size="5", as_="h2"),
                rx.flex(
                    fact("Billing Contract", S.product["contract"]),
                    fact("Term", S.product["term"]),
                    fact("Price", S.product["price"]),
                    spacing="4",
                    wrap="wrap",
                ),
                spacing="3",
            ),
            width="100%",
        ),
        rx.card(
            rx.vstack(
                rx.cond(
                    S.product["addon"] == "1",
                    rx.vstack(
                        select_label("Base Subscription", "parent"),
                        rx.select.root(
                            rx.select.trigger(
                                id="parent",
                                aria_labelledby="parent-label parent",
                                placeholder="Choose the base subscription",
                                width="100%",
                            ),
                            rx.select.content(
                                rx.foreach(S.parents, lambda p: rx.select.item(p["name"], value=p["id"]))
                            ),
                            value=S.parent_id,
                            on_change=S.set_parent,
                        ),
                        field_error(S.errors["parent"], "parent"),
                        spacing="1",
                        width=rx.breakpoints(initial="100%", sm="24rem"),
                    ),
                ),
                field_label("Quantity", "quantity"),
                live_input(
                    id="quantity",
                    value=S.quantity,
                    on_change=S.set_quantity,
                    input_mode="numeric",
                    width="10rem",
                    aria_describedby="quantity-error",
                    aria_invalid=rx.cond(S.errors["quantity"] != "", "true", "false"),
                ),
                rx.text("Allowed: ", S.product["range"], size="1", color_scheme="gray"),
                field_error(S.errors["quantity"], "quantity"),
                field_label("Effective Start Date", "start-date"),
                live_input(
                    id="start-date",
                    type="date",
                    value=S.start_date,
                    on_change=S.set_start_date,
                    width="12rem",
                    aria_describedby="start-date-error",
                    aria_invalid=rx.cond(S.errors["start_date"] != "", "true", "false"),
                ),
                rx.text(
                    "Today places the order now; a later date (up to 90 days ahead) places it on that day.",
                    size="1",
                    color_scheme="gray",
                ),
                field_error(S.errors["start_date"], "start-date"),
                rx.cond(
                    (S.product["total"] != "") & (S.product["usage"] != "1"),
                    rx.text("Monthly cost: ", rx.el.strong(S.product["total"]), size="2", aria_live="polite"),
                ),
                rx.hstack(
                    rx.button(
                        "Submit",
                        on_click=S.submit,
                        loading=S.submitting,
                        disabled=S.submitting | (S.result != ""),
                        size="3",
                    ),
                    link_button("Cancel", "/my-services/catalog", variant="soft", color_scheme="gray", size="3"),
                    spacing="3",
                ),
                spacing="2",
                align="start",
                width="100%",
            ),
            width="100%",
        ),
        spacing="4",
        width="100%",
        max_width="48rem",
    )


def subscription_create_page() -> rx.Component:
    return portal_page(
        "Subscription Create",
        back_link("Product Catalog", "/my-services/catalog"),
        rx.cond(
            S.loading,
            loading_block("Loading the product…"),
            rx.cond(
                S.load_error != "", error_callout(S.load_error), rx.cond(S.product.contains("title"), create_form())
            ),
        ),
        description="Update the Quantity and Effective Start Date, then select Submit to place the order.",
    )


PAGES = [
    Page("/my-services/create", "Subscription Create", subscription_create_page, on_load=[PortalState.guard, S.load]),
]
