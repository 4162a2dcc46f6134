"""My Services: choose a Billing Contract, see its subscriptions, open one to change its quantity."""

import reflex as rx

from opkalla_portal.components.dashboard_ui import dashboard
from opkalla_portal.components.forms import field_label, select_label
from opkalla_portal.components.layout import empty_state, portal_page
from opkalla_portal.components.page import Page
from opkalla_portal.components.services_ui import (
    error_callout,
    link_button,
    loading_block,
    services_links,
    visually_hidden,
)
from opkalla_portal.state.base import PortalState
from opkalla_portal.state.dashboard import DashboardState
from opkalla_portal.state.insight import InsightState
from opkalla_portal.state.my_services import MyServicesState as S

COLUMNS = [
    ("Subscription Name", "name"),
    ("Quantity", "quantity"),
    ("Term", ""),
    ("Billing Frequency", ""),
    ("Renewal Date", "renewal"),
    ("Status", "status"),
    ("Unit Price", "price"),
]


def contract_picker() -> rx.Component:
    return rx.vstack(
        select_label("Billing Contract", "billing-contract"),
        rx.select.root(
            rx.select.trigger(
                id="billing-contract",
                aria_labelledby="billing-contract-label billing-contract",
                placeholder="Choose a Billing Contract",
                width="100%",
            ),
            rx.select.content(rx.foreach(S.contracts, lambda c: rx.select.item(c["label"], value=c["id"]))),
            value=S.contract_id,
            on_change=S.set_contract,
        ),
        spacing="1",
        width=rx.breakpoints(initial="100%", sm="24rem"),
    )


def search_box() -> rx.Component:
    return rx.vstack(
        field_label("Search", "subscription-search"),
        rx.input(
            rx.input.slot(rx.icon("search", size=16)),
            id="subscription-search",
            value=S.search,
            on_change=S.set_search,
            placeholder="Subscription name",
            type="search",
            width="100%",
        ),
        spacing="1",
        width=rx.breakpoints(initial="100%", sm="18rem"),
    )


def header_cell(label: str, key: str) -> rx.Component:
    if not key:
        return rx.table.column_header_cell(rx.text(label, size="2", weight="medium"), white_space="nowrap")
    active = S.sort_by == key
    return rx.table.column_header_cell(
        rx.button(
            label,
            rx.cond(
                active,
                rx.cond(S.sort_desc, rx.icon("arrow-down", size=14), rx.icon("arrow-up", size=14)),
                rx.icon("arrow-up-down", size=14, opacity="0.4"),
            ),
            on_click=S.sort(key),
            variant="ghost",
            color_scheme="gray",
            high_contrast=True,
            size="2",
            weight="bold",
            white_space="nowrap",
            aria_label=f"Sort by {label}",
            margin_x="-0.5rem",
        ),
        aria_sort=rx.cond(active, rx.cond(S.sort_desc, "descending", "ascending"), "none"),
    )


def expand_button(row) -> rx.Component:
    return rx.cond(
        row["expandable"] == "1",
        rx.icon_button(
            rx.cond(row["expanded"] == "1", rx.icon("minus", size=14), rx.icon("plus", size=14)),
            on_click=S.toggle(row["id"]),
            size="1",
            variant="soft",
            aria_label=rx.cond(
                row["azure"] == "1", "Show Usage Data of " + row["name"], "Show add-ons of " + row["name"]
            ),
            aria_expanded=rx.cond(row["expanded"] == "1", "true", "false"),
        ),
    )


def name_cell(row) -> rx.Component:
    edit = rx.link(row["name"], href="/my-services/edit?id=" + row["id"], weight="medium")
    return rx.match(
        row["kind"],
        (
            "usage",
            rx.hstack(
                rx.icon("corner-down-right", size=14, color=rx.color("gray", 9)),
                rx.link(
                    rx.icon("chart-column", size=14, display="inline"),
                    " Usage Data",
                    href="/usage-data?subscription=" + row["id"],
                ),
                align="center",
                padding_left="1.25rem",
            ),
        ),
        (
            "addon",
            rx.hstack(
                rx.icon("corner-down-right", size=14, color=rx.color("gray", 9)),
                edit,
                rx.badge("Add-on", variant="soft", high_contrast=True, color_scheme="gray", size="1"),
                align="center",
                padding_left="1.25rem",
            ),
        ),
        rx.cond(row["azure"] == "1", rx.text(row["name"], weight="medium"), edit),
    )


def status_badge(status) -> rx.Component:
    return rx.cond(
        status != "",
        rx.badge(
            status, color_scheme=rx.cond(status == "Active", "green", "amber"), variant="soft", high_contrast=True
        ),
    )


def subscription_row(row) -> rx.Component:
    usage = row["kind"] == "usage"
    return rx.table.row(
        rx.table.cell(expand_button(row), width="2.5rem"),
        rx.table.row_header_cell(name_cell(row), min_width=rx.breakpoints(initial="11rem", md="16rem")),
        rx.table.cell(rx.cond(usage, "", row["quantity"])),
        rx.table.cell(rx.cond(usage, "", row["term"])),
        rx.table.cell(rx.cond(usage, "", row["billing"])),
        rx.table.cell(rx.cond(usage, "", row["renewal"]), white_space="nowrap"),
        rx.table.cell(rx.cond(usage, "", status_badge(row["status"]))),
        rx.table.cell(rx.cond(usage, "", row["price"]), white_space="nowrap", text_align="right"),
        background=rx.cond(row["kind"] == "base", "transparent", rx.color("gray", 2)),
    )


def subscriptions_table() -> rx.Component:
    return rx.box(
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    rx.table.column_header_cell(visually_hidden("Expand")),
                    *[header_cell(label, key) for label, key in COLUMNS],
                )
            ),
            rx.table.body(rx.foreach(S.rows, subscription_row)),
            variant="surface",
            size="2",
            width="100%",
        ),
        overflow_x="auto",
        width="100%",
    )


def results() -> rx.Component:
    return rx.cond(
        S.loading,
        loading_block("Loading subscriptions from Microsoft…"),
        rx.cond(
            S.error != "",
            error_callout(S.error, S.retry),
            rx.cond(
                S.total == 0,
                empty_state(
                    "layers",
                    "No subscriptions under this Billing Contract",
                    "Buy a product from the Product Catalog and it will appear here.",
                    link_button("Add Service", "/my-services/catalog", "plus"),
                ),
                rx.cond(
                    S.shown == 0,
                    empty_state(
                        "search-x",
                        "No subscriptions match your search",
                        "Check the spelling or clear the search box to see every subscription.",
                    ),
                    rx.vstack(
                        subscriptions_table(),
                        rx.text(
                            "Select a Subscription Name to change its quantity. Select the plus sign to "
                            "see add-ons, or Usage Data for an Azure plan.",
                            size="1",
                            color_scheme="gray",
                        ),
                        width="100%",
                        spacing="2",
                    ),
                ),
            ),
        ),
    )


def my_services_page() -> rx.Component:
    return portal_page(
        "My Services",
        dashboard(),
        rx.heading("Subscriptions", size="5", as_="h2"),
        rx.flex(contract_picker(), search_box(), spacing="4", wrap="wrap", align="end", width="100%"),
        results(),
        description="Manage the quantity for your Microsoft subscriptions and add new services from our "
        "Product Catalog.",
        actions=services_links("/my-services"),
    )


PAGES = [
    Page(
        "/my-services",
        "My Services",
        my_services_page,
        on_load=[PortalState.guard, S.load, DashboardState.load, InsightState.load],
    ),
]
