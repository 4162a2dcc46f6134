"""Profile page (the drop-down beside your name → Profile): your own details and how to contact you."""

import reflex as rx

from opkalla_portal.components.forms import field_error, text_field
from opkalla_portal.components.layout import portal_page
from opkalla_portal.components.page import Page
from opkalla_portal.services.profile import CONTACT_METHODS
from opkalla_portal.state.base import PortalState
from opkalla_portal.state.notifications import NotificationsState
from opkalla_portal.state.profile import ProfileState

FORM = "profile"


def _field(label: str, name: str, **kwargs) -> rx.Component:
    return text_field(label, name, ProfileState.values[name], ProfileState.errors[name], form=FORM, **kwargs)


def contact_method() -> rx.Component:
    return rx.box(
        rx.text(
            "Preferred contact method",
            id=f"{FORM}-contact-label",
            size="2",
            weight="medium",
            as_="div",
            margin_bottom="0.5rem",
        ),
        rx.radio_group.root(
            rx.flex(
                *[
                    rx.flex(
                        rx.radio_group.item(value=value, id=f"{FORM}-contact-{value}"),
                        rx.el.label(
                            label,
                            html_for=f"{FORM}-contact-{value}",
                            style={"fontSize": "var(--font-size-2)", "cursor": "pointer"},
                        ),
                        spacing="2",
                        align="center",
                    )
                    for value, label in CONTACT_METHODS.items()
                ],
                spacing="4",
                wrap="wrap",
            ),
            name="contact_method",
            default_value=ProfileState.values["contact_method"],
            aria_labelledby=f"{FORM}-contact-label",
            aria_describedby=f"{FORM}-contact_method-error",
        ),
        field_error(ProfileState.errors["contact_method"], f"{FORM}-contact_method"),
    )


def profile_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.grid(
                _field("First Name", "first_name", required=True, max_length=100, autocomplete="given-name"),
                _field("Last Name", "last_name", required=True, max_length=100, autocomplete="family-name"),
                _field("Email", "email", input_type="email", required=True, max_length=255, autocomplete="email"),
                _field(
                    "Business Phone",
                    "business_phone",
                    input_type="tel",
                    max_length=40,
                    autocomplete="tel",
                    hint="For example +1 (612) 555-0100",
                ),
                _field("Organization Name", "organization_name", max_length=200, autocomplete="organization"),
                _field("Title", "title", max_length=100, autocomplete="organization-title"),
                columns=rx.breakpoints(initial="1", md="2"),
                spacing="4",
                width="100%",
            ),
            contact_method(),
            rx.button(rx.icon("save", size=16), "Update", type="submit", size="3"),
            spacing="4",
            width="100%",
        ),
        on_submit=ProfileState.save,
        no_validate=True,
        key=ProfileState.revision.to_string(),
        aria_label="Profile",
        width="100%",
    )


def notification_switch(item) -> rx.Component:
    switch_id = "notify-" + item["kind"]
    return rx.hstack(
        rx.switch(
            id=switch_id,
            checked=NotificationsState.enabled[item["kind"]],
            on_change=lambda on: NotificationsState.toggle(item["kind"], on),
            aria_describedby=switch_id + "-description",
        ),
        rx.vstack(
            rx.el.label(
                item["label"],
                html_for=switch_id,
                style={"fontSize": "var(--font-size-2)", "fontWeight": "500", "cursor": "pointer"},
            ),
            rx.text(item["description"], id=switch_id + "-description", size="1", color_scheme="gray"),
            spacing="0",
        ),
        align="start",
        spacing="3",
    )


def notifications_card() -> rx.Component:
    """Which portal emails you get; each switch is saved as soon as you change it."""
    return rx.card(
        rx.vstack(
            rx.heading("Email notifications", size="4", as_="h2"),
            rx.text(
                "Choose which emails the portal sends you. Changes are saved right away.", size="2", color_scheme="gray"
            ),
            rx.foreach(NotificationsState.kinds, notification_switch),
            spacing="3",
            width="100%",
        ),
        width="100%",
        max_width="48rem",
        size="3",
    )


def profile_page() -> rx.Component:
    return portal_page(
        "Profile",
        rx.card(
            rx.cond(
                ProfileState.loaded,
                profile_form(),
                rx.center(
                    rx.spinner(size="3"),
                    rx.text("Loading your profile…", color_scheme="gray"),
                    spacing="3",
                    padding="2rem",
                ),
            ),
            width="100%",
            max_width="48rem",
            size="3",
        ),
        notifications_card(),
        description="Your user profile. This is different from your company profile (My Company).",
    )


PAGES = [
    Page("/profile", "Profile", profile_page, on_load=[PortalState.guard, ProfileState.load, NotificationsState.load]),
]
