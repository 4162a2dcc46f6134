"""Approvals: the approval threshold, quantity increases waiting for a decision, recent decisions."""

import reflex as rx

from opkalla_portal.components.forms import field_error, field_label
from opkalla_portal.components.layout import empty_state, portal_page
from opkalla_portal.components.page import Page
from opkalla_portal.components.services_ui import loading_block
from opkalla_portal.state.approvals import ApprovalsState as S
from opkalla_portal.state.base import PortalState


def status_badge(row) -> rx.Component:
    return rx.badge(
        row["status"],
        variant="soft",
        high_contrast=True,
        color_scheme=rx.match(
            row["status_key"],
            ("pending", "amber"),
            ("approving", "blue"),
            ("applied", "green"),
            ("failed", "red"),
            ("denied", "red"),
            "gray",
        ),
    )


def requests_table(headers: tuple[str, ...], rows, render) -> rx.Component:
    """A scrollable table of request rows (shared by Approvals and My Approval Requests)."""
    return rx.box(
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h, white_space="nowrap") for h in headers])),
            rx.table.body(rx.foreach(rows, render)),
            variant="surface",
            size="2",
            width="100%",
        ),
        overflow_x="auto",
        width="100%",
    )


def subscription_cell(row) -> rx.Component:
    # Focusable, so keyboard users can scroll a table wider than a phone (tables without buttons).
    return rx.table.row_header_cell(
        rx.vstack(
            rx.text(row["subscription"], weight="medium", tab_index=0),
            rx.text("Request #", row["id"], " · ", row["created"], " UTC", size="1", color_scheme="gray"),
            spacing="0",
        )
    )


def policy_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Approval settings", size="4", as_="h2"),
            rx.text(S.policy_summary, size="2", color_scheme="gray"),
            rx.cond(
                S.can_set_policy,
                rx.vstack(
                    rx.el.label(
                        rx.hstack(
                            rx.switch(checked=S.approvals_on, on_change=S.set_approvals_on, id="approvals-on"),
                            rx.text("Require approval for quantity increases", size="2"),
                            align="center",
                            spacing="2",
                        ),
                        html_for="approvals-on",
                    ),
                    rx.cond(
                        S.approvals_on,
                        rx.vstack(
                            field_label("Monthly cost threshold (USD)", "threshold"),
                            rx.input(
                                id="threshold",
                                value=S.threshold,
                                on_change=S.set_threshold,
                                input_mode="decimal",
                                placeholder="100.00",
                                width="12rem",
                                auto_complete="off",
                                aria_invalid=rx.cond(S.threshold_error != "", "true", "false"),
                                aria_describedby="threshold-hint threshold-error",
                            ),
                            rx.text(
                                "A Subscription Manager's increase that adds more than this per month (added seats × "
                                "unit price) waits for an Administrator or Finance Manager.",
                                id="threshold-hint",
                                size="1",
                                color_scheme="gray",
                            ),
                            field_error(S.threshold_error, "threshold"),
                            spacing="1",
                            align="start",
                        ),
                    ),
                    rx.button(
                        rx.icon("save", size=16), "Save settings", on_click=S.save_policy, loading=S.saving_policy
                    ),
                    spacing="3",
                    align="start",
                ),
            ),
            spacing="2",
            width="100%",
        ),
        width="100%",
        max_width="48rem",
    )


def pending_row(row) -> rx.Component:
    return rx.table.row(
        subscription_cell(row),
        rx.table.cell(row["requester"]),
        rx.table.cell(row["quantity"], white_space="nowrap"),
        rx.table.cell(row["when"]),
        rx.table.cell(
            rx.vstack(
                rx.text(row["added"], weight="medium"),
                rx.text("threshold ", row["threshold"], size="1", color_scheme="gray"),
                spacing="0",
            )
        ),
        rx.table.cell(
            rx.cond(
                row["status_key"] == "pending",
                rx.hstack(
                    rx.button(
                        "Approve",
                        on_click=S.open_decision(row["id"], "approve"),
                        size="1",
                        aria_label="Approve request #" + row["id"] + " for " + row["subscription"],
                    ),
                    rx.button(
                        "Deny",
                        on_click=S.open_decision(row["id"], "deny"),
                        size="1",
                        variant="soft",
                        color_scheme="red",
                        aria_label="Deny request #" + row["id"] + " for " + row["subscription"],
                    ),
                    spacing="2",
                ),
                status_badge(row),
            )
        ),
    )


def decided_row(row) -> rx.Component:
    return rx.table.row(
        subscription_cell(row),
        rx.table.cell(row["requester"]),
        rx.table.cell(row["quantity"], white_space="nowrap"),
        rx.table.cell(row["added"]),
        rx.table.cell(
            rx.vstack(
                status_badge(row),
                rx.text(row["decided_by"], " · ", row["decided"], size="1", color_scheme="gray"),
                rx.cond(row["detail"] != "", rx.text(row["detail"], size="1")),
                spacing="1",
                max_width="24rem",
            )
        ),
    )


def decision_dialog() -> rx.Component:
    approving = S.decision_action == "approve"
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title(rx.cond(approving, "Approve this request?", "Deny this request?")),
            rx.alert_dialog.description(
                S.decision_request["requester"],
                " asked to change ",
                S.decision_request["subscription"],
                " from ",
                S.decision_request["quantity"],
                " licenses (",
                S.decision_request["when"],
                "), adding ",
                S.decision_request["added"],
                " per month. ",
                rx.cond(
                    approving,
                    "It is checked again and sent to Microsoft now.",
                    "Nothing changes at Microsoft; the requester is told your reason.",
                ),
                size="2",
            ),
            rx.cond(
                ~approving,
                rx.vstack(
                    field_label("Reason", "deny-reason"),
                    rx.text_area(
                        id="deny-reason",
                        value=S.reason,
                        on_change=S.set_reason,
                        rows="3",
                        width="100%",
                        max_length=500,
                        aria_describedby="deny-reason-error",
                        aria_invalid=rx.cond(S.reason_error != "", "true", "false"),
                    ),
                    field_error(S.reason_error, "deny-reason"),
                    spacing="1",
                    margin_top="1rem",
                    width="100%",
                ),
            ),
            rx.flex(
                rx.alert_dialog.cancel(
                    rx.button("Keep waiting", variant="soft", color_scheme="gray", disabled=S.deciding)
                ),
                rx.button(
                    rx.cond(approving, "Approve and apply", "Deny request"),
                    on_click=S.confirm_decision,
                    loading=S.deciding,
                    disabled=S.deciding,
                    color_scheme=rx.cond(approving, "indigo", "red"),
                ),
                spacing="3",
                justify="end",
                margin_top="1rem",
            ),
        ),
        open=S.decision_action != "",
        on_open_change=S.close_decision,
    )


def approvals_body() -> rx.Component:
    return rx.vstack(
        policy_card(),
        rx.heading("Waiting for approval", size="4", as_="h2", margin_top="0.5rem"),
        rx.cond(
            S.pending.length() == 0,
            empty_state(
                "stamp",
                "No requests are waiting",
                "Quantity increases above your approval threshold appear here for you to approve or deny.",
            ),
            requests_table(
                ("Subscription", "Requested by", "Quantity", "Change Effective", "Added monthly cost", "Decision"),
                S.pending,
                pending_row,
            ),
        ),
        rx.heading("Recent decisions", size="4", as_="h2", margin_top="0.5rem"),
        rx.cond(
            S.decided.length() == 0,
            rx.text("No decisions yet.", size="2", color_scheme="gray"),
            requests_table(
                ("Subscription", "Requested by", "Quantity", "Added monthly cost", "Outcome"), S.decided, decided_row
            ),
        ),
        spacing="3",
        width="100%",
    )


def approvals_page() -> rx.Component:
    return portal_page(
        "Approvals",
        rx.cond(S.loading, loading_block("Loading approval requests…"), approvals_body()),
        decision_dialog(),
        description="Approve or deny quantity increases that cost more than your approval threshold.",
    )


PAGES = [
    Page("/approvals", "Approvals", approvals_page, on_load=[PortalState.guard, S.load]),
]
