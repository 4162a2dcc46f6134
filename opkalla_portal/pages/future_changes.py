"""Future Changes: quantity changes scheduled for a later date, each cancellable or editable."""

import reflex as rx

from opkalla_portal.components.forms import field_error, field_label, live_input
from opkalla_portal.components.layout import empty_state, portal_page
from opkalla_portal.components.page import Page
from opkalla_portal.components.services_ui import services_links
from opkalla_portal.state.base import PortalState
from opkalla_portal.state.future_changes import FutureChangesState as S


def status_badge(status) -> rx.Component:
    return rx.badge(
        status,
        variant="soft",
        high_contrast=True,
        color_scheme=rx.match(status, ("Pending", "blue"), ("Failed", "red"), ("Retrying", "amber"), "gray"),
    )


def change_row(row) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(
            rx.vstack(
                rx.cond(
                    row["subscription_id"] != "",
                    rx.link(
                        row["subscription"], href="/my-services/edit?id=" + row["subscription_id"], weight="medium"
                    ),
                    rx.text(row["subscription"], weight="medium"),
                ),
                rx.text(row["kind"], size="1", color_scheme="gray"),
                spacing="0",
            )
        ),
        rx.table.cell(row["old"]),
        rx.table.cell(row["new"]),
        rx.table.cell(row["mode"]),
        rx.table.cell(row["due"], white_space="nowrap"),
        rx.table.cell(
            rx.vstack(
                status_badge(row["status"]),
                rx.cond(row["message"] != "", rx.text(row["message"], size="1", color_scheme="gray")),
                spacing="1",
                max_width="20rem",
            )
        ),
        rx.table.cell(
            rx.hstack(
                rx.cond(
                    row["can_edit"] == "1",
                    rx.button(
                        "Edit",
                        on_click=S.open_edit(row["id"]),
                        size="1",
                        variant="soft",
                        aria_label="Edit the change of " + row["subscription"],
                    ),
                ),
                rx.cond(
                    row["can_cancel"] == "1",
                    rx.button(
                        "Cancel",
                        on_click=S.ask_cancel(row["id"]),
                        size="1",
                        variant="soft",
                        color_scheme="red",
                        aria_label="Cancel the change of " + row["subscription"],
                    ),
                ),
                spacing="2",
            )
        ),
    )


def confirm_dialog() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title("Cancel this change?"),
            rx.alert_dialog.description(S.confirm_text),
            rx.flex(
                rx.alert_dialog.cancel(rx.button("Keep change", variant="soft", color_scheme="gray")),
                rx.button("Cancel change", color_scheme="red", on_click=S.confirm_cancel, loading=S.working),
                spacing="3",
                justify="end",
                margin_top="1rem",
            ),
        ),
        open=S.confirm_id != "",
        on_open_change=S.close_confirm,
    )


def edit_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Edit change"),
            rx.dialog.description(S.edit_title, size="2", color_scheme="gray"),
            rx.vstack(
                field_label("Quantity", "edit-quantity"),
                live_input(
                    id="edit-quantity",
                    value=S.edit_quantity,
                    on_change=S.set_edit_quantity,
                    input_mode="numeric",
                    aria_describedby="edit-quantity-error",
                    width="10rem",
                ),
                field_error(S.edit_errors["quantity"], "edit-quantity"),
                rx.cond(
                    S.edit_custom,
                    rx.vstack(
                        field_label("Effective Date", "edit-date"),
                        live_input(
                            id="edit-date",
                            type="date",
                            value=S.edit_date,
                            on_change=S.set_edit_date,
                            aria_describedby="edit-date-error",
                        ),
                        field_error(S.edit_errors["effective_date"], "edit-date"),
                        spacing="1",
                    ),
                ),
                field_error(S.edit_errors["form"], "edit-form"),
                rx.flex(
                    rx.dialog.close(rx.button("Close", variant="soft", color_scheme="gray")),
                    rx.button("Save", on_click=S.save_edit, loading=S.working),
                    spacing="3",
                    justify="end",
                    width="100%",
                ),
                spacing="2",
                margin_top="1rem",
            ),
        ),
        open=S.edit_id != "",
        on_open_change=S.close_edit,
    )


def future_changes_page() -> rx.Component:
    return portal_page(
        "Future Changes",
        rx.cond(
            S.rows.length() == 0,
            empty_state(
                "calendar-clock",
                "No upcoming changes",
                "Changes you schedule On Renewal or on a Custom date will be listed here until they apply.",
            ),
            rx.box(
                rx.table.root(
                    rx.table.header(
                        rx.table.row(
                            *[
                                rx.table.column_header_cell(h, white_space="nowrap")
                                for h in (
                                    "Subscription",
                                    "Old Quantity",
                                    "New Quantity",
                                    "Change Effective",
                                    "Due Date",
                                    "Status",
                                    "Actions",
                                )
                            ]
                        )
                    ),
                    rx.table.body(rx.foreach(S.rows, change_row)),
                    variant="surface",
                    size="2",
                    width="100%",
                ),
                overflow_x="auto",
                width="100%",
            ),
        ),
        confirm_dialog(),
        edit_dialog(),
        description="Upcoming changes to your subscriptions and their due dates.",
        actions=services_links("/my-services/future-changes"),
    )


PAGES = [
    Page("/my-services/future-changes", "Future Changes", future_changes_page, on_load=[PortalState.guard, S.load]),
]
