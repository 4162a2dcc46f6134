"""The app shell: logo, user menu, the "Manage My Services" navigation, and page chrome."""

from __future__ import annotations

import reflex as rx

from opkalla_portal.state.base import MenuEntry, PortalState

SIDEBAR_WIDTH = "15rem"


def logo() -> rx.Component:
    return rx.link(
        rx.hstack(
            rx.image(src="/opkalla-mark.svg", alt="", height="28px", width="28px"),
            rx.text("opkalla", size="5", weight="bold", letter_spacing="0.02em"),
            rx.text("Customer Portal", size="2", color_scheme="gray", display=["none", "none", "block"]),
            align="center",
            spacing="2",
        ),
        href="/",
        underline="none",
    )


def user_menu() -> rx.Component:
    return rx.hstack(
        rx.avatar(fallback=PortalState.user_initials, size="2", radius="full", aria_hidden="true"),
        rx.menu.root(
            rx.menu.trigger(
                rx.button(
                    rx.text(PortalState.user_name, display=["none", "block"]),
                    rx.icon("chevron-down", size=16, aria_hidden="true"),
                    # The user's name is in it at every width (phones hide the visible name).
                    aria_label=rx.cond(
                        PortalState.user_name != "", PortalState.user_name + ", Account menu", "Account menu"
                    ),
                    variant="ghost",
                    color_scheme="gray",
                ),
            ),
            rx.menu.content(
                rx.box(
                    rx.text(PortalState.organization_name, size="1", color_scheme="gray"),
                    padding_x="0.5rem",
                    padding_y="0.25rem",
                ),
                rx.menu.item(rx.icon("user", size=14), "Profile", on_click=rx.redirect("/profile")),
                rx.cond(
                    PortalState.is_provider_admin,
                    rx.menu.item(
                        rx.icon("plug", size=14), "Partner Center connection", on_click=rx.redirect("/partner-center")
                    ),
                ),
                rx.menu.separator(),
                # A form POST (a full navigation): the server route checks it comes from our own
                # pages (Origin), revokes the session and clears the cookie.
                rx.menu.item(rx.icon("log-out", size=14), "Sign out", on_click=rx.call_script(SIGN_OUT_SCRIPT)),
                align="end",
            ),
        ),
        align="center",
        spacing="2",
    )


SIGN_OUT_SCRIPT = (
    "const form = document.createElement('form'); form.method = 'post'; "
    "form.action = '/auth/sign-out'; document.body.appendChild(form); form.submit();"
)


def nav_item(entry: MenuEntry) -> rx.Component:
    active = PortalState.current_route == entry["route"]
    return rx.link(
        rx.hstack(
            rx.icon(entry["icon"], size=18),
            rx.text(entry["label"], size="2", weight=rx.cond(active, "bold", "regular")),
            align="center",
            spacing="3",
            padding_x="0.75rem",
            padding_y="0.5rem",
            border_radius="var(--radius-3)",
            background=rx.cond(active, rx.color("accent", 4), "transparent"),
            color=rx.cond(active, rx.color("accent", 12), rx.color("gray", 12)),
            _hover={"background": rx.color("accent", 3)},
            width="100%",
        ),
        href=entry["route"],
        underline="none",
        aria_current=rx.cond(active, "page", "false"),
        width="100%",
    )


def navigation() -> rx.Component:
    return rx.el.nav(
        rx.vstack(
            rx.text(
                "Manage My Services",
                size="1",
                weight="bold",
                color_scheme="gray",
                text_transform="uppercase",
                padding_x="0.75rem",
                padding_top="0.5rem",
            ),
            rx.foreach(PortalState.menu, nav_item),
            spacing="1",
            width="100%",
        ),
        aria_label="Manage My Services",
        width="100%",
    )


def mobile_menu() -> rx.Component:
    return rx.drawer.root(
        rx.drawer.trigger(
            rx.icon_button(rx.icon("menu"), variant="ghost", color_scheme="gray", aria_label="Open menu"),
        ),
        rx.drawer.overlay(z_index="50"),
        rx.drawer.portal(
            rx.drawer.content(
                rx.vstack(
                    rx.hstack(
                        logo(),
                        rx.spacer(),
                        rx.drawer.close(
                            rx.icon_button(rx.icon("x"), variant="ghost", color_scheme="gray", aria_label="Close menu")
                        ),
                        width="100%",
                    ),
                    navigation(),
                    spacing="4",
                    padding="1rem",
                ),
                width="17rem",
                height="100%",
                background=rx.color("gray", 1),
                z_index="51",
            ),
        ),
        direction="left",
    )


def header() -> rx.Component:
    return rx.hstack(
        rx.box(mobile_menu(), display=["block", "block", "none"]),
        logo(),
        rx.spacer(),
        rx.color_mode.button(variant="ghost", color_scheme="gray", aria_label="Switch light or dark theme"),
        user_menu(),
        align="center",
        spacing="3",
        padding_x=["0.75rem", "1.25rem"],
        height="3.5rem",
        border_bottom=f"1px solid {rx.color('gray', 5)}",
        background=rx.color("gray", 1),
        position="sticky",
        top="0",
        z_index="10",
        width="100%",
        as_="header",
    )


def page_heading(title: str, description: str = "", actions: rx.Component | None = None) -> rx.Component:
    return rx.flex(
        rx.vstack(
            rx.heading(title, size="7", as_="h1"),
            rx.text(description, color_scheme="gray", size="2") if description else rx.fragment(),
            spacing="1",
        ),
        rx.spacer(),
        actions or rx.fragment(),
        direction=rx.breakpoints(initial="column", sm="row"),
        align=rx.breakpoints(initial="start", sm="end"),
        spacing="3",
        width="100%",
    )


def portal_page(
    title: str, *children: rx.Component, description: str = "", actions: rx.Component | None = None
) -> rx.Component:
    """A signed-in page: header, navigation and the page's heading above its content."""
    return rx.box(
        rx.el.a("Skip to content", href="#main", class_name="skip-link"),
        header(),
        rx.flex(
            rx.box(
                navigation(),
                display=["none", "none", "block"],
                width=SIDEBAR_WIDTH,
                min_width=SIDEBAR_WIDTH,
                padding="1rem 0.75rem",
                border_right=f"1px solid {rx.color('gray', 5)}",
                min_height="calc(100vh - 3.5rem)",
                background=rx.color("gray", 2),
                as_="aside",
            ),
            # A real <main> (rx.box's as_="main" still renders a div): the page's one main landmark.
            rx.el.main(
                rx.vstack(
                    partner_center_banner(),
                    page_heading(title, description, actions),
                    *children,
                    spacing="5",
                    width="100%",
                    max_width="80rem",
                ),
                id="main",
                padding=["1rem", "1.5rem", "2rem"],
                flex="1",
                min_width="0",
            ),
            width="100%",
        ),
        min_height="100vh",
        background=rx.color("gray", 1),
    )


def partner_center_banner() -> rx.Component:
    """Provider administrators only: the Partner Center connection is missing, broken or expiring."""
    return rx.cond(
        PortalState.partner_center_warning != "",
        rx.callout(
            rx.hstack(
                rx.text(PortalState.partner_center_warning),
                rx.link("Open Partner Center connection", href="/partner-center"),
                spacing="2",
                wrap="wrap",
            ),
            icon="triangle-alert",
            color_scheme="amber",
            role="alert",
            width="100%",
        ),
    )


def bare_page(*children: rx.Component) -> rx.Component:
    """A page without navigation (sign-in, errors), centred."""
    return rx.el.main(
        rx.center(
            rx.card(
                rx.vstack(logo(), *children, spacing="4", align="start", width="100%"),
                size="4",
                max_width="32rem",
                width="100%",
            ),
            min_height="100vh",
            padding="1rem",
            background=rx.color("gray", 2),
        ),
    )


def empty_state(icon: str, title: str, description: str, action: rx.Component | None = None) -> rx.Component:
    return rx.center(
        rx.vstack(
            rx.center(
                rx.icon(icon, size=28, color=rx.color("accent", 11)),
                width="56px",
                height="56px",
                border_radius="full",
                background=rx.color("accent", 3),
            ),
            rx.heading(title, size="4", as_="h2"),
            rx.text(description, color_scheme="gray", size="2", text_align="center", max_width="28rem"),
            action or rx.fragment(),
            align="center",
            spacing="3",
        ),
        padding="3rem 1rem",
        width="100%",
        border=f"1px dashed {rx.color('gray', 6)}",
        border_radius="var(--radius-4)",
    )
