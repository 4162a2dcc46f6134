"""One invoice's breakdown (selected by its Invoice ID on My Invoices), with its downloads."""

import reflex as rx

from opkalla_portal.components.downloads import download_button
from opkalla_portal.components.invoices_ui import invoice_status_badge
from opkalla_portal.components.layout import empty_state, portal_page
from opkalla_portal.components.page import Page
from opkalla_portal.state.base import PortalState
from opkalla_portal.state.invoice_detail import InvoiceDetailState, LineRow

S = InvoiceDetailState


def fact(label: str, value) -> rx.Component:
    return rx.vstack(
        rx.text(label, size="1", color_scheme="gray", weight="medium"),
        rx.text(value, size="2", weight="medium"),
        spacing="1",
    )


def line_row(line: LineRow) -> rx.Component:
    right = {"text_align": "right", "white_space": "nowrap"}
    return rx.table.row(
        rx.table.row_header_cell(line["product"]),
        rx.table.cell(line["quantity"], **right),
        rx.table.cell(line["unit_price"], **right),
        rx.table.cell(line["service_period"], white_space="nowrap"),
        rx.table.cell(line["proration"], **right),
        rx.table.cell(line["amount"], **right),
        rx.table.cell(line["tax"], **right),
        rx.table.cell(line["total"], **right),
    )


def total_row(label: str, value, strong: bool = False) -> rx.Component:
    weight = "bold" if strong else "regular"
    return rx.hstack(
        rx.text(label, size="2", weight=weight),
        rx.spacer(),
        rx.text(
            value,
            size="3" if strong else "2",
            weight=weight,
            white_space="nowrap",
            data_testid=f"invoice-{label.lower().replace(' ', '-')}",
        ),
        width="100%",
    )


def totals() -> rx.Component:
    """Below the lines (not inside the table) so a phone shows them without scrolling sideways."""
    return rx.card(
        rx.vstack(
            total_row("Subtotal", S.subtotal),
            total_row("Tax", S.tax),
            rx.separator(size="4"),
            total_row("Total", S.total, strong=True),
            total_row("Paid", S.paid),
            total_row("Balance Due", S.balance, strong=True),
            spacing="2",
            width="100%",
        ),
        width="100%",
        max_width=["100%", "22rem"],
        margin_left="auto",
        aria_label="Invoice totals",
        role="group",
    )


def breakdown() -> rx.Component:
    right = {"text_align": "right"}
    return rx.box(
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    rx.table.column_header_cell("Product"),
                    rx.table.column_header_cell("Quantity", **right),
                    rx.table.column_header_cell("Unit Price", **right),
                    rx.table.column_header_cell("Service Period"),
                    rx.table.column_header_cell("Proration", **right),
                    rx.table.column_header_cell("Amount", **right),
                    rx.table.column_header_cell("Tax", **right),
                    rx.table.column_header_cell("Total", **right),
                ),
            ),
            rx.table.body(rx.foreach(S.lines, line_row)),
            variant="surface",
            size="2",
            width="100%",
            aria_label="Invoice breakdown",
        ),
        overflow_x="auto",
        width="100%",
    )


def summary_card() -> rx.Component:
    return rx.card(
        rx.grid(
            fact("Invoice ID", S.invoice_id),
            fact("Date", S.invoice_date),
            fact("Due Date", S.due_date),
            fact("Service Period", S.service_period),
            fact("Billing Contract", S.contract_name),  # one invoice per contract (issue 17)
            rx.vstack(
                rx.text("Status", size="1", color_scheme="gray", weight="medium"),
                invoice_status_badge(S.status),
                spacing="1",
            ),
            fact("Balance", S.balance),
            columns=rx.breakpoints(initial="2", sm="4"),  # seven facts: two rows of four, none squeezed
            gap="4",
            width="100%",
        ),
        width="100%",
    )


def actions() -> rx.Component:
    return rx.hstack(
        rx.cond(S.has_azure_usage, download_button("Download Usage", S.usage_url, "file-spreadsheet"), rx.fragment()),
        download_button("Download PDF", S.pdf_url, "file-down", variant="surface"),
        spacing="2",
        wrap="wrap",
    )


def invoice_page() -> rx.Component:
    return portal_page(
        "Invoice breakdown",
        rx.link(
            rx.hstack(rx.icon("arrow-left", size=16), rx.text("My Invoices"), align="center", spacing="1"),
            href="/my-invoices",
            size="2",
        ),
        rx.cond(
            ~S.loaded,
            rx.center(rx.spinner(size="3"), padding="3rem", width="100%", role="status", aria_label="Loading"),
            rx.cond(
                S.found,
                rx.vstack(
                    summary_card(),
                    rx.flex(
                        rx.heading("Microsoft 365 subscription costs", size="4", as_="h2"),
                        rx.spacer(),
                        actions(),
                        direction=rx.breakpoints(initial="column", sm="row"),
                        gap="3",
                        width="100%",
                        align=rx.breakpoints(initial="start", sm="center"),
                    ),
                    breakdown(),
                    totals(),
                    rx.text(
                        "Amounts are before tax; each line's tax is at the rate for your billing address. "
                        "Proration is the share of the service period billed.",
                        size="1",
                        color_scheme="gray",
                    ),
                    spacing="4",
                    width="100%",
                ),
                empty_state(
                    "file-question",
                    "Invoice not found",
                    "This invoice does not exist or belongs to another account.",
                    rx.button(rx.link("Back to My Invoices", href="/my-invoices", underline="none"), as_child=True),
                ),
            ),
        ),
        description="Each line of the invoice with its quantity, unit price, service period, proration and tax.",
    )


PAGES = [
    Page("/my-invoices/invoice", "Invoice", invoice_page, on_load=[PortalState.guard, InvoiceDetailState.load]),
]
