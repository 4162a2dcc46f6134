"""Sign-in page (signed-out visitors land here), the no-access page and the no-permission page."""

import reflex as rx

from opkalla_portal.components.forms import server_link_button
from opkalla_portal.components.layout import bare_page
from opkalla_portal.components.page import Page
from opkalla_portal.services.sign_in import PROBLEMS
from opkalla_portal.state.base import PortalState
from opkalla_portal.state.sign_in import SignInState


def support_line() -> rx.Component:
    return rx.text(
        "Need help? Email ",
        rx.link("support@opkalla.com", href="mailto:support@opkalla.com"),
        ".",
        size="2",
        color_scheme="gray",
    )


def sign_in_button(href) -> rx.Component:
    # /auth/sign-in is a server route that sends the browser to Microsoft.
    return server_link_button("Sign In", href, "log-in", size="3", width="100%")


def sign_in_page() -> rx.Component:
    return bare_page(
        rx.heading("Sign in to the Customer Portal", size="6", as_="h1"),
        rx.text("Select Sign In and use your Microsoft 365 work account (Single Sign-On).", color_scheme="gray"),
        sign_in_button(SignInState.sign_in_href),
        rx.text(
            "New to the portal? Register with the Invitation Link you received. To request an invitation, email ",
            rx.link("support@opkalla.com", href="mailto:support@opkalla.com"),
            ".",
            size="2",
            color_scheme="gray",
        ),
    )


def _problem_part(index: int, default: str):
    reason = PortalState.router.url.query_parameters.get("reason", "")
    return rx.match(reason, *[(key, texts[index]) for key, texts in PROBLEMS.items()], default)


def no_access_page() -> rx.Component:
    return bare_page(
        rx.heading(_problem_part(0, PROBLEMS["no_account"][0]), size="6", as_="h1"),
        rx.text(_problem_part(1, PROBLEMS["no_account"][1]), color_scheme="gray"),
        sign_in_button("/auth/sign-in"),
        support_line(),
    )


def not_allowed_page() -> rx.Component:
    return bare_page(
        rx.heading("You don't have access to this page", size="6", as_="h1"),
        rx.text(
            "Your web role does not include this page. Ask your portal administrator, or email ",
            rx.link("support@opkalla.com", href="mailto:support@opkalla.com"),
            ".",
            color_scheme="gray",
        ),
        rx.link(rx.button("Go to Home", variant="soft"), href="/"),
    )


PAGES = [
    Page("/sign-in", "Sign In", sign_in_page, on_load=SignInState.load),
    Page("/no-access", "No access", no_access_page, on_load=PortalState.load_identity),
    Page("/not-allowed", "No access", not_allowed_page, on_load=PortalState.load_identity),
]
