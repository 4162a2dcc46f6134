"""My Company: the company profile (phone number, website, email address and address)."""

import reflex as rx

from opkalla_portal.components.forms import text_field
from opkalla_portal.components.layout import portal_page
from opkalla_portal.components.page import Page
from opkalla_portal.state.base import PortalState
from opkalla_portal.state.my_company import CompanyState

FORM = "company"


def _field(label: str, name: str, **kwargs) -> rx.Component:
    return text_field(label, name, CompanyState.values[name], CompanyState.errors[name], form=FORM, **kwargs)


def company_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.heading(CompanyState.company_name, size="5", as_="h2"),
            rx.grid(
                _field(
                    "Phone Number",
                    "phone",
                    input_type="tel",
                    required=True,
                    max_length=40,
                    autocomplete="tel",
                    hint="For example +1 (612) 555-0100",
                ),
                _field(
                    "Website",
                    "website",
                    input_type="url",
                    max_length=255,
                    autocomplete="url",
                    hint="For example https://www.example.com",
                ),
                _field(
                    "Email Address", "email", input_type="email", required=True, max_length=255, autocomplete="email"
                ),
                columns=rx.breakpoints(initial="1", md="2"),
                spacing="4",
                width="100%",
            ),
            rx.heading("Address", size="3", as_="h3"),
            rx.grid(
                _field("Address", "address_line1", required=True, max_length=200, autocomplete="address-line1"),
                _field("Address line 2", "address_line2", max_length=200, autocomplete="address-line2"),
                _field("City", "city", required=True, max_length=100, autocomplete="address-level2"),
                _field("State / Province", "state", max_length=100, autocomplete="address-level1"),
                _field("Postal Code", "postal_code", required=True, max_length=20, autocomplete="postal-code"),
                _field(
                    "Country",
                    "country",
                    required=True,
                    max_length=2,
                    autocomplete="country",
                    hint="Two-letter code, like US",
                ),
                columns=rx.breakpoints(initial="1", md="2"),
                spacing="4",
                width="100%",
            ),
            rx.button(rx.icon("send", size=16), "Submit", type="submit", size="3"),
            spacing="4",
            width="100%",
        ),
        on_submit=CompanyState.save,
        no_validate=True,
        key=CompanyState.revision.to_string(),
        aria_label="Company profile",
        width="100%",
    )


def my_company_page() -> rx.Component:
    return portal_page(
        "My Company",
        rx.callout(
            "This is your company profile. Your own name, email and phone are on your user profile: select the "
            "drop-down beside your name in the top right-hand corner, then Profile.",
            icon="info",
            width="100%",
            max_width="48rem",
        ),
        rx.card(
            rx.cond(
                CompanyState.loaded,
                company_form(),
                rx.center(
                    rx.spinner(size="3"),
                    rx.text("Loading the company profile…", color_scheme="gray"),
                    spacing="3",
                    padding="2rem",
                ),
            ),
            width="100%",
            max_width="48rem",
            size="3",
        ),
        description="Your company profile. This is different from your user profile.",
    )


PAGES = [
    Page("/my-company", "My Company", my_company_page, on_load=[PortalState.guard, CompanyState.load]),
]
