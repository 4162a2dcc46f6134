"""Partner Center connection (/partner-center): the provider administrators' page for the
delegated App+User connection Partner Center requires for the Microsoft Customer Agreement."""

import reflex as rx

from opkalla_portal.components.layout import portal_page
from opkalla_portal.components.page import Page
from opkalla_portal.state.base import PortalState
from opkalla_portal.state.partner_center import PartnerConnectionState

S = PartnerConnectionState


def fact(label: str, value) -> rx.Component:
    return rx.data_list.item(rx.data_list.label(label), rx.data_list.value(value))


def status_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading("Status", size="4", as_="h2"),
                rx.cond(
                    S.healthy,
                    rx.badge("Connected", color_scheme="green", high_contrast=True),
                    rx.cond(
                        S.needs_reconnecting,
                        rx.badge("Needs reconnecting", color_scheme="red", high_contrast=True),
                        rx.cond(
                            S.connected,
                            rx.badge("Not MFA-backed", color_scheme="amber", high_contrast=True),
                            rx.badge("Not connected", color_scheme="gray", high_contrast=True),
                        ),
                    ),
                ),
                align="center",
                spacing="3",
            ),
            rx.cond(
                S.connected,
                rx.data_list.root(
                    fact("Connected by", rx.text(S.connected_by, " (", S.connected_as, ")")),
                    fact("Connected on", S.connected_on),
                    fact("MFA-backed", rx.cond(S.mfa_backed, "Yes", "No")),
                    fact("Expires on", S.expires_on),
                    orientation=rx.breakpoints(initial="vertical", sm="horizontal"),
                ),
                rx.text(
                    "Partner Center is not connected. Until a provider administrator connects it, customers "
                    "cannot accept the Microsoft Customer Agreement in My Agreements.",
                    size="2",
                ),
            ),
            rx.cond(S.problem != "", rx.text(S.problem, size="2", color_scheme="red")),
            rx.hstack(
                rx.button(rx.cond(S.connected, "Reconnect", "Connect"), on_click=S.connect, loading=S.working),
                rx.cond(
                    S.connected, rx.button("Disconnect", variant="soft", color_scheme="red", on_click=S.ask_disconnect)
                ),
                spacing="3",
            ),
            spacing="4",
            align="start",
        ),
        width="100%",
        max_width="48rem",
    )


def explanation() -> rx.Component:
    return rx.text(
        "Partner Center accepts some calls only on behalf of a signed-in partner user (App+User), "
        "and from April 1, 2026 only when that user completed multifactor authentication. Connect once, "
        "signing in with your Partner Center account and MFA: the portal keeps the resulting refresh token "
        "encrypted and renews it each time it is used. It lapses after 90 days without use, or when the "
        "account's sessions are revoked; you will be warned here and on every page.",
        size="2",
        color_scheme="gray",
        max_width="48rem",
    )


def disconnect_dialog() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title("Disconnect Partner Center?"),
            rx.alert_dialog.description(
                "The stored connection is deleted. Customers cannot accept the Microsoft Customer Agreement "
                "until a provider administrator connects Partner Center again."
            ),
            rx.hstack(
                rx.alert_dialog.cancel(
                    rx.button("Cancel", variant="soft", color_scheme="gray", on_click=S.cancel_disconnect)
                ),
                rx.alert_dialog.action(rx.button("Disconnect", color_scheme="red", on_click=S.disconnect)),
                spacing="3",
                justify="end",
                margin_top="1rem",
            ),
        ),
        open=S.confirm_disconnect,
    )


def partner_center_page() -> rx.Component:
    return portal_page(
        "Partner Center connection",
        rx.cond(
            S.result_message != "",
            rx.callout(
                S.result_message,
                icon=rx.cond(S.result_kind == "success", "circle-check", "triangle-alert"),
                color_scheme=rx.cond(S.result_kind == "success", "green", "red"),
                role="status",
            ),
        ),
        rx.cond(
            S.loaded,
            rx.vstack(status_card(), explanation(), spacing="4", width="100%"),
            rx.cond(PortalState.is_provider_admin, rx.spinner(), rx.fragment()),
        ),
        disconnect_dialog(),
        description="The provider's delegated connection to Microsoft Partner Center (App+User, MFA).",
    )


PAGES = [Page("/partner-center", "Partner Center connection", partner_center_page, on_load=[PortalState.guard, S.load])]
