"""User Edit (Manage Users → a display name): web role (Associate) and portal access."""

import reflex as rx

from opkalla_portal.components.layout import empty_state, portal_page
from opkalla_portal.components.page import Page
from opkalla_portal.services.access import ROLE_DESCRIPTIONS, WEB_ROLES
from opkalla_portal.state.base import PortalState
from opkalla_portal.state.user_edit import UserEditState


def back_link() -> rx.Component:
    return rx.link(
        rx.icon("arrow-left", size=16),
        "Back to Manage Users",
        href="/manage-users",
        display="flex",
        align_items="center",
        gap="0.4rem",
    )


def detail(label: str, value) -> rx.Component:
    return rx.data_list.item(rx.data_list.label(label), rx.data_list.value(value))


def details_card() -> rx.Component:
    return rx.card(
        rx.data_list.root(
            detail("Display Name", UserEditState.name),
            detail("Office 365 Email ID", rx.text(UserEditState.email, style={"wordBreak": "break-all"})),
            detail("Title", rx.cond(UserEditState.title != "", UserEditState.title, "—")),
            detail("Web Role", rx.cond(UserEditState.role != "", UserEditState.role, "No role")),
            detail(
                "Status",
                rx.badge(
                    UserEditState.status,
                    variant="soft",
                    high_contrast=True,
                    color_scheme=rx.match(
                        UserEditState.status, ("Active", "green"), ("Invitation sent", "amber"), "gray"
                    ),
                ),
            ),
            detail("Last sign-in", rx.cond(UserEditState.last_sign_in != "", UserEditState.last_sign_in, "Never")),
            orientation=rx.breakpoints(initial="vertical", sm="horizontal"),
        ),
        width="100%",
    )


def roles_section() -> rx.Component:
    return rx.card(
        rx.el.section(
            rx.vstack(
                rx.heading("Web Roles", size="4", as_="h2", id="web-roles-heading"),
                rx.text("Choose one role, then select Associate.", size="2", color_scheme="gray"),
                rx.radio_group.root(
                    rx.vstack(
                        *[
                            rx.flex(
                                rx.radio_group.item(value=role, id=f"role-{index}", margin_top="0.15rem"),
                                rx.el.label(
                                    rx.text(role, weight="medium", size="2", as_="div"),
                                    rx.text(ROLE_DESCRIPTIONS[role], size="2", color_scheme="gray", as_="div"),
                                    html_for=f"role-{index}",
                                    style={"cursor": "pointer"},
                                ),
                                spacing="3",
                                align="start",
                            )
                            for index, role in enumerate(WEB_ROLES)
                        ],
                        spacing="3",
                    ),
                    value=UserEditState.selected_role,
                    on_change=UserEditState.set_selected_role,
                    aria_labelledby="web-roles-heading",
                ),
                rx.button(
                    rx.icon("link", size=16),
                    "Associate",
                    on_click=UserEditState.associate,
                    disabled=(UserEditState.selected_role == "") | (UserEditState.selected_role == UserEditState.role),
                ),
                spacing="3",
            ),
            aria_labelledby="web-roles-heading",
        ),
        width="100%",
    )


def deactivate_button() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.trigger(
            rx.button(rx.icon("user-x", size=16), "Disable Portal Access", color_scheme="red", variant="soft")
        ),
        rx.alert_dialog.content(
            rx.alert_dialog.title("Disable portal access?"),
            rx.alert_dialog.description(
                rx.text(
                    UserEditState.name,
                    " will be signed out everywhere at once and can't sign in until you "
                    "enable portal access again. Unused invitation links stop working.",
                )
            ),
            rx.flex(
                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray")),
                rx.alert_dialog.action(
                    rx.button("Disable Portal Access", color_scheme="red", on_click=UserEditState.deactivate)
                ),
                spacing="3",
                justify="end",
                margin_top="1rem",
            ),
        ),
    )


def access_section() -> rx.Component:
    return rx.card(
        rx.el.section(
            rx.vstack(
                rx.heading("Portal Access", size="4", as_="h2", id="portal-access-heading"),
                rx.match(
                    UserEditState.status,
                    ("Active", rx.text("This user has registered and can sign in.", size="2")),
                    (
                        "Invitation sent",
                        rx.text(
                            "An invitation was emailed. The link works once, for 7 days. "
                            "Enable Portal Access again to send a new link (the old one stops "
                            "working).",
                            size="2",
                        ),
                    ),
                    rx.text(
                        "Associate a web role, then select Enable Portal Access to email the Invitation Link.", size="2"
                    ),
                ),
                rx.flex(
                    rx.cond(
                        UserEditState.status != "Active",
                        rx.button(
                            rx.icon("mail", size=16),
                            "Enable Portal Access",
                            on_click=UserEditState.enable_portal_access,
                            disabled=UserEditState.role == "",
                        ),
                        rx.fragment(),
                    ),
                    rx.cond(
                        (UserEditState.status != "Inactive") & ~UserEditState.is_self,
                        deactivate_button(),
                        rx.fragment(),
                    ),
                    rx.cond(
                        UserEditState.held_mail_viewer,
                        rx.link(
                            rx.icon("inbox", size=16),
                            "Open the outbox (demo)",
                            href="/manage-users/outbox",
                            display="flex",
                            align_items="center",
                            gap="0.4rem",
                        ),
                        rx.fragment(),
                    ),
                    spacing="3",
                    wrap="wrap",
                    align="center",
                ),
                spacing="3",
            ),
            aria_labelledby="portal-access-heading",
        ),
        width="100%",
    )


def user_edit_page() -> rx.Component:
    return portal_page(
        "User Edit",
        back_link(),
        rx.cond(
            UserEditState.not_found,
            empty_state(
                "user-x",
                "User not found",
                "This user doesn't exist in your organization. Go back to Manage Users and select a display name.",
            ),
            rx.cond(
                UserEditState.user_id > 0,
                rx.vstack(
                    details_card(), roles_section(), access_section(), spacing="4", width="100%", max_width="48rem"
                ),
                rx.center(rx.spinner(size="3"), padding="2rem", width="100%"),
            ),
        ),
        description="Assign a web role and manage this user's portal access.",
    )


PAGES = [
    Page("/manage-users/user", "User Edit", user_edit_page, on_load=[PortalState.guard, UserEditState.load]),
]
