"""My Approval Requests: a Subscription Manager's own held quantity increases; withdraw while pending."""

import reflex as rx

from opkalla_portal.components.layout import empty_state, portal_page
from opkalla_portal.components.page import Page
from opkalla_portal.components.services_ui import loading_block, services_links
from opkalla_portal.pages.approvals import requests_table, status_badge, subscription_cell
from opkalla_portal.state.approval_requests import MyApprovalRequestsState as S
from opkalla_portal.state.base import PortalState


def withdraw_button(row) -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.trigger(
            rx.button(
                "Withdraw", size="1", variant="soft", color_scheme="red", aria_label="Withdraw request #" + row["id"]
            )
        ),
        rx.alert_dialog.content(
            rx.alert_dialog.title("Withdraw this request?"),
            rx.alert_dialog.description(
                "Your request to change ",
                row["subscription"],
                " (",
                row["quantity"],
                ") will no longer wait for approval. Nothing changes at Microsoft.",
                size="2",
            ),
            rx.flex(
                rx.alert_dialog.cancel(rx.button("Keep request", variant="soft", color_scheme="gray")),
                rx.alert_dialog.action(
                    rx.button("Withdraw request", color_scheme="red", on_click=S.withdraw(row["id"]))
                ),
                spacing="3",
                justify="end",
                margin_top="1rem",
            ),
        ),
    )


def request_row(row) -> rx.Component:
    return rx.table.row(
        subscription_cell(row),
        rx.table.cell(row["quantity"], white_space="nowrap"),
        rx.table.cell(row["when"]),
        rx.table.cell(row["added"]),
        rx.table.cell(
            rx.vstack(
                status_badge(row),
                rx.cond(row["decided_by"] != "", rx.text(row["decided_by"], size="1", color_scheme="gray")),
                rx.cond(row["detail"] != "", rx.text(row["detail"], size="1")),
                spacing="1",
                max_width="24rem",
            )
        ),
        rx.table.cell(rx.cond(row["status_key"] == "pending", withdraw_button(row))),
    )


def approval_requests_page() -> rx.Component:
    return portal_page(
        "My Approval Requests",
        rx.cond(
            S.loading,
            loading_block("Loading your requests…"),
            rx.cond(
                S.rows.length() == 0,
                empty_state(
                    "stamp",
                    "No approval requests",
                    "When a quantity increase costs more than your organization's approval threshold, it waits "
                    "here for an Administrator or Finance Manager.",
                ),
                requests_table(
                    ("Subscription", "Quantity", "Change Effective", "Added monthly cost", "Status", "Actions"),
                    S.rows,
                    request_row,
                ),
            ),
        ),
        description="Your quantity increases that need approval, and their outcome.",
        actions=services_links("/my-services/approval-requests"),
    )


PAGES = [
    Page(
        "/my-services/approval-requests",
        "My Approval Requests",
        approval_requests_page,
        on_load=[PortalState.guard, S.load],
    ),
]
