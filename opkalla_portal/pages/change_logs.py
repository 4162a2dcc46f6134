"""Change Logs: the history of every subscription transaction."""

import reflex as rx

from opkalla_portal.components.forms import field_error, field_label, select_label
from opkalla_portal.components.layout import empty_state, portal_page
from opkalla_portal.components.page import Page
from opkalla_portal.components.services_ui import services_links
from opkalla_portal.state.base import PortalState
from opkalla_portal.state.change_logs import ALL
from opkalla_portal.state.change_logs import ChangeLogsState as S


def filters() -> rx.Component:
    return rx.flex(
        rx.vstack(
            select_label("Subscription", "log-subscription"),
            rx.select.root(
                rx.select.trigger(
                    id="log-subscription", aria_labelledby="log-subscription-label log-subscription", width="100%"
                ),
                rx.select.content(
                    rx.select.item("All subscriptions", value=ALL),
                    rx.foreach(S.subscriptions, lambda s: rx.select.item(s["name"], value=s["id"])),
                ),
                value=S.subscription_id,
                on_change=S.set_subscription,
            ),
            spacing="1",
            width=rx.breakpoints(initial="100%", sm="20rem"),
        ),
        rx.vstack(
            field_label("From", "log-from"),
            rx.input(id="log-from", type="date", value=S.date_from, on_change=S.set_date_from),
            spacing="1",
        ),
        rx.vstack(
            field_label("To", "log-to"),
            rx.input(
                id="log-to", type="date", value=S.date_to, on_change=S.set_date_to, aria_describedby="log-to-error"
            ),
            spacing="1",
        ),
        rx.button("Clear filters", on_click=S.clear_filters, variant="soft", color_scheme="gray"),
        rx.button(rx.icon("download", size=16), "Export to CSV", on_click=S.export_csv, variant="outline"),
        spacing="3",
        wrap="wrap",
        align="end",
        width="100%",
    )


def result_badge(result) -> rx.Component:
    return rx.badge(
        result,
        variant="soft",
        high_contrast=True,
        color_scheme=rx.match(
            result,
            ("Succeeded", "green"),
            ("Failed", "red"),
            ("Scheduled", "blue"),
            ("Awaiting approval", "amber"),
            ("Denied", "red"),
            "gray",
        ),
    )


def log_row(row) -> rx.Component:
    return rx.table.row(
        rx.table.cell(row["when"], white_space="nowrap"),
        rx.table.cell(row["who"]),
        rx.table.row_header_cell(
            rx.vstack(
                rx.text(row["subscription"], weight="medium"),
                rx.text(row["action"], size="1", color_scheme="gray"),
                spacing="0",
            )
        ),
        rx.table.cell(row["old"]),
        rx.table.cell(row["new"]),
        rx.table.cell(row["mode"]),
        rx.table.cell(row["effective"], white_space="nowrap"),
        rx.table.cell(
            rx.vstack(
                result_badge(row["result"]),
                rx.cond(row["message"] != "", rx.text(row["message"], size="1", color_scheme="gray")),
                spacing="1",
                max_width="22rem",
            )
        ),
    )


def log_table() -> rx.Component:
    headers = [
        "Date (UTC)",
        "User",
        "Subscription",
        "Old Quantity",
        "New Quantity",
        "Change Effective",
        "Effective Date",
        "Result",
    ]
    return rx.vstack(
        rx.box(
            rx.table.root(
                rx.table.header(rx.table.row(*[rx.table.column_header_cell(h, white_space="nowrap") for h in headers])),
                rx.table.body(rx.foreach(S.rows, log_row)),
                variant="surface",
                size="2",
                width="100%",
            ),
            overflow_x="auto",
            width="100%",
        ),
        rx.hstack(
            rx.text(S.total, " entries · ", S.page_label, size="2", color_scheme="gray"),
            rx.spacer(),
            rx.button("Previous", on_click=S.previous_page, disabled=S.page == 0, variant="soft", size="1"),
            rx.button("Next", on_click=S.next_page, disabled=~S.has_next, variant="soft", size="1"),
            width="100%",
            align="center",
        ),
        width="100%",
        spacing="2",
    )


def change_logs_page() -> rx.Component:
    return portal_page(
        "Change Logs",
        filters(),
        field_error(S.date_error, "log-to"),
        rx.cond(
            S.total == 0,
            empty_state(
                "history",
                "No changes to show",
                "Quantity changes, scheduled changes and purchases will be listed here.",
            ),
            log_table(),
        ),
        description="A history of all transactions on your subscriptions, newest first.",
        actions=services_links("/my-services/change-logs"),
    )


PAGES = [
    Page("/my-services/change-logs", "Change Logs", change_logs_page, on_load=[PortalState.guard, S.load]),
]
