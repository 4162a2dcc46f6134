"""My Agreements: Accepted Agreements and Pending Agreements (the Microsoft Customer Agreement)."""

import reflex as rx

from opkalla_portal.components.layout import empty_state, portal_page
from opkalla_portal.components.page import Page
from opkalla_portal.components.tabs import tab_select
from opkalla_portal.services.agreements import TABS
from opkalla_portal.state.base import PortalState
from opkalla_portal.state.my_agreements import AgreementRow, AgreementsState

S = AgreementsState
AGREEMENT_URL = "https://www.microsoft.com/licensing/docs/customeragreement"


def agreement_row(row: AgreementRow) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(row["name"], font_weight="medium"),
        rx.table.cell(row["version"]),
        rx.table.cell(
            rx.badge(
                row["status"],
                color_scheme=rx.cond(row["status"] == "Accepted", "green", "amber"),
                variant="soft",
                high_contrast=True,
            )
        ),
        rx.table.cell(
            rx.vstack(
                rx.text(row["accepted_by"]),
                rx.text(row["accepted_by_email"], size="1", color_scheme="gray"),
                spacing="0",
            )
        ),
        rx.table.cell(row["accepted_on"], white_space="nowrap"),
        rx.table.cell(
            rx.cond(
                (row["status"] == "Pending") & S.can_accept,
                rx.button(
                    "Review and accept",
                    size="2",
                    on_click=S.open_agreement(row["id"]),
                    aria_label="Review and accept " + row["name"] + " version " + row["version"],
                ),
                rx.fragment(),
            ),
        ),
        align="center",
    )


def agreements_table() -> rx.Component:
    return rx.box(
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    rx.table.column_header_cell("Agreement"),
                    rx.table.column_header_cell("Version"),
                    rx.table.column_header_cell("Status"),
                    rx.table.column_header_cell("Accepted By"),
                    rx.table.column_header_cell("Accepted On"),
                    rx.table.column_header_cell(
                        rx.el.span(
                            "Actions",
                            style={
                                "position": "absolute",
                                "width": "1px",
                                "height": "1px",
                                "overflow": "hidden",
                                "clip": "rect(0,0,0,0)",
                            },
                        )
                    ),
                )
            ),
            rx.table.body(rx.foreach(S.rows, agreement_row)),
            variant="surface",
            width="100%",
        ),
        overflow_x="auto",
        width="100%",
    )


def accept_dialog() -> rx.Component:
    recorded = rx.data_list.root(
        rx.data_list.item(rx.data_list.label("Name"), rx.data_list.value(S.signer_name)),
        rx.data_list.item(rx.data_list.label("Email"), rx.data_list.value(S.signer_email)),
        rx.data_list.item(rx.data_list.label("Date"), rx.data_list.value(S.signer_date)),
        size="2",
    )
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(S.open_name, " (version ", S.open_version, ")"),
            rx.dialog.description(
                "Read the Microsoft Customer Agreement, then accept it on behalf of your company. Your acceptance "
                "is recorded with the details below and sent to Microsoft.",
                size="2",
            ),
            rx.vstack(
                rx.link(
                    rx.hstack(
                        rx.icon("external-link", size=14),
                        rx.text("Read the Microsoft Customer Agreement"),
                        align="center",
                        spacing="1",
                    ),
                    href=AGREEMENT_URL,
                    is_external=True,
                    size="2",
                ),
                recorded,
                rx.el.label(
                    rx.hstack(
                        rx.checkbox(checked=S.confirmed, on_change=S.set_confirmed),
                        rx.text("I have read the agreement and accept it on behalf of my company.", size="2"),
                        spacing="2",
                        align="start",
                    ),
                ),
                rx.cond(
                    S.error != "",
                    rx.callout(S.error, icon="triangle-alert", color_scheme="red", role="alert"),
                    rx.fragment(),
                ),
                rx.hstack(
                    rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray", disabled=S.accepting)),
                    rx.button("Accept", on_click=S.accept, loading=S.accepting),
                    justify="end",
                    spacing="3",
                    width="100%",
                ),
                spacing="4",
                margin_top="1rem",
                width="100%",
            ),
            max_width="32rem",
        ),
        open=S.open_id != 0,
        on_open_change=S.close_agreement,
    )


def my_agreements_page() -> rx.Component:
    return portal_page(
        "My Agreements",
        tab_select(S.tab_label, S.set_tab, list(TABS.values()), "Show"),
        rx.cond(
            ~S.loaded,
            rx.center(rx.spinner(size="3"), padding="3rem", width="100%", role="status", aria_label="Loading"),
            rx.cond(
                S.rows.length() > 0,
                rx.vstack(
                    agreements_table(),
                    rx.cond(
                        (S.tab_label == TABS["pending"]) & ~S.can_accept,
                        rx.callout(
                            "A Work365 Administrator of your company accepts pending agreements.",
                            icon="info",
                            size="1",
                            color_scheme="gray",
                        ),
                        rx.fragment(),
                    ),
                    spacing="3",
                    width="100%",
                ),
                rx.cond(
                    S.tab_label == TABS["pending"],
                    empty_state(
                        "circle-check", "No pending agreements", "There is nothing waiting for your acceptance."
                    ),
                    empty_state(
                        "signature",
                        "No accepted agreements",
                        "Once the Microsoft Customer Agreement is accepted it is listed here.",
                    ),
                ),
            ),
        ),
        accept_dialog(),
        description="Your Microsoft Customer Agreement, accepted and pending.",
    )


PAGES = [
    Page("/my-agreements", "My Agreements", my_agreements_page, on_load=[PortalState.guard, AgreementsState.load]),
]
