"""Billing Runs: the provider's monthly billing runs, their totals, exceptions and tie-out."""

import reflex as rx

from opkalla_portal.components.layout import empty_state, portal_page
from opkalla_portal.components.page import Page
from opkalla_portal.state.base import PortalState
from opkalla_portal.state.billing_runs import BillingRunsState, CustomerRow, ExceptionRow, RunRow


def _header(*labels: str) -> rx.Component:
    return rx.table.header(rx.table.row(*[rx.table.column_header_cell(label) for label in labels]))


def run_row(run: RunRow) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(run["period"]),
        rx.table.cell(rx.badge(run["state"], variant="soft", high_contrast=True)),
        rx.table.cell(run["microsoft_total"]),
        rx.table.cell(run["cost"]),
        rx.table.cell(run["sell"]),
        rx.table.cell(run["margin"]),
        rx.table.cell(run["tie_out"]),
        rx.table.cell(run["open_exceptions"]),
        rx.table.cell(
            rx.button(
                "Open",
                size="1",
                variant="soft",
                aria_label="Open " + run["period"],
                on_click=BillingRunsState.open_run(run["id"]),
            )
        ),
    )


def customer_row(row: CustomerRow) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(row["customer"]),
        rx.table.cell(row["invoice"]),
        rx.table.cell(row["contract"]),
        rx.table.cell(row["cost"]),
        rx.table.cell(row["sell"]),
        rx.table.cell(row["margin"]),
    )


def exception_row(row: ExceptionRow) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(row["kind"]),
        rx.table.cell(row["description"]),
        rx.table.cell(row["lines"]),
        rx.table.cell(row["cost"]),
        rx.table.cell(
            rx.cond(
                row["excluded"],
                rx.button(
                    "Include Again", size="1", variant="soft", on_click=BillingRunsState.set_excluded(row["id"], False)
                ),
                rx.button(
                    "Exclude",
                    size="1",
                    variant="soft",
                    color_scheme="red",
                    on_click=BillingRunsState.set_excluded(row["id"], True),
                ),
            )
        ),
    )


def selected_run() -> rx.Component:
    return rx.vstack(
        rx.flex(
            rx.heading(BillingRunsState.selected_period, size="4", as_="h2"),
            rx.badge(BillingRunsState.selected_state, variant="soft", high_contrast=True),
            rx.badge(
                BillingRunsState.selected_tie_out,
                variant="soft",
                high_contrast=True,
                color_scheme=rx.cond(BillingRunsState.selected_ties_out, "green", "red"),
            ),
            spacing="3",
            align="center",
            wrap="wrap",
        ),
        rx.cond(
            BillingRunsState.selected_state == "Draft",
            rx.flex(
                rx.button(
                    rx.icon("send", size=16),
                    "Issue Invoices",
                    disabled=~BillingRunsState.selected_can_issue,
                    on_click=BillingRunsState.issue_run,
                ),
                rx.cond(
                    BillingRunsState.selected_open_exceptions > 0,
                    rx.text("Resolve or exclude every exception before issuing.", size="2"),
                    rx.fragment(),
                ),
                spacing="3",
                align="center",
                wrap="wrap",
            ),
            rx.fragment(),
        ),
        rx.heading("Totals per Customer", size="3", as_="h3"),
        rx.table.root(
            _header("Customer", "Invoice", "Billing Contract", "Microsoft Cost", "Sell Price", "Margin"),
            rx.table.body(rx.foreach(BillingRunsState.customers, customer_row)),
            variant="surface",
            width="100%",
        ),
        rx.heading("Exceptions", size="3", as_="h3"),
        rx.cond(
            BillingRunsState.exceptions.length() > 0,
            rx.table.root(
                _header("Exception", "Detail", "Lines", "Microsoft Cost", "Action"),
                rx.table.body(rx.foreach(BillingRunsState.exceptions, exception_row)),
                variant="surface",
                width="100%",
            ),
            rx.text("No exceptions: every line was billed.", size="2"),
        ),
        spacing="3",
        width="100%",
    )


def billing_runs_page() -> rx.Component:
    return portal_page(
        "Billing Runs",
        rx.cond(
            BillingRunsState.runs.length() > 0,
            rx.vstack(
                rx.box(
                    rx.table.root(
                        _header(
                            "Period",
                            "State",
                            "Microsoft Billed",
                            "Invoiced at Cost",
                            "Sell Price",
                            "Margin",
                            "Tie-out",
                            "Open Exceptions",
                            "",
                        ),
                        rx.table.body(rx.foreach(BillingRunsState.runs, run_row)),
                        variant="surface",
                        width="100%",
                    ),
                    overflow_x="auto",
                    width="100%",
                ),
                rx.cond(BillingRunsState.selected_id > 0, selected_run(), rx.fragment()),
                spacing="5",
                width="100%",
            ),
            rx.cond(
                BillingRunsState.loaded,
                empty_state(
                    "calculator", "No billing runs yet", "A run starts after Microsoft closes a billing period."
                ),
                rx.center(rx.spinner(size="3"), padding="2rem", width="100%"),
            ),
        ),
        description="Each month's invoices to your customers, from Microsoft's billed reconciliation: "
        "Microsoft's cost, your sell price, the margin, and the lines that could not be billed.",
    )


PAGES = [
    Page("/billing-runs", "Billing Runs", billing_runs_page, on_load=[PortalState.guard, BillingRunsState.load]),
]
