"""Manage Users: Active and Inactive Portal Users, search, and Invite User."""

import reflex as rx

from opkalla_portal.components.forms import text_field
from opkalla_portal.components.layout import empty_state, portal_page
from opkalla_portal.components.page import Page
from opkalla_portal.state.base import PortalState
from opkalla_portal.state.manage_users import UserRow, UsersState

FORM = "invite"
VISUALLY_HIDDEN = {
    "position": "absolute",
    "width": "1px",
    "height": "1px",
    "overflow": "hidden",
    "clip": "rect(0 0 0 0)",
    "whiteSpace": "nowrap",
}


def status_badge(status) -> rx.Component:
    return rx.badge(
        status,
        color_scheme=rx.match(status, ("Active", "green"), ("Invitation sent", "amber"), "gray"),
        variant="soft",
        high_contrast=True,
    )


def user_row(user: UserRow) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(
            rx.link(user["name"], href="/manage-users/user?id=" + user["id"].to_string(), weight="medium"),
        ),
        rx.table.cell(rx.text(user["email"], size="2", style={"wordBreak": "break-all"})),
        rx.table.cell(rx.cond(user["role"] != "", user["role"], rx.text("No role", color_scheme="gray"))),
        rx.table.cell(status_badge(user["status"])),
    )


def users_table(title: str, rows, empty_title: str, empty_text: str, icon: str) -> rx.Component:
    heading_id = "heading-" + title.lower().replace(" ", "-")
    return rx.el.section(
        rx.vstack(
            rx.hstack(
                rx.heading(title, size="4", as_="h2", id=heading_id),
                rx.badge(rows.length().to_string(), variant="surface", color_scheme="gray"),
                align="center",
            ),
            rx.cond(
                rows.length() > 0,
                rx.box(
                    rx.table.root(
                        # A caption names the table for screen readers (the heading above shows it).
                        rx.el.caption(title, style=VISUALLY_HIDDEN),
                        rx.table.header(
                            rx.table.row(
                                rx.table.column_header_cell("Display Name"),
                                rx.table.column_header_cell("Office 365 Email ID"),
                                rx.table.column_header_cell("Web Role"),
                                rx.table.column_header_cell("Status"),
                            )
                        ),
                        rx.table.body(rx.foreach(rows, user_row)),
                        variant="surface",
                        width="100%",
                    ),
                    width="100%",
                    overflow_x="auto",
                ),
                empty_state(icon, empty_title, empty_text),
            ),
            spacing="3",
            width="100%",
        ),
        aria_labelledby=heading_id,
        style={"width": "100%"},
    )


def invite_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.trigger(rx.button(rx.icon("user-plus", size=16), "Invite User", size="3")),
        rx.dialog.content(
            rx.dialog.title("Invite User"),
            rx.dialog.description(
                "Create the user account. It appears under Inactive Portal Users; select the name there to assign "
                "a web role and send the invitation.",
                size="2",
                color_scheme="gray",
                margin_bottom="1rem",
            ),
            rx.form(
                rx.vstack(
                    text_field(
                        "First Name",
                        "first_name",
                        "",
                        UsersState.invite_errors["first_name"],
                        form=FORM,
                        required=True,
                        max_length=100,
                    ),
                    text_field(
                        "Last Name",
                        "last_name",
                        "",
                        UsersState.invite_errors["last_name"],
                        form=FORM,
                        required=True,
                        max_length=100,
                    ),
                    text_field(
                        "Office 365 Email ID",
                        "email",
                        "",
                        UsersState.invite_errors["email"],
                        form=FORM,
                        input_type="email",
                        required=True,
                        max_length=255,
                        hint="The person's Microsoft 365 sign-in address",
                    ),
                    rx.hstack(
                        rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray", type="button")),
                        rx.button("Submit", type="submit"),
                        justify="end",
                        width="100%",
                    ),
                    spacing="2",
                    width="100%",
                ),
                on_submit=UsersState.submit_invite,
                no_validate=True,
                aria_label="Invite User",
            ),
            max_width="30rem",
        ),
        open=UsersState.invite_open,
        on_open_change=UsersState.set_invite_open,
    )


def manage_users_page() -> rx.Component:
    return portal_page(
        "Manage Users",
        rx.flex(
            rx.box(
                rx.input(
                    rx.input.slot(rx.icon("search", size=16)),
                    placeholder="Search by name, email or role",
                    aria_label="Search users",
                    type="search",
                    default_value=UsersState.search,
                    on_change=UsersState.set_search.debounce(300),
                    size="3",
                    width="100%",
                ),
                flex="1",
                max_width="28rem",
            ),
            rx.cond(
                UsersState.outbox_link,
                rx.link(
                    rx.icon("mail", size=16),
                    rx.cond(UsersState.held_mail_viewer, "Outbox (demo)", "Outbox"),
                    href="/manage-users/outbox",
                    display="flex",
                    align_items="center",
                    gap="0.4rem",
                ),
                rx.fragment(),
            ),
            spacing="4",
            align="center",
            justify="between",
            wrap="wrap",
            width="100%",
        ),
        rx.cond(
            UsersState.loaded,
            rx.vstack(
                users_table(
                    "Active Portal Users",
                    UsersState.active_users,
                    "No active portal users",
                    "People appear here once they register with their Invitation Link.",
                    "user-check",
                ),
                users_table(
                    "Inactive Portal Users",
                    UsersState.inactive_users,
                    "No inactive portal users",
                    "Select Invite User to create an account for someone new.",
                    "user-x",
                ),
                spacing="6",
                width="100%",
            ),
            rx.center(
                rx.spinner(size="3"),
                rx.text("Loading users…", color_scheme="gray"),
                spacing="3",
                padding="2rem",
                width="100%",
            ),
        ),
        description="Invite users to the portal and manage Active and Inactive Portal Users.",
        actions=invite_dialog(),
    )


PAGES = [
    Page("/manage-users", "Manage Users", manage_users_page, on_load=[PortalState.guard, UsersState.load]),
]
