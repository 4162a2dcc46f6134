"""My Invoices: Open Invoices and Paid Invoices, searchable and sortable."""

import reflex as rx

from opkalla_portal.components.downloads import download_button
from opkalla_portal.components.invoices_ui import invoice_status_badge
from opkalla_portal.components.layout import empty_state, portal_page
from opkalla_portal.components.page import Page
from opkalla_portal.components.tabs import tab_select
from opkalla_portal.services.invoices import TABS
from opkalla_portal.state.base import PortalState
from opkalla_portal.state.my_invoices import InvoiceRow, InvoicesState

# Read by screen readers, not shown (the usual "visually hidden" recipe).
SR_ONLY = {
    "position": "absolute",
    "width": "1px",
    "height": "1px",
    "padding": "0",
    "margin": "-1px",
    "overflow": "hidden",
    "clip": "rect(0, 0, 0, 0)",
    "whiteSpace": "nowrap",
    "border": "0",
}


def sort_header(title: str, key: str, align: str = "left") -> rx.Component:
    active = InvoicesState.sort_key == key
    return rx.table.column_header_cell(
        rx.button(
            title,
            rx.cond(
                active,
                rx.cond(InvoicesState.descending, rx.icon("arrow-down", size=14), rx.icon("arrow-up", size=14)),
                rx.icon("arrow-up-down", size=14, opacity="0.45"),
            ),
            variant="ghost",
            color_scheme="gray",
            size="1",
            on_click=InvoicesState.sort_by(key),
            aria_label=f"Sort by {title}",
        ),
        aria_sort=rx.cond(active, rx.cond(InvoicesState.descending, "descending", "ascending"), "none"),
        text_align=align,
    )


def invoice_row(row: InvoiceRow) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(
            rx.link(
                row["invoice_id"],
                href=row["detail_url"],
                weight="medium",
                white_space="nowrap",
                aria_label="Invoice ID " + row["invoice_id"] + ": show the breakdown",
            ),
        ),
        rx.table.cell(row["invoice_date"], white_space="nowrap"),
        rx.table.cell(row["due_date"], white_space="nowrap"),
        rx.table.cell(row["total"], text_align="right", white_space="nowrap"),
        rx.table.cell(row["balance"], text_align="right", white_space="nowrap"),
        rx.table.cell(invoice_status_badge(row["status"])),
        rx.table.cell(
            rx.hstack(
                rx.cond(
                    row["has_azure_usage"],
                    download_button(
                        "Download Usage",
                        row["usage_url"],
                        "file-spreadsheet",
                        "Download Usage for " + row["invoice_id"],
                        variant="ghost",
                    ),
                    rx.fragment(),
                ),
                download_button("PDF", row["pdf_url"], "file-down", "PDF of " + row["invoice_id"], variant="ghost"),
                spacing="3",
                justify="end",
                wrap="wrap",
            ),
        ),
        align="center",
    )


def invoice_card(row: InvoiceRow) -> rx.Component:
    """The phone's version of a row: the same facts and actions, stacked."""
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.link(
                    row["invoice_id"],
                    href=row["detail_url"],
                    weight="bold",
                    aria_label="Invoice ID " + row["invoice_id"] + ": show the breakdown",
                ),
                rx.spacer(),
                invoice_status_badge(row["status"]),
                width="100%",
                align="center",
            ),
            rx.grid(
                rx.text("Date", size="1", color_scheme="gray"),
                rx.text(row["invoice_date"], size="2"),
                rx.text("Due Date", size="1", color_scheme="gray"),
                rx.text(row["due_date"], size="2"),
                rx.text("Amount", size="1", color_scheme="gray"),
                rx.text(row["total"], size="2"),
                rx.text("Balance", size="1", color_scheme="gray"),
                rx.text(row["balance"], size="2", weight="bold"),
                columns="2",
                gap_x="4",
                gap_y="1",
                align_items="center",
            ),
            rx.hstack(
                rx.cond(
                    row["has_azure_usage"],
                    download_button(
                        "Download Usage",
                        row["usage_url"],
                        "file-spreadsheet",
                        "Download Usage for " + row["invoice_id"],
                    ),
                    rx.fragment(),
                ),
                download_button("PDF", row["pdf_url"], "file-down", "PDF of " + row["invoice_id"]),
                spacing="2",
                wrap="wrap",
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def invoices_table() -> rx.Component:
    return rx.box(
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    sort_header("Invoice ID", "invoice_id"),
                    sort_header("Date", "invoice_date"),
                    sort_header("Due Date", "due_date"),
                    sort_header("Amount", "total", "right"),
                    sort_header("Balance", "balance", "right"),
                    sort_header("Status", "status"),
                    rx.table.column_header_cell(rx.el.span("Downloads", style=SR_ONLY)),
                ),
            ),
            rx.table.body(rx.foreach(InvoicesState.rows, invoice_row)),
            variant="surface",
            size="2",
            width="100%",
        ),
        overflow_x="auto",
        width="100%",
        display=["none", "block"],
    )


def invoice_cards() -> rx.Component:
    return rx.vstack(rx.foreach(InvoicesState.rows, invoice_card), spacing="3", width="100%", display=["flex", "none"])


def pager() -> rx.Component:
    S = InvoicesState
    return rx.cond(
        S.page_count > 1,
        rx.hstack(
            rx.text(
                "Page ",
                S.page + 1,
                " of ",
                S.page_count,
                " · ",
                S.match_count,
                " invoices",
                size="2",
                color_scheme="gray",
            ),
            rx.spacer(),
            rx.button("Previous", variant="soft", size="2", disabled=S.page == 0, on_click=S.go_to_page(S.page - 1)),
            rx.button(
                "Next", variant="soft", size="2", disabled=S.page + 1 >= S.page_count, on_click=S.go_to_page(S.page + 1)
            ),
            width="100%",
            align="center",
            spacing="2",
        ),
        rx.fragment(),
    )


def toolbar() -> rx.Component:
    return rx.flex(
        tab_select(InvoicesState.tab_label, InvoicesState.set_tab, list(TABS.values()), "Show"),
        rx.spacer(display=["none", "block"]),
        rx.input(
            rx.input.slot(rx.icon("search", size=16)),
            placeholder="Search Invoice ID, date or amount",
            value=InvoicesState.search,
            on_change=InvoicesState.set_search,
            aria_label="Search invoices",
            max_length=60,
            width=["100%", "20rem"],
            type="search",
        ),
        direction=rx.breakpoints(initial="column", sm="row"),
        gap="3",
        width="100%",
        align=rx.breakpoints(initial="stretch", sm="center"),
    )


def my_invoices_page() -> rx.Component:
    return portal_page(
        "My Invoices",
        toolbar(),
        rx.cond(
            ~InvoicesState.loaded,
            rx.center(
                rx.spinner(size="3"),
                rx.text("Loading invoices…", size="2", color_scheme="gray"),
                padding="3rem",
                gap="2",
                width="100%",
                role="status",
            ),
            rx.cond(
                InvoicesState.rows.length() > 0,
                rx.vstack(
                    invoices_table(),
                    invoice_cards(),
                    pager(),
                    rx.text(
                        "Select an Invoice ID to see the breakdown of its Microsoft 365 subscription costs; "
                        "select Download Usage for its Azure usage.",
                        size="1",
                        color_scheme="gray",
                    ),
                    width="100%",
                    spacing="2",
                ),
                rx.cond(
                    InvoicesState.search != "",
                    empty_state(
                        "search-x",
                        "No invoices match your search",
                        "Try another Invoice ID, date or amount, or clear the search.",
                    ),
                    empty_state(
                        "receipt",
                        rx.cond(InvoicesState.tab_label == TABS["open"], "No open invoices", "No paid invoices"),
                        "Invoices will appear here when they are issued.",
                    ),
                ),
            ),
        ),
        description="Open and paid invoices, with their breakdown and usage downloads.",
        actions=rx.button(
            rx.link(
                rx.icon("credit-card", size=16),
                "Payment Profiles",
                href="/my-invoices/payment-profiles",
                underline="none",
            ),
            as_child=True,
            variant="outline",
        ),
    )


PAGES = [
    Page("/my-invoices", "My Invoices", my_invoices_page, on_load=[PortalState.guard, InvoicesState.load]),
]
