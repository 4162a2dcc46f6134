"""Product Catalog: choose the Billing Contract, search products, Buy a term."""

import reflex as rx

from opkalla_portal.components.forms import field_label, select_label
from opkalla_portal.components.layout import empty_state, portal_page
from opkalla_portal.components.page import Page
from opkalla_portal.components.services_ui import back_link, error_callout, link_button, loading_block
from opkalla_portal.state.base import PortalState
from opkalla_portal.state.catalog import CatalogState as S


def toolbar() -> rx.Component:
    return rx.flex(
        rx.vstack(
            select_label("Billing Contract", "catalog-contract"),
            rx.select.root(
                rx.select.trigger(
                    id="catalog-contract", aria_labelledby="catalog-contract-label catalog-contract", width="100%"
                ),
                rx.select.content(rx.foreach(S.contracts, lambda c: rx.select.item(c["label"], value=c["id"]))),
                value=S.contract_id,
                on_change=S.set_contract,
            ),
            spacing="1",
            width=rx.breakpoints(initial="100%", sm="24rem"),
        ),
        rx.vstack(
            field_label("Search products", "catalog-search"),
            rx.input(
                rx.input.slot(rx.icon("search", size=16)),
                id="catalog-search",
                type="search",
                value=S.search,
                on_change=S.set_search,
                placeholder="Product name",
                width="100%",
            ),
            spacing="1",
            width=rx.breakpoints(initial="100%", sm="20rem"),
        ),
        spacing="4",
        wrap="wrap",
        align="end",
        width="100%",
    )


def term_line(term, product_title) -> rx.Component:
    return rx.flex(
        rx.vstack(rx.text(term["label"], size="2"), rx.text(term["price"], size="2", weight="bold"), spacing="0"),
        rx.spacer(),
        # Named by product and term: a list of links all called "Buy" says nothing.
        link_button("Buy", term["href"], size="1", aria_label="Buy " + product_title + ", " + term["label"]),
        align="center",
        spacing="3",
        width="100%",
        padding_y="0.35rem",
        border_top=f"1px solid {rx.color('gray', 4)}",
    )


def product_card(product) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.badge(product["category"], variant="soft", high_contrast=True, color_scheme="gray"),
                rx.cond(
                    product["addon"] == "1", rx.badge("Add-on", variant="soft", high_contrast=True, color_scheme="blue")
                ),
                spacing="2",
            ),
            rx.heading(product["title"], size="3", as_="h2"),
            rx.vstack(
                rx.foreach(product["terms"], lambda term: term_line(term, product["title"])), spacing="0", width="100%"
            ),
            spacing="2",
            width="100%",
        ),
        width="100%",
        role="group",
        aria_label=product["title"],
    )


def catalog_page() -> rx.Component:
    return portal_page(
        "Product Catalog",
        back_link("My Services", "/my-services"),
        toolbar(),
        rx.cond(
            S.loading,
            loading_block("Loading the Product Catalog from Microsoft…"),
            rx.cond(
                S.error != "",
                error_callout(S.error, S.retry),
                rx.cond(
                    S.matches == 0,
                    empty_state(
                        "search-x",
                        "No products match your search",
                        "Try a shorter name, for example “Teams” or “Business”.",
                    ),
                    rx.vstack(
                        rx.text(
                            S.products.length(),
                            " of ",
                            S.matches,
                            " products",
                            size="2",
                            color_scheme="gray",
                            aria_live="polite",
                        ),
                        rx.grid(
                            rx.foreach(S.products, product_card),
                            columns=rx.breakpoints(initial="1", md="2", xl="3"),
                            spacing="3",
                            width="100%",
                        ),
                        rx.cond(
                            S.products.length() < S.matches,
                            rx.button("Show more products", on_click=S.show_more, variant="soft", align_self="center"),
                        ),
                        width="100%",
                        spacing="3",
                    ),
                ),
            ),
        ),
        description="Select the Billing Contract, search for the product and select Buy beside the term you want.",
    )


PAGES = [
    Page("/my-services/catalog", "Product Catalog", catalog_page, on_load=[PortalState.guard, S.load]),
]
