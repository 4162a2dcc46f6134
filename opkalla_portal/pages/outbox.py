"""Demo mode's outbox: the emails the portal sent for this organization (invitations, …)."""

import reflex as rx

from opkalla_portal.components.forms import server_link_button
from opkalla_portal.components.layout import empty_state, portal_page
from opkalla_portal.components.page import Page
from opkalla_portal.state.base import PortalState
from opkalla_portal.state.outbox import FailedMailRow, OutboxRow, OutboxState


def mail_card(mail: OutboxRow) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.flex(
                rx.heading(mail["subject"], size="3", as_="h2"),
                rx.badge(mail["status"], variant="soft", color_scheme="gray", high_contrast=True),
                justify="between",
                spacing="3",
                wrap="wrap",
                width="100%",
            ),
            rx.text("To: ", mail["to"], " · ", mail["created"], size="2", color_scheme="gray"),
            rx.el.pre(
                mail["body"],
                style={
                    "whiteSpace": "pre-wrap",
                    "wordBreak": "break-word",
                    "fontFamily": "inherit",
                    "fontSize": "var(--font-size-2)",
                    "margin": 0,
                },
            ),
            rx.cond(
                mail["link"] != "",
                # The invitation route is served by the server, not by the page router.
                server_link_button("Open Invitation Link", mail["link"], "external-link", variant="soft"),
                rx.fragment(),
            ),
            spacing="2",
            width="100%",
        ),
        width="100%",
    )


def failed_card(mail: FailedMailRow) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.flex(
                rx.heading(mail["subject"], size="3", as_="h3"),
                rx.badge("Not delivered", variant="soft", color_scheme="red", high_contrast=True),
                justify="between",
                spacing="3",
                wrap="wrap",
                width="100%",
            ),
            rx.text(
                "To: ",
                mail["to"],
                " (",
                mail["organization"],
                ") · ",
                mail["created"],
                " · ",
                mail["attempts"],
                " attempts",
                size="2",
                color_scheme="gray",
            ),
            rx.text("Last error: ", mail["error"], size="2"),
            rx.button(
                rx.icon("refresh-cw", size=16),
                "Send Again",
                variant="soft",
                size="2",
                on_click=OutboxState.retry_delivery(mail["id"]),
            ),
            spacing="2",
            width="100%",
            align="start",
        ),
        width="100%",
    )


def failed_deliveries() -> rx.Component:
    """The provider's administrators: deliveries that failed after every retry, all organizations."""
    return rx.cond(
        OutboxState.sees_failed,
        rx.vstack(
            rx.heading("Failed Deliveries", size="4", as_="h2"),
            rx.cond(
                OutboxState.failed.length() > 0,
                rx.vstack(rx.foreach(OutboxState.failed, failed_card), spacing="3", width="100%"),
                rx.text("Every email was delivered.", size="2", color_scheme="gray"),
            ),
            spacing="3",
            width="100%",
            max_width="48rem",
        ),
        rx.fragment(),
    )


def outbox_page() -> rx.Component:
    return portal_page(
        "Outbox",
        rx.link(
            rx.icon("arrow-left", size=16),
            "Back to Manage Users",
            href="/manage-users",
            display="flex",
            align_items="center",
            gap="0.4rem",
        ),
        failed_deliveries(),
        rx.cond(
            ~OutboxState.held_mail_viewer & OutboxState.loaded,
            empty_state("mail", "The outbox is for demos", "Outside demo mode, emails go out by SMTP."),
            rx.cond(
                OutboxState.mails.length() > 0,
                rx.vstack(rx.foreach(OutboxState.mails, mail_card), spacing="3", width="100%", max_width="48rem"),
                rx.cond(
                    OutboxState.loaded,
                    empty_state("mail", "No emails yet", "Invitations you send with Enable Portal Access appear here."),
                    rx.center(rx.spinner(size="3"), padding="2rem", width="100%"),
                ),
            ),
        ),
        description="Demo mode: the emails the portal sent for your company. Sign in as the invited person by "
        "opening their Invitation Link.",
    )


PAGES = [
    Page("/manage-users/outbox", "Outbox", outbox_page, on_load=[PortalState.guard, OutboxState.load]),
]
