"""The dashboard at the top of My Services (lists and a chart, no tables: the subscriptions table
below stays the page's one table)."""

from __future__ import annotations

import reflex as rx

from opkalla_portal.components.insight_ui import insight_panel
from opkalla_portal.components.services_ui import error_callout
from opkalla_portal.state.dashboard import ChangeRow, RenewalRow
from opkalla_portal.state.dashboard import DashboardState as S


def _tile(title: str, icon: str, body: rx.Component, link: tuple[str, str] | None = None) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.icon(icon, size=18, color=rx.color("accent", 11)),
                rx.heading(title, size="3", as_="h3"),
                align="center",
                spacing="2",
            ),
            body,
            rx.link(link[0], href=link[1], size="2") if link else rx.fragment(),
            spacing="2",
            width="100%",
        ),
        width="100%",
    )


def _item(title, line1, line2=None) -> rx.Component:
    return rx.el.li(
        rx.vstack(
            rx.text(title, size="2", weight="medium"),
            rx.text(line1, size="1", color_scheme="gray"),
            rx.text(line2, size="1", color_scheme="gray") if line2 is not None else rx.fragment(),
            spacing="0",
        ),
        style={"padding": "0.35rem 0", "borderBottom": "1px solid var(--gray-4)"},
    )


def _list(items, render, empty: str) -> rx.Component:
    return rx.cond(
        items.length() > 0,
        rx.el.ul(rx.foreach(items, render), style={"listStyle": "none", "padding": 0, "margin": 0}),
        rx.text(empty, size="2", color_scheme="gray"),
    )


def _renewal(row: RenewalRow) -> rx.Component:
    return _item(row["name"], row["when"], row["seats"])


def _change(row: ChangeRow) -> rx.Component:
    return _item(row["name"], row["change"], row["when"])


def renewals_tile() -> rx.Component:
    return _tile(
        "Upcoming renewals (60 days)",
        "calendar-sync",
        rx.cond(
            S.renewals_loading,
            rx.hstack(rx.spinner(size="1"), rx.text("Loading renewals…", size="2"), role="status", align="center"),
            rx.vstack(
                _list(S.renewals, _renewal, "No annual or multi-year subscription renews in the next 60 days."),
                rx.cond(
                    S.monthly_count > 0,
                    rx.text(
                        S.monthly_count, " monthly-term subscriptions renew every month.", size="1", color_scheme="gray"
                    ),
                ),
                spacing="1",
                width="100%",
            ),
        ),
    )


def billing_tile() -> rx.Component:
    chart = rx.box(
        rx.recharts.line_chart(
            rx.recharts.cartesian_grid(stroke_dasharray="3 3", vertical=False),
            rx.recharts.x_axis(data_key="month", tick={"fontSize": 11}),
            rx.recharts.y_axis(
                width=64, tick={"fontSize": 11}, tick_formatter="(value) => '$' + value.toLocaleString()"
            ),
            rx.recharts.graphing_tooltip(
                content_style={"background": "var(--gray-2)", "border": "1px solid var(--gray-6)"},
                label_style={"color": "var(--gray-12)"},
                custom_attrs={
                    "formatter": rx.Var(
                        "((value) => '$' + Number(value).toLocaleString('en-US', "
                        "{minimumFractionDigits: 2, maximumFractionDigits: 2}))"
                    )
                },
            ),
            rx.recharts.line(
                data_key="total",
                name="Invoice total",
                stroke=rx.color("accent", 9),
                stroke_width=2,
                is_animation_active=False,
            ),
            data=S.trend,
            width="100%",
            height=180,
        ),
        width="100%",
        role="img",
        aria_label="Line chart of invoice totals for the last 12 months; the figures are listed in My Invoices.",
    )
    return _tile(
        "Billing trend (12 months)",
        "chart-line",
        rx.cond(
            S.can_see_billing,
            rx.cond(
                S.trend.length() > 0,
                rx.vstack(
                    chart,
                    rx.text("Total invoiced: ", S.trend_total, size="2", weight="medium"),
                    width="100%",
                    spacing="1",
                ),
                rx.text("No invoices in the last 12 months.", size="2", color_scheme="gray"),
            ),
            rx.text("Billing figures are shown to Administrators and Finance Managers.", size="2", color_scheme="gray"),
        ),
    )


def dashboard() -> rx.Component:
    tiles = rx.grid(
        renewals_tile(),
        _tile(
            "Pending future changes",
            "calendar-clock",
            _list(S.future, _change, "No changes are scheduled."),
            ("Future Changes", "/my-services/future-changes"),
        ),
        _tile(
            "Last changes",
            "history",
            _list(S.changes, _change, "No changes yet."),
            ("Change Logs", "/my-services/change-logs"),
        ),
        billing_tile(),
        columns=rx.breakpoints(initial="1", sm="2", lg="4"),
        spacing="3",
        width="100%",
    )
    return rx.el.section(
        rx.vstack(
            rx.heading("Dashboard", size="5", as_="h2"),
            rx.cond(S.error != "", error_callout(S.error, S.load, role="status", retry_label="Reload the dashboard")),
            rx.cond(
                S.loading,
                rx.hstack(
                    rx.spinner(size="2"), rx.text("Loading the dashboard…", size="2"), role="status", align="center"
                ),
                tiles,
            ),
            insight_panel(full=False),
            spacing="3",
            width="100%",
        ),
        aria_label="Dashboard",
        style={"width": "100%"},
    )
