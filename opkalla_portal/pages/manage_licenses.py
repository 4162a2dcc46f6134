"""Manage Licenses: consent on first use, the tenant's products, and the Manage License window."""

import reflex as rx
from reflex_components_radix.primitives.dialog import dialog as popup

from opkalla_portal.components.forms import field_error
from opkalla_portal.components.insight_ui import insight_panel
from opkalla_portal.components.layout import empty_state, portal_page
from opkalla_portal.components.page import Page
from opkalla_portal.state.base import PortalState
from opkalla_portal.state.insight import InsightState
from opkalla_portal.state.manage_licenses import LicensesState, ProductRow
from opkalla_portal.state.manage_licenses_consent import RequestRow
from opkalla_portal.state.manage_licenses_window import FailureRow, ReclaimRow, UserRow

NAME_NOTE = (
    "Note: The name on the Manage Licenses page may not be the same exact name as what is reflecting on "
    "the My Services page or in the Microsoft 365 admin center. For example, Microsoft 365 Business is "
    "the same as Microsoft 365 Business Premium."
)
PERMISSIONS = (
    ("User.Read.All", "Read all users' full profiles"),
    ("LicenseAssignment.ReadWrite.All", "Read and write all users' license assignments"),
    ("Directory.Read.All", "Read directory data"),
    ("AuditLog.Read.All", "Read users' sign-in activity (for idle licenses)"),
)
S = LicensesState


def _callout(*children, **props) -> rx.Component:
    """Callouts and badges in high contrast: the soft accent text fails WCAG AA on light themes."""
    return rx.callout(*children, high_contrast=True, **props)


def _badge(*children, **props) -> rx.Component:
    return rx.badge(*children, high_contrast=True, **props)


# ----------------------------------------------------------------------------- consent
def _permission_list() -> rx.Component:
    return rx.el.ul(
        *[rx.el.li(rx.text(rx.text.strong(desc), " (", rx.code(name), ")", size="2")) for name, desc in PERMISSIONS],
        style={"paddingLeft": "1.25rem", "display": "grid", "gap": "0.25rem"},
    )


def _grant_content() -> rx.Component:
    return rx.vstack(
        rx.text(
            "To assign or unassign licenses, the Opkalla Customer Portal needs your consent as the Global "
            "Admin, on behalf of your organization. Microsoft will ask you to accept these permissions:",
            size="2",
        ),
        _permission_list(),
        rx.hstack(
            rx.button("Not now", variant="soft", color_scheme="gray", on_click=S.set_consent_dialog_open(False)),
            rx.button(
                rx.icon("shield-check", size=16), "Grant consent", on_click=S.grant_consent, loading=S.redirecting
            ),
            spacing="3",
            justify="end",
            width="100%",
            wrap="wrap",
        ),
        spacing="4",
    )


def _request_form() -> rx.Component:
    return rx.el.form(
        rx.vstack(
            rx.el.label("Justification", html_for="consent-justification", style={"fontWeight": "500"}),
            rx.text_area(
                id="consent-justification",
                name="justification",
                value=S.justification,
                on_change=S.set_justification,
                rows="4",
                width="100%",
                max_length=2000,
                placeholder="Why do you need to manage licenses?",
                aria_invalid=rx.cond(S.justification_error != "", "true", "false"),
                aria_describedby="consent-justification-error",
            ),
            field_error(S.justification_error, "consent-justification"),
            rx.hstack(
                rx.button(
                    "Not now",
                    type="button",
                    variant="soft",
                    color_scheme="gray",
                    on_click=S.set_consent_dialog_open(False),
                ),
                rx.button(rx.icon("send", size=16), "Request approval", type="submit"),
                spacing="3",
                justify="end",
                width="100%",
                wrap="wrap",
            ),
            spacing="2",
            width="100%",
        ),
        on_submit=S.request_approval,
        width="100%",
    )


def _request_content() -> rx.Component:
    return rx.vstack(
        rx.text(
            "Only a Global Admin can grant the portal access to your organization's licenses. Provide a "
            "justification and request approval from your Global Admin.",
            size="2",
        ),
        _permission_list(),
        rx.match(
            S.my_request_status,
            (
                "pending",
                _callout(
                    "Request sent. Your request is waiting for approval from your Global Admin. "
                    "You will be told by email when they decide.",
                    icon="hourglass",
                    color_scheme="blue",
                    width="100%",
                ),
            ),
            (
                "denied",
                rx.vstack(
                    _callout(
                        rx.text("Your Global Admin denied your request. Reason: ", S.my_request_reason),
                        icon="circle-x",
                        color_scheme="red",
                        width="100%",
                    ),
                    _request_form(),
                    width="100%",
                ),
            ),
            _request_form(),
        ),
        spacing="4",
        width="100%",
    )


def consent_dialog() -> rx.Component:
    """The first-use pop-up. Non-modal on purpose: it asks, but the menu and the page stay
    usable (a modal would hide the page from screen readers until it is answered)."""
    return popup.root(
        popup.portal(
            popup.content(
                # The portal renders outside the app's theme: a Theme of its own gives the tokens.
                rx.theme(
                    rx.box(
                        popup.title(
                            rx.cond(S.can_grant, "Permissions requested", "Approval required"),
                            style={"fontSize": "var(--font-size-5)", "fontWeight": "700", "margin": "0 0 0.5rem"},
                        ),
                        popup.description(
                            "Manage Licenses needs your organization's consent before it can read "
                            "users and licenses from Microsoft.",
                            style={"color": "var(--gray-11)", "fontSize": "var(--font-size-2)", "margin": "0 0 1rem"},
                        ),
                        rx.cond(S.can_grant, _grant_content(), _request_content()),
                        padding="1.5rem",
                        background=rx.color("gray", 1),
                        border=f"1px solid {rx.color('gray', 6)}",
                        border_radius="var(--radius-5)",
                        box_shadow="var(--shadow-6)",
                        max_height="calc(100vh - 6rem)",
                        overflow_y="auto",
                        color=rx.color("gray", 12),
                    ),
                    accent_color="indigo",
                    gray_color="slate",
                    radius="medium",
                    has_background=False,
                ),
                style={
                    "position": "fixed",
                    "top": "5rem",
                    "left": "50%",
                    "transform": "translateX(-50%)",
                    "width": "min(34rem, calc(100vw - 1.5rem))",
                    "zIndex": "40",
                },
            )
        ),
        open=S.consent_dialog_open,
        on_open_change=S.set_consent_dialog_open,
        modal=False,
    )


def _request_row(request: RequestRow) -> rx.Component:
    return rx.card(
        rx.flex(
            rx.vstack(
                rx.text(rx.text.strong(request["requester"]), " · ", request["email"], size="2"),
                rx.text(request["justification"], size="2", white_space="pre-wrap"),
                rx.text("Requested ", request["created"], size="1", color_scheme="gray"),
                spacing="1",
                flex="1",
                min_width="0",
            ),
            rx.flex(
                rx.button(
                    "Approve", on_click=S.grant_consent, aria_label="Approve request from " + request["requester"]
                ),
                rx.button(
                    "Deny",
                    variant="soft",
                    color_scheme="red",
                    on_click=S.open_deny(request["id"]),
                    aria_label="Deny request from " + request["requester"],
                ),
                spacing="2",
            ),
            direction=rx.breakpoints(initial="column", sm="row"),
            spacing="3",
            align=rx.breakpoints(sm="center"),
        ),
        width="100%",
    )


def pending_requests() -> rx.Component:
    return rx.cond(
        S.can_grant & (S.pending_requests.length() > 0),
        rx.el.section(
            rx.vstack(
                rx.heading("Pending approval requests", size="4", as_="h2"),
                rx.text(
                    "Approving grants consent for the whole organization through Microsoft; every waiting "
                    "requester is then told by email.",
                    size="2",
                    color_scheme="gray",
                ),
                rx.foreach(S.pending_requests, _request_row),
                spacing="3",
                width="100%",
            ),
            aria_label="Pending approval requests",
            style={"width": "100%"},
        ),
    )


def deny_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Deny request"),
            rx.dialog.description(
                rx.text("Tell ", S.deny_requester, " why access is not granted."), size="2", margin_bottom="1rem"
            ),
            rx.el.form(
                rx.vstack(
                    rx.el.label("Reason", html_for="deny-reason", style={"fontWeight": "500"}),
                    rx.text_area(
                        id="deny-reason",
                        name="reason",
                        value=S.deny_reason,
                        on_change=S.set_deny_reason,
                        rows="3",
                        width="100%",
                        max_length=2000,
                        aria_describedby="deny-reason-error",
                    ),
                    field_error(S.deny_error, "deny-reason"),
                    rx.hstack(
                        rx.dialog.close(rx.button("Cancel", type="button", variant="soft", color_scheme="gray")),
                        rx.button("Deny request", type="submit", color_scheme="red"),
                        spacing="3",
                        justify="end",
                        width="100%",
                    ),
                    spacing="2",
                    width="100%",
                ),
                on_submit=S.deny,
            ),
            max_width="30rem",
        ),
        open=S.deny_request_id != 0,
        on_open_change=S.set_deny_open,
    )


def consent_needed() -> rx.Component:
    return rx.vstack(
        empty_state(
            "shield-check",
            "Consent needed",
            "Before licenses can be shown, your organization must allow the portal to read users and manage "
            "license assignments at Microsoft.",
            rx.button(
                rx.cond(S.can_grant, "Review permissions", "Request approval"), on_click=S.set_consent_dialog_open(True)
            ),
        ),
        pending_requests(),
        spacing="5",
        width="100%",
    )


# ----------------------------------------------------------------------------- products
def _product_name(product: ProductRow) -> rx.Component:
    return rx.tooltip(
        rx.text(
            product["name"],
            weight="medium",
            tab_index=0,
            aria_label=product["name"] + " (" + product["part_number"] + ")",
        ),
        content=product["part_number"],
    )


def _manage_button(product: ProductRow) -> rx.Component:
    return rx.button(
        "Manage License",
        size="2",
        on_click=S.open_manager(product["sku_id"]),
        aria_label="Manage License for " + product["name"],
    )


def _product_table_row(product: ProductRow) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(_product_name(product)),
        rx.table.cell(product["purchased"], text_align="right"),
        rx.table.cell(product["assigned"], text_align="right"),
        rx.table.cell(
            _badge(product["available"], color_scheme=rx.cond(product["available"] > 0, "green", "gray"), size="2"),
            text_align="right",
        ),
        rx.table.cell(_manage_button(product), text_align="right"),
        align="center",
    )


def _product_card(product: ProductRow) -> rx.Component:
    return rx.card(
        rx.vstack(
            _product_name(product),
            rx.text(
                product["purchased"],
                " purchased · ",
                product["assigned"],
                " assigned · ",
                product["available"],
                " available",
                size="2",
                color_scheme="gray",
            ),
            _manage_button(product),
            spacing="2",
        ),
        width="100%",
    )


def products_table() -> rx.Component:
    return rx.fragment(
        rx.box(
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        rx.table.column_header_cell("Product"),
                        rx.table.column_header_cell("Purchased", text_align="right"),
                        rx.table.column_header_cell("Assigned", text_align="right"),
                        rx.table.column_header_cell("Available", text_align="right"),
                        rx.table.column_header_cell(
                            rx.el.span(
                                "Actions",
                                class_name="sr-only",
                                style={
                                    "position": "absolute",
                                    "width": "1px",
                                    "height": "1px",
                                    "overflow": "hidden",
                                    "clip": "rect(0 0 0 0)",
                                },
                            )
                        ),
                    )
                ),
                rx.table.body(rx.foreach(S.products, _product_table_row)),
                variant="surface",
                width="100%",
            ),
            display=["none", "none", "block"],
            width="100%",
        ),
        rx.vstack(rx.foreach(S.products, _product_card), display=["flex", "flex", "none"], width="100%", spacing="3"),
    )


def licenses_content() -> rx.Component:
    return rx.vstack(
        _callout(NAME_NOTE, icon="info", color_scheme="gray", variant="surface", size="1", width="100%"),
        rx.cond(
            S.load_error != "",
            _callout(
                rx.flex(
                    rx.text(S.load_error),
                    rx.button("Try again", size="1", on_click=S.retry_load),
                    spacing="3",
                    align="center",
                    wrap="wrap",
                ),
                icon="triangle-alert",
                color_scheme="red",
                width="100%",
                role="alert",
            ),
        ),
        rx.cond(
            S.loading,
            rx.vstack(
                rx.skeleton(height="2.5rem", width="100%"),
                rx.skeleton(height="2.5rem", width="100%"),
                rx.skeleton(height="2.5rem", width="100%"),
                width="100%",
                aria_label="Loading licenses",
                aria_busy="true",
            ),
            rx.cond(
                S.products.length() > 0,
                rx.vstack(products_table(), insight_panel(full=True), spacing="5", width="100%"),
                rx.cond(
                    S.load_error == "",
                    empty_state(
                        "key-round",
                        "No licenses to show",
                        "Your organization doesn't own any user licenses yet.",
                        rx.link("Browse the catalog", href="/my-services/catalog"),
                    ),
                ),
            ),
        ),
        spacing="4",
        width="100%",
    )


# ------------------------------------------------------------------ the Manage License window
def _user_row(row: UserRow) -> rx.Component:
    """One row per user; its pending change ("on", "off" or "") and the submitting flag come in as props, so
    a toggle re-renders the row it changed, not all fifty (the row reads no state itself)."""
    change = rx.cond(S.page_changes.contains(row["id"]), rx.cond(S.page_changes[row["id"]].to(bool), "on", "off"), "")
    return license_user_row(row=row, change=change, submitting=S.submitting)


@rx.memo
def license_user_row(row: rx.Var[UserRow], change: rx.Var[str], submitting: rx.Var[bool]) -> rx.Component:
    changed = change != ""
    licensed = rx.cond(changed, change == "on", row["licensed"])
    return rx.flex(
        rx.vstack(
            rx.text(row["name"], weight="medium", size="2"),
            rx.text(row["email"], size="1", color_scheme="gray", style={"overflowWrap": "anywhere"}),
            rx.flex(
                rx.cond(row["department"] != "", _badge(row["department"], variant="soft", color_scheme="gray")),
                rx.cond(row["no_location"], _badge("No usage location", color_scheme="amber")),
                rx.cond(row["via_group"] != "", _badge("via group " + row["via_group"], color_scheme="violet")),
                rx.cond(
                    changed, _badge(rx.cond(licensed, "Will be assigned", "Will be unassigned"), color_scheme="blue")
                ),
                spacing="1",
                wrap="wrap",
            ),
            spacing="1",
            flex="1",
            min_width="0",
        ),
        rx.switch(
            checked=licensed,
            on_change=lambda on: S.toggle_user(row["id"], on),
            aria_label="License for " + row["name"],
            # Graph cannot remove a license a group assigns: it changes in the group.
            disabled=submitting | (row["via_group"] != ""),
            size="2",
        ),
        align="center",
        spacing="3",
        padding_y="0.6rem",
        padding_x="0.25rem",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
        width="100%",
    )


def _filters() -> rx.Component:
    return rx.flex(
        rx.box(
            rx.el.label(
                "Search users",
                html_for="license-search",
                class_name="rt-Text rt-r-size-1",
                style={"display": "block", "marginBottom": "0.25rem"},
            ),
            rx.input(
                rx.input.slot(rx.icon("search", size=14)),
                id="license-search",
                value=S.search,
                on_change=S.set_search,
                # Every keystroke filters at once (5,000 users in ~2 ms on the server); the input
                # stays the browser's own meanwhile (Reflex's DebounceInput), so nothing jumps.
                debounce_timeout=0,
                placeholder="Name or email",
                width="100%",
            ),
            flex="2",
            min_width="12rem",
        ),
        rx.box(
            rx.text("Show", size="1", id="license-status-label", margin_bottom="0.25rem"),
            rx.select.root(
                rx.select.trigger(aria_labelledby="license-status-label", width="100%"),
                rx.select.content(
                    rx.select.item("All users", value="all"),
                    rx.select.item("Licensed", value="licensed"),
                    rx.select.item("Unlicensed", value="unlicensed"),
                ),
                value=S.status_filter,
                on_change=S.set_status_filter,
            ),
            flex="1",
            min_width="9rem",
        ),
        rx.box(
            rx.text("Department", size="1", id="license-department-label", margin_bottom="0.25rem"),
            rx.select.root(
                rx.select.trigger(aria_labelledby="license-department-label", width="100%"),
                rx.select.content(
                    rx.foreach(
                        S.department_options,
                        lambda d: rx.select.item(rx.cond(d == "all", "All departments", d), value=d),
                    )
                ),
                value=S.department_filter,
                on_change=S.set_department_filter,
            ),
            flex="1",
            min_width="9rem",
        ),
        spacing="3",
        wrap="wrap",
        width="100%",
    )


def _seat_counter() -> rx.Component:
    return rx.flex(
        _badge(
            rx.icon("key-round", size=14),
            rx.text(S.seats_left, rx.cond(S.seats_left == 1, " seat left", " seats left"), id="seats-left"),
            size="3",
            color_scheme=rx.cond(S.seats_left > 0, "green", "amber"),
        ),
        rx.cond(
            S.pending_count > 0,
            rx.text(
                S.pending_count,
                rx.cond(S.pending_count == 1, " unsaved change", " unsaved changes"),
                size="2",
                color_scheme="gray",
            ),
        ),
        spacing="3",
        align="center",
        wrap="wrap",
        aria_live="polite",
    )


def _guard() -> rx.Component:
    return rx.cond(
        S.guard_message != "",
        _callout(
            rx.flex(
                rx.text(S.guard_message),
                rx.link("Buy more licenses", href="/my-services/catalog"),
                spacing="2",
                wrap="wrap",
            ),
            icon="circle-alert",
            color_scheme="amber",
            width="100%",
            role="alert",
        ),
    )


def _failure(failure: FailureRow) -> rx.Component:
    return rx.el.li(rx.text(rx.text.strong(failure["name"]), ": ", failure["reason"], size="2"))


def _results() -> rx.Component:
    return rx.fragment(
        rx.cond(
            S.window_error != "",
            _callout(S.window_error, icon="triangle-alert", color_scheme="red", width="100%", role="alert"),
        ),
        rx.cond(
            S.failures.length() > 0,
            _callout(
                rx.vstack(
                    rx.text(S.failures.length(), " changes could not be made:", weight="medium", size="2"),
                    rx.el.ul(
                        rx.foreach(S.failures, _failure),
                        style={"paddingLeft": "1.25rem", "maxHeight": "8rem", "overflowY": "auto"},
                    ),
                    spacing="1",
                ),
                icon="circle-x",
                color_scheme="red",
                width="100%",
                role="alert",
            ),
        ),
    )


def _reclaim_row(row: ReclaimRow) -> rx.Component:
    return rx.flex(
        rx.vstack(
            rx.text(row["name"], weight="medium", size="2"),
            _badge(row["reason"], color_scheme="amber", variant="soft"),
            spacing="1",
            flex="1",
            min_width="0",
        ),
        rx.flex(
            rx.button(
                "Reassign the seat",
                size="1",
                variant="soft",
                on_click=S.start_reclaim(row["id"], "reassign"),
                aria_label="Reassign the seat of " + row["name"],
                disabled=S.reclaim_busy,
            ),
            rx.button(
                "Schedule a decrease",
                size="1",
                variant="soft",
                color_scheme="gray",
                on_click=S.start_reclaim(row["id"], "decrease"),
                aria_label="Schedule a decrease for the seat of " + row["name"],
                disabled=S.reclaim_busy,
            ),
            spacing="2",
            wrap="wrap",
        ),
        spacing="2",
        align="center",
        wrap="wrap",
        width="100%",
        padding_y="0.35rem",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
    )


def _reclaim_confirm() -> rx.Component:
    reassign = rx.vstack(
        rx.text("Reassign to", size="2", weight="medium", id="reassign-to-label"),
        rx.select.root(
            rx.select.trigger(aria_labelledby="reassign-to-label", placeholder="Choose a user", width="100%"),
            rx.select.content(rx.foreach(S.reassign_options, lambda o: rx.select.item(o["name"], value=o["id"]))),
            value=S.reassign_to,
            on_change=S.set_reassign_to,
        ),
        rx.text(
            rx.cond(
                S.reclaim_holds, "The license is removed from ", "The free seat goes to the user you choose, replacing "
            ),
            S.reclaim_name,
            ".",
            size="1",
            color_scheme="gray",
        ),
        spacing="1",
        width="100%",
    )
    decrease = rx.text(
        rx.cond(
            S.reclaim_holds,
            "The license is removed from " + S.reclaim_name + " now, and ",
            "The seat freed by " + S.reclaim_name + " is removed: ",
        ),
        S.product_name,
        " drops by one seat at its next renewal (On Renewal; cancel it in Future Changes).",
        size="2",
    )
    return rx.cond(
        S.reclaim_id != "",
        rx.card(
            rx.vstack(
                rx.cond(S.reclaim_action == "reassign", reassign, decrease),
                rx.cond(S.reclaim_error != "", rx.text(S.reclaim_error, color_scheme="red", size="2", role="alert")),
                rx.hstack(
                    rx.button(
                        "Cancel",
                        size="1",
                        variant="soft",
                        color_scheme="gray",
                        on_click=S.cancel_reclaim,
                        disabled=S.reclaim_busy,
                    ),
                    rx.button(
                        rx.cond(S.reclaim_action == "reassign", "Reassign", "Schedule decrease"),
                        size="1",
                        on_click=S.confirm_reclaim,
                        loading=S.reclaim_busy,
                    ),
                    spacing="2",
                    justify="end",
                    width="100%",
                ),
                spacing="2",
                width="100%",
            ),
            width="100%",
            role="group",
            aria_label="Confirm reclaim",
        ),
    )


def _reclaim() -> rx.Component:
    """Seats to reclaim: users who just lost their last license, disabled accounts still holding one."""
    return rx.cond(
        S.reclaim_rows.length() > 0,
        rx.box(
            rx.vstack(
                rx.heading("Seats to reclaim", size="3", as_="h3"),
                rx.text(
                    "These users no longer use their seat. Reassign it to someone who needs it, or schedule a "
                    "decrease at renewal.",
                    size="1",
                    color_scheme="gray",
                ),
                rx.box(rx.foreach(S.reclaim_rows, _reclaim_row), width="100%", max_height="12rem", overflow_y="auto"),
                rx.cond(S.reclaim_more > 0, rx.text("and ", S.reclaim_more, " more", size="1", color_scheme="gray")),
                _reclaim_confirm(),
                spacing="2",
                width="100%",
            ),
            width="100%",
            padding="0.75rem",
            border=f"1px solid {rx.color('amber', 6)}",
            border_radius="var(--radius-3)",
            aria_label="Seats to reclaim",
            role="region",
        ),
    )


def _pager() -> rx.Component:
    return rx.flex(
        rx.text(
            S.filtered_count,
            " of ",
            S.total_users,
            " users · page ",
            S.page,
            " of ",
            S.page_count,
            size="1",
            color_scheme="gray",
        ),
        rx.spacer(),
        rx.hstack(
            rx.button(
                rx.icon("chevron-left", size=14),
                "Previous",
                size="1",
                variant="soft",
                disabled=S.page <= 1,
                on_click=S.go_to_page(S.page - 1),
            ),
            rx.button(
                "Next",
                rx.icon("chevron-right", size=14),
                size="1",
                variant="soft",
                disabled=S.page >= S.page_count,
                on_click=S.go_to_page(S.page + 1),
            ),
            spacing="2",
        ),
        spacing="2",
        align="center",
        width="100%",
        wrap="wrap",
    )


def _user_list() -> rx.Component:
    return rx.cond(
        S.window_loading,
        rx.center(
            rx.vstack(rx.spinner(size="3"), rx.text("Loading users from Microsoft…", size="2"), align="center"),
            padding="3rem",
            aria_busy="true",
        ),
        rx.cond(
            S.rows.length() > 0,
            rx.box(
                rx.foreach(S.rows, _user_row),
                width="100%",
                max_height=["36vh", "42vh", "45vh"],
                overflow_y="auto",
                role="group",
                aria_label="Users",
            ),
            rx.center(rx.text("No users match your search.", size="2", color_scheme="gray"), padding="2rem"),
        ),
    )


def _footer() -> rx.Component:
    return rx.vstack(
        rx.cond(
            S.submitting,
            rx.vstack(
                rx.progress(
                    value=S.progress_done,
                    max=rx.cond(S.progress_total > 0, S.progress_total, 1),
                    width="100%",
                    aria_label="Submitting changes",
                ),
                rx.text(
                    "Applying ", S.progress_done, " of ", S.progress_total, " changes…", size="1", aria_live="polite"
                ),
                width="100%",
                spacing="1",
            ),
        ),
        rx.hstack(
            rx.button(
                "Discard changes",
                variant="soft",
                color_scheme="gray",
                on_click=S.discard_changes,
                disabled=(S.pending_count == 0) | S.submitting,
            ),
            rx.button(
                "Submit", on_click=S.submit, loading=S.submitting, disabled=(S.pending_count == 0) | S.window_loading
            ),
            spacing="3",
            justify="end",
            width="100%",
        ),
        width="100%",
        spacing="2",
    )


def manage_window() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.vstack(
                rx.cond(
                    S.success_message != "",
                    _callout(S.success_message, icon="circle-check", color_scheme="green", width="100%", role="status"),
                ),
                rx.flex(
                    rx.dialog.title(rx.text("Manage License: ", S.product_name), margin="0", size="5"),
                    rx.spacer(),
                    rx.dialog.close(
                        rx.icon_button(
                            rx.icon("x", size=18),
                            variant="ghost",
                            color_scheme="gray",
                            aria_label="Close",
                            disabled=S.submitting,
                        )
                    ),
                    align="start",
                    width="100%",
                    spacing="3",
                ),
                rx.dialog.description(
                    "Turn on the toggle to assign a license or turn it off to unassign it, then select Submit.",
                    size="2",
                    color_scheme="gray",
                ),
                _seat_counter(),
                _guard(),
                _filters(),
                _user_list(),
                _pager(),
                _results(),
                _reclaim(),
                _footer(),
                spacing="3",
                width="100%",
            ),
            max_width="48rem",
            width="calc(100vw - 1.5rem)",
            padding=["1rem", "1.5rem"],
        ),
        open=S.window_open,
        on_open_change=S.set_window_open,
    )


def manage_licenses_page() -> rx.Component:
    return portal_page(
        "Manage Licenses",
        rx.cond(
            S.consent_notice != "",
            _callout(
                S.consent_notice,
                icon="info",
                color_scheme=rx.cond(S.consent_notice_kind == "success", "green", "amber"),
                width="100%",
                role="status",
            ),
        ),
        rx.cond(
            S.consent_checked,
            rx.cond(S.consent_granted, licenses_content(), consent_needed()),
            rx.center(rx.spinner(size="3"), padding="3rem", width="100%", aria_label="Loading"),
        ),
        consent_dialog(),
        deny_dialog(),
        manage_window(),
        description="Assign or unassign Microsoft licenses to your users.",
    )


PAGES = [
    Page(
        "/manage-licenses",
        "Manage Licenses",
        manage_licenses_page,
        on_load=[PortalState.guard, LicensesState.load, InsightState.load],
    ),
]
