"""License insight and right-size recommendations, shown on Manage Licenses and the My Services dashboard."""

from __future__ import annotations

import reflex as rx

from opkalla_portal.components.services_ui import error_callout, link_button, stat_card
from opkalla_portal.state.insight import InsightRow, RecommendationRow
from opkalla_portal.state.insight import InsightState as S

IDLE_RULE = (
    "Idle: assigned to an enabled user who has not signed in (interactively or not) for the chosen number "
    "of days, or never. Disabled accounts that still hold a license are counted separately; the cost "
    "covers both."
)


def _loading(text: str) -> rx.Component:
    return rx.hstack(
        rx.spinner(size="2"),
        rx.text(text, size="2", color_scheme="gray"),
        role="status",
        align="center",
        spacing="2",
        padding_y="0.5rem",
    )


def threshold_picker(panel_id: str) -> rx.Component:
    """Idle for 30 / 60 / 90 days (ids per panel: My Services and Manage Licenses each show one)."""
    return rx.hstack(
        rx.text("Idle for", size="2", weight="medium", id=f"{panel_id}-threshold-label"),
        rx.radio_group.root(
            rx.flex(
                *[
                    rx.flex(
                        rx.radio_group.item(value=str(days), id=f"{panel_id}-threshold-{days}"),
                        rx.el.label(
                            f"{days} days",
                            html_for=f"{panel_id}-threshold-{days}",
                            style={"fontSize": "var(--font-size-2)", "cursor": "pointer"},
                        ),
                        spacing="2",
                        align="center",
                    )
                    for days in (30, 60, 90)
                ],
                spacing="4",
                wrap="wrap",
            ),
            value=S.threshold,
            on_change=S.set_threshold,
            aria_labelledby=f"{panel_id}-threshold-label",
        ),
        spacing="3",
        align="center",
        wrap="wrap",
    )


def idle_summary() -> rx.Component:
    return rx.flex(
        stat_card("Idle or disabled seats", S.idle_seats, "idle-seats"),
        stat_card("Monthly cost of idle seats", S.idle_cost, "idle-cost"),
        spacing="3",
        wrap="wrap",
        width="100%",
    )


def _recommendation(rec: RecommendationRow) -> rx.Component:
    return rx.card(
        rx.flex(
            rx.vstack(
                rx.text(rec["headline"], weight="bold", size="3"),
                rx.text(rec["detail"], size="2", color_scheme="gray"),
                rx.cond(rec["extra"] != "", rx.text(rec["extra"], size="2")),
                spacing="1",
                flex="1",
                min_width="0",
            ),
            rx.flex(
                rx.cond(
                    rec["ready"],
                    rx.button(
                        rx.icon("calendar-check", size=16),
                        "Accept",
                        on_click=S.accept(rec["id"]),
                        loading=S.busy_id == rec["id"],
                        disabled=S.busy_id != "",
                        aria_label="Accept recommendation for " + rec["name"],
                    ),
                    link_button("Manage Licenses", "/manage-licenses", "key-round", variant="soft"),
                ),
                rx.button(
                    "Dismiss",
                    variant="soft",
                    color_scheme="gray",
                    on_click=S.dismiss(rec["id"]),
                    disabled=S.busy_id != "",
                    aria_label="Dismiss recommendation for " + rec["name"],
                ),
                spacing="2",
                wrap="wrap",
            ),
            direction=rx.breakpoints(initial="column", md="row"),
            spacing="3",
            align=rx.breakpoints(md="center"),
            width="100%",
        ),
        width="100%",
    )


def recommendations() -> rx.Component:
    return rx.el.section(
        rx.vstack(
            rx.heading("Right-size before renewal", size="4", as_="h3"),
            rx.text(
                "Annual and multi-year subscriptions renewing in the next 90 days with seats nobody uses. "
                "Accept schedules the change On Renewal, like Subscription Edit (see Future Changes to cancel "
                "it). Monthly-term subscriptions can be reduced at any monthly renewal from Subscription Edit.",
                size="2",
                color_scheme="gray",
            ),
            rx.cond(
                S.recommendations.length() > 0,
                rx.vstack(rx.foreach(S.recommendations, _recommendation), spacing="2", width="100%"),
                rx.text("No recommendations right now: every subscription renewing soon matches its use.", size="2"),
            ),
            rx.cond(
                S.dismissed_count > 0,
                rx.text(
                    S.dismissed_count,
                    " dismissed recommendation(s) hidden until their numbers change.",
                    size="1",
                    color_scheme="gray",
                ),
            ),
            spacing="2",
            width="100%",
        ),
        aria_label="Right-size before renewal",
        style={"width": "100%"},
    )


def _exclude_switch(row: InsightRow) -> rx.Component:
    return rx.switch(
        checked=row["excluded"],
        on_change=lambda on: S.set_excluded(row["sku_id"], on),
        aria_label="Exclude " + row["name"] + " from idle totals",
        size="1",
    )


def _number(value) -> rx.Component:
    return rx.table.cell(value, text_align="right")


def _insight_row(row: InsightRow) -> rx.Component:
    # The name is a plain cell: the products table above already names each row by product.
    return rx.table.row(
        rx.table.cell(
            rx.text(row["name"], weight="medium"),
            rx.cond(
                row["excluded"],
                rx.badge("Excluded", variant="soft", color_scheme="gray", high_contrast=True, margin_left="0.5rem"),
            ),
        ),
        _number(row["purchased"]),
        _number(row["assigned"]),
        _number(row["unassigned"]),
        _number(row["idle30"]),
        _number(row["idle60"]),
        _number(row["idle90"]),
        _number(row["disabled"]),
        rx.table.cell(row["cost"], text_align="right", white_space="nowrap"),
        rx.table.cell(_exclude_switch(row), text_align="center"),
        align="center",
        opacity=rx.cond(row["excluded"], "0.7", "1"),
    )


def _insight_card(row: InsightRow) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text(row["name"], weight="medium"),
            rx.text(
                row["purchased"],
                " purchased · ",
                row["assigned"],
                " assigned · ",
                row["unassigned"],
                " unassigned",
                size="2",
                color_scheme="gray",
            ),
            rx.text(
                "Idle 30/60/90 days: ",
                row["idle30"],
                " / ",
                row["idle60"],
                " / ",
                row["idle90"],
                " · ",
                row["disabled"],
                " disabled",
                size="2",
            ),
            rx.text("Idle cost: ", row["cost"], " a month", size="2", weight="medium"),
            rx.hstack(_exclude_switch(row), rx.text("Exclude from idle totals", size="2"), align="center"),
            spacing="1",
        ),
        width="100%",
    )


SR_ONLY = {
    "position": "absolute",
    "width": "1px",
    "height": "1px",
    "overflow": "hidden",
    "clip": "rect(0 0 0 0)",
    "whiteSpace": "nowrap",
    "margin": "-1px",
}
HEADERS = (
    "Purchased",
    "Assigned",
    "Unassigned",
    "Idle 30 days",
    "Idle 60 days",
    "Idle 90 days",
    "Disabled",
    "Idle cost / month",
)


def insight_table() -> rx.Component:
    return rx.fragment(
        rx.box(
            rx.table.root(
                # A caption names the table (an aria-label would land on Radix's wrapper div).
                rx.el.caption("License insight by product", style=SR_ONLY),
                rx.table.header(
                    rx.table.row(
                        rx.table.column_header_cell("Product"),
                        *[rx.table.column_header_cell(h, text_align="right") for h in HEADERS],
                        rx.table.column_header_cell("Exclude", text_align="center"),
                    )
                ),
                rx.table.body(rx.foreach(S.products, _insight_row)),
                variant="surface",
                size="1",
                width="100%",
            ),
            display=["none", "none", "block"],
            width="100%",
            overflow_x="auto",
        ),
        rx.vstack(rx.foreach(S.products, _insight_card), display=["flex", "flex", "none"], width="100%", spacing="2"),
    )


def insight_body(full: bool) -> rx.Component:
    """The panel's content: consent / loading / error states, the summary, the table (full) and the
    recommendations."""
    ready = rx.vstack(
        rx.cond(
            ~S.sign_in_known,
            rx.callout(
                rx.cond(
                    S.sign_in_missing == "premium",
                    "Idle seats can't be shown: Microsoft shares users' last sign-in only with tenants that have "
                    "Microsoft Entra ID P1 or P2, and yours has neither. Only disabled accounts are counted.",
                    "Idle seats can't be shown: Microsoft did not share users' last sign-in because the portal "
                    "lacks the AuditLog.Read.All permission (a Global Admin can grant consent again). Only "
                    "disabled accounts are counted.",
                ),
                icon="info",
                color_scheme="amber",
                high_contrast=True,
                width="100%",
            ),
        ),
        threshold_picker("insight-full" if full else "insight"),
        idle_summary(),
        rx.text(IDLE_RULE, size="1", color_scheme="gray"),
        insight_table() if full else rx.fragment(),
        recommendations(),
        spacing="3",
        width="100%",
    )
    return rx.cond(
        S.loading,
        _loading("Loading license insight from Microsoft…"),
        rx.cond(
            S.error != "",
            error_callout(S.error, S.load, role="status", retry_label="Reload license insight"),
            rx.cond(
                S.consent_needed,
                rx.callout(
                    rx.flex(
                        rx.text("License insight needs your organization's consent to read users and licenses."),
                        rx.link("Open Manage Licenses", href="/manage-licenses"),
                        spacing="2",
                        wrap="wrap",
                    ),
                    icon="shield-check",
                    color_scheme="gray",
                    high_contrast=True,
                    width="100%",
                ),
                ready,
            ),
        ),
    )


def insight_panel(full: bool = False) -> rx.Component:
    return rx.el.section(
        rx.vstack(rx.heading("License insight", size="5", as_="h2"), insight_body(full), spacing="3", width="100%"),
        aria_label="License insight",
        style={"width": "100%"},
    )
