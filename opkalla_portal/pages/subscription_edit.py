"""Subscription Edit: change a subscription's Quantity now, On Renewal, or on a Custom date."""

import reflex as rx

from opkalla_portal.components.forms import field_error, field_label, live_input
from opkalla_portal.components.layout import portal_page
from opkalla_portal.components.page import Page
from opkalla_portal.components.services_ui import back_link, error_callout, link_button, loading_block
from opkalla_portal.models import ChangeMode
from opkalla_portal.services.quantity_change import LICENSES_ASSIGNED, REDUCE_ON_RENEWAL
from opkalla_portal.state.base import PortalState
from opkalla_portal.state.subscription_edit import SubscriptionEditState as S


def fact(label: str, value) -> rx.Component:
    return rx.vstack(
        rx.text(label, size="1", color_scheme="gray"), rx.text(value, size="2", weight="medium"), spacing="0"
    )


def facts(*items: rx.Component) -> rx.Component:
    return rx.grid(*items, columns=rx.breakpoints(initial="1", xs="2", md="3"), spacing="4", width="100%")


def summary() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(S.sub["name"], size="5", as_="h2"),
            facts(
                fact("Billing Contract", S.sub["contract"]),
                fact("Current Quantity", S.sub["quantity"]),
                fact("Licenses assigned", S.sub["assigned"]),
                fact("Term", S.sub["term"]),
                fact("Current term", S.sub["term_dates"]),
                fact("Renewal", S.sub["renewal"]),
                fact("Unit Price", S.sub["unit_price"]),
                fact("Status", S.sub["status"]),
            ),
            rx.cond(
                S.sub["renewal_quantity"] != "",
                rx.text(
                    "Scheduled at Microsoft for renewal: ",
                    S.sub["renewal_quantity"],
                    " licenses.",
                    size="2",
                    color_scheme="gray",
                ),
            ),
            rx.text(
                rx.icon("info", size=14, display="inline", vertical_align="middle", margin_right="0.25rem"),
                S.sub["window"],
                size="2",
                color_scheme="gray",
            ),
            rx.cond(S.sub["assigned_note"] != "", rx.text(S.sub["assigned_note"], size="2", color_scheme="amber")),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def quantity_field() -> rx.Component:
    invalid = S.errors["quantity"] != ""
    return rx.vstack(
        field_label("Quantity", "quantity"),
        live_input(
            id="quantity",
            value=S.quantity,
            on_change=S.set_quantity,
            input_mode="numeric",
            aria_invalid=rx.cond(invalid, "true", "false"),
            aria_describedby="quantity-error",
            color_scheme=rx.cond(invalid, "red", "gray"),
            width="10rem",
            auto_complete="off",
        ),
        field_error(S.errors["quantity"], "quantity"),
        rx.cond(
            S.error_codes["quantity"] == LICENSES_ASSIGNED,
            rx.link("Go to Manage Licenses", href="/manage-licenses", size="2"),
        ),
        spacing="1",
        align="start",
    )


def change_effective_field() -> rx.Component:
    return rx.el.fieldset(
        rx.el.legend(rx.text("Change Effective", size="2", weight="bold"), margin_bottom="0.25rem"),
        rx.radio(
            [mode.label for mode in ChangeMode],
            value=S.mode_label,
            on_change=S.set_mode,
            direction="row",
            spacing="4",
            aria_describedby="mode-error",
        ),
        field_error(S.errors["mode"], "mode"),
        rx.cond(
            (S.error_codes["mode"] == REDUCE_ON_RENEWAL) & (S.mode_label == ChangeMode.IMMEDIATELY.label),
            rx.button(
                "Change On Renewal instead", on_click=S.choose_on_renewal, variant="soft", size="2", margin_top="0.5rem"
            ),
        ),
        border="none",
        padding="0",
        margin="0",
    )


def effective_date_field() -> rx.Component:
    invalid = S.errors["effective_date"] != ""
    return rx.cond(
        S.mode_label == ChangeMode.CUSTOM.label,
        rx.vstack(
            field_label("Effective Date", "effective-date"),
            live_input(
                id="effective-date",
                type="date",
                value=S.effective_date,
                on_change=S.set_effective_date,
                min=S.sub["min_date"],
                max=S.sub["max_date"],
                width="12rem",
                aria_invalid=rx.cond(invalid, "true", "false"),
                aria_describedby="effective_date-error",
            ),
            field_error(S.errors["effective_date"], "effective_date"),
            spacing="1",
            align="start",
        ),
    )


def price_effect() -> rx.Component:
    return rx.cond(
        S.effect["new"] != "",
        rx.card(
            rx.vstack(
                rx.text("Price effect", size="2", weight="bold"),
                facts(
                    fact("Current monthly cost", S.effect["current"]),
                    fact("New monthly cost", S.effect["new"]),
                    fact("Monthly difference", S.effect["difference"]),
                    fact("Prorated amount for the rest of the term", S.effect["prorated"]),
                ),
                rx.text(S.effect["note"], size="1", color_scheme="gray"),
                spacing="2",
            ),
            variant="surface",
            width="100%",
            aria_live="polite",
        ),
    )


def outcome() -> rx.Component:
    return rx.fragment(
        rx.cond(
            S.conflict != "",
            rx.callout.root(
                rx.callout.icon(rx.icon("users")),
                rx.callout.text(S.conflict),
                color_scheme="amber",
                role="alert",
                width="100%",
            ),
        ),
        rx.cond(
            S.result != "",
            rx.callout.root(
                rx.callout.icon(
                    rx.match(
                        S.result_kind,
                        ("failed", rx.icon("circle-x")),
                        ("held", rx.icon("hourglass")),
                        rx.icon("circle-check"),
                    )
                ),
                rx.callout.text(
                    S.result,
                    " ",
                    rx.link("Change Logs", href="/my-services/change-logs"),
                    " · ",
                    rx.cond(
                        S.result_kind == "held",
                        rx.link("My Approval Requests", href="/my-services/approval-requests"),
                        rx.link("Future Changes", href="/my-services/future-changes"),
                    ),
                ),
                color_scheme=rx.match(S.result_kind, ("failed", "red"), ("held", "amber"), "green"),
                role="status",
                width="100%",
            ),
        ),
    )


def edit_form() -> rx.Component:
    return rx.vstack(
        summary(),
        outcome(),
        rx.cond(
            S.sub["editable"] == "1",
            rx.card(
                rx.vstack(
                    quantity_field(),
                    change_effective_field(),
                    effective_date_field(),
                    price_effect(),
                    field_error(S.errors["form"], "form"),
                    rx.hstack(
                        rx.button("Submit", on_click=S.submit, loading=S.submitting, disabled=S.submitting, size="3"),
                        link_button("Cancel", "/my-services", variant="soft", color_scheme="gray", size="3"),
                        spacing="3",
                    ),
                    spacing="4",
                    width="100%",
                    align="start",
                ),
                width="100%",
            ),
            rx.callout.root(
                rx.callout.icon(rx.icon("info")),
                rx.callout.text("This subscription's quantity cannot be changed here."),
                width="100%",
            ),
        ),
        spacing="4",
        width="100%",
        max_width="48rem",
    )


def subscription_edit_page() -> rx.Component:
    return portal_page(
        "Subscription Edit",
        back_link("My Services", "/my-services"),
        rx.cond(
            S.loading,
            loading_block("Loading the subscription from Microsoft…"),
            rx.cond(S.load_error != "", error_callout(S.load_error), rx.cond(S.sub.contains("id"), edit_form())),
        ),
        description="Update the Quantity and choose when the change takes effect, then select Submit.",
    )


PAGES = [
    Page("/my-services/edit", "Subscription Edit", subscription_edit_page, on_load=[PortalState.guard, S.load]),
]
