"""Usage Data: an Azure subscription's cost over the last 3, 6, 9 or 12 months."""

import reflex as rx

from opkalla_portal.components.downloads import download_button
from opkalla_portal.components.layout import empty_state, portal_page
from opkalla_portal.components.page import Page
from opkalla_portal.components.services_ui import stat_card as stat
from opkalla_portal.services.usage import PERIODS
from opkalla_portal.state.base import PortalState
from opkalla_portal.state.usage_data import MonthRow, ResourceRow, Series, UsageState

S = UsageState
PHONE_HIDDEN = ["none", "table-cell"]  # columns a 390 px screen has no room for


def selectors() -> rx.Component:
    return rx.flex(
        rx.vstack(
            rx.text("Subscription", size="2", weight="medium", id="usage-subscription-label"),
            rx.select.root(
                rx.select.trigger(
                    id="usage-subscription",
                    placeholder="Select the subscription",
                    aria_labelledby="usage-subscription-label usage-subscription",
                    min_width="16rem",
                    # Radix's placeholder grey is too faint for WCAG AA; use the secondary text colour.
                    style={"&[data-placeholder] .rt-SelectTriggerInner > span": {"color": "var(--gray-11)"}},
                ),
                rx.select.content(rx.foreach(S.subscriptions, lambda s: rx.select.item(s["name"], value=s["id"]))),
                value=S.subscription_id,
                on_change=S.select_subscription,
            ),
            spacing="1",
        ),
        rx.vstack(
            rx.text("Time period", size="2", weight="medium", id="usage-period-label"),
            rx.radio_cards.root(
                *[rx.radio_cards.item(label, value=label, padding_y="0.4rem") for label in PERIODS.values()],
                value=S.period_label,
                on_value_change=S.select_period,
                aria_labelledby="usage-period-label",
                size="1",
                columns=rx.breakpoints(initial="2", sm="4"),
                spacing="2",
                width=["100%", "auto"],
            ),
            spacing="1",
            width=["100%", "auto"],
        ),
        rx.spacer(display=["none", "none", "block"]),
        rx.cond(
            S.loading,
            rx.hstack(rx.spinner(size="2"), rx.text("Loading usage…", size="2"), role="status", align="center"),
            rx.fragment(),
        ),
        rx.cond(
            (S.subscription_id != "") & ~S.is_empty & ~S.loading & (S.error == ""),
            download_button("Download CSV", S.download_url, "file-spreadsheet"),
            rx.fragment(),
        ),
        direction=rx.breakpoints(initial="column", md="row"),
        spacing="4",
        width="100%",
        align=rx.breakpoints(initial="start", md="end"),
        wrap="wrap",
    )


def legend_item(item: Series) -> rx.Component:
    return rx.hstack(
        rx.box(width="10px", height="10px", border_radius="2px", background=item["color"]),
        rx.text(item["category"], size="1"),
        rx.text(item["total"], size="1", color_scheme="gray"),
        align="center",
        spacing="1",
    )


def chart() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Cost by month", size="3", as_="h2"),
            rx.box(
                rx.recharts.bar_chart(
                    rx.recharts.cartesian_grid(stroke_dasharray="3 3", vertical=False),
                    rx.recharts.x_axis(data_key="month"),
                    rx.recharts.y_axis(width=60, tick_formatter="(value) => '$' + value.toLocaleString()"),
                    rx.recharts.graphing_tooltip(
                        content_style={
                            "background": "var(--gray-2)",
                            "border": "1px solid var(--gray-6)",
                            "borderRadius": "var(--radius-3)",
                        },
                        label_style={"color": "var(--gray-12)", "fontWeight": 600},
                        cursor={"fill": "var(--gray-a3)"},
                        # Recharts' own prop, which Reflex does not wrap: amounts with symbol and cents.
                        custom_attrs={
                            "formatter": rx.Var(
                                "((value) => '$' + Number(value).toLocaleString('en-US', "
                                "{minimumFractionDigits: 2, maximumFractionDigits: 2}))"
                            )
                        },
                    ),
                    rx.foreach(
                        S.series,
                        lambda item: rx.recharts.bar(
                            data_key=item["category"],
                            stack_id="cost",
                            fill=item["color"],
                            name=item["category"],
                            is_animation_active=False,
                        ),
                    ),
                    data=S.chart,
                    width="100%",
                    height=300,
                ),
                width="100%",
                role="img",
                aria_label="Stacked bar chart of Azure cost by month and service category; the same figures are "
                "in the tables below.",
            ),
            rx.flex(rx.foreach(S.series, legend_item), spacing="3", wrap="wrap"),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def month_row(row: MonthRow) -> rx.Component:
    return rx.table.row(rx.table.row_header_cell(row["month"]), rx.table.cell(row["total"], text_align="right"))


def resource_row(row: ResourceRow) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(row["resource"]),
        rx.table.cell(row["resource_group"], display=PHONE_HIDDEN),
        rx.table.cell(row["category"]),
        rx.table.cell(row["cost"], text_align="right", white_space="nowrap"),
        rx.table.cell(row["share"], text_align="right"),
    )


def tables() -> rx.Component:
    return rx.grid(
        rx.card(
            rx.vstack(
                rx.heading("Monthly totals", size="3", as_="h2"),
                rx.table.root(
                    rx.table.header(
                        rx.table.row(
                            rx.table.column_header_cell("Month"),
                            rx.table.column_header_cell("Cost", text_align="right"),
                        )
                    ),
                    rx.table.body(
                        rx.foreach(S.months, month_row),
                        rx.table.row(
                            rx.table.row_header_cell("Total", font_weight="bold"),
                            rx.table.cell(S.total, text_align="right", font_weight="bold"),
                        ),
                    ),
                    size="1",
                    width="100%",
                    aria_label="Monthly totals",
                ),
                spacing="2",
                width="100%",
            ),
        ),
        rx.card(
            rx.vstack(
                rx.heading("Top resources", size="3", as_="h2"),
                rx.box(
                    rx.table.root(
                        rx.table.header(
                            rx.table.row(
                                rx.table.column_header_cell("Resource"),
                                rx.table.column_header_cell("Resource Group", display=PHONE_HIDDEN),
                                rx.table.column_header_cell("Service Category"),
                                rx.table.column_header_cell("Cost", text_align="right"),
                                rx.table.column_header_cell("Share", text_align="right"),
                            )
                        ),
                        rx.table.body(rx.foreach(S.resources, resource_row)),
                        size="1",
                        width="100%",
                        aria_label="Top resources",
                    ),
                    overflow_x="auto",
                    width="100%",
                ),
                spacing="2",
                width="100%",
            ),
        ),
        columns=rx.breakpoints(initial="1", lg="2"),
        spacing="4",
        width="100%",
        style={"gridTemplateColumns": "minmax(0, 1fr)"},
    )


def report() -> rx.Component:
    return rx.vstack(
        rx.flex(
            stat("Total cost", S.total, "usage-total"),
            stat("Period", S.period_text, "usage-period", size="4"),
            spacing="3",
            width="100%",
            wrap="wrap",
        ),
        chart(),
        tables(),
        spacing="4",
        width="100%",
    )


def usage_data_page() -> rx.Component:
    return portal_page(
        "Usage Data",
        selectors(),
        rx.cond(
            S.error != "",
            rx.callout(S.error, icon="triangle-alert", color_scheme="red", role="alert", width="100%"),
            rx.cond(
                ~S.loaded,
                rx.center(rx.spinner(size="3"), padding="3rem", width="100%"),
                rx.cond(
                    S.subscriptions.length() == 0,
                    empty_state(
                        "cloud-off",
                        "No Azure subscriptions",
                        "Usage Data shows Azure usage; this account has no Azure plan.",
                    ),
                    rx.cond(
                        S.subscription_id == "",
                        empty_state(
                            "chart-column",
                            "Select the subscription",
                            "Choose an Azure subscription above to see its usage.",
                        ),
                        rx.cond(
                            S.is_empty,
                            empty_state(
                                "calendar-x",
                                "No usage in this period",
                                "There is no Azure usage for this subscription in the selected period.",
                            ),
                            report(),
                        ),
                    ),
                ),
            ),
        ),
        description="Azure usage by subscription over the last 3, 6, 9 or 12 months.",
    )


PAGES = [
    Page("/usage-data", "Usage Data", usage_data_page, on_load=[PortalState.guard, UsageState.load]),
]
