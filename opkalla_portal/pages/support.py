"""Microsoft Support: ask Spark AI; answers stream in, followed by their references."""

import reflex as rx

from opkalla_portal.components.layout import portal_page
from opkalla_portal.components.markdown import safe_markdown
from opkalla_portal.components.page import Page
from opkalla_portal.state.base import PortalState
from opkalla_portal.state.support import ChatMessage, ConversationRow, ReferenceRow, SupportState


def reference_item(ref: ReferenceRow) -> rx.Component:
    return rx.el.li(
        rx.link(ref["title"], href=ref["url"], size="2"),
        value=ref["number"],
    )


def references(refs) -> rx.Component:
    return rx.cond(
        refs.length() > 0,
        rx.box(
            rx.text("References", size="2", weight="bold"),
            rx.el.ol(
                rx.foreach(refs, reference_item),
                style={"paddingLeft": "1.5rem", "margin": "0.25rem 0 0", "listStyleType": "decimal"},
            ),
            border_top=f"1px solid {rx.color('gray', 5)}",
            padding_top="0.5rem",
            margin_top="0.5rem",
            width="100%",
            aria_label="References",
            role="group",
        ),
    )


def bubble(*children, mine) -> rx.Component:
    return rx.box(
        *children,
        background=rx.cond(mine, rx.color("accent", 3), rx.color("gray", 2)),
        border=f"1px solid {rx.color('gray', 5)}",
        border_radius="var(--radius-4)",
        padding="0.75rem 1rem",
        max_width="100%",
        align_self=rx.cond(mine, "flex-end", "flex-start"),
        width=rx.cond(mine, "auto", "100%"),
    )


def message(item: ChatMessage) -> rx.Component:
    mine = item["role"] == "user"
    return bubble(
        rx.text(rx.cond(mine, "You", "Spark AI"), size="1", weight="bold", color_scheme="gray"),
        rx.cond(
            mine,
            rx.text(item["content"], white_space="pre-wrap", size="2"),
            rx.box(safe_markdown(item["content"]), class_name="support-answer"),
        ),
        rx.cond(mine, rx.fragment(), references(item["references"])),
        mine=mine,
    )


def streaming_answer() -> rx.Component:
    return rx.cond(
        SupportState.streaming,
        bubble(
            rx.hstack(
                rx.text("Spark AI", size="1", weight="bold", color_scheme="gray"),
                rx.spinner(size="1"),
                rx.text("Writing…", size="1", color_scheme="gray"),
                align="center",
                spacing="2",
            ),
            rx.box(safe_markdown(SupportState.stream_text), class_name="support-answer"),
            references(SupportState.stream_references),
            mine=False,
        ),
    )


def conversation_item(row: ConversationRow) -> rx.Component:
    current = SupportState.current_id == row["id"]
    return rx.button(
        rx.vstack(
            rx.text(row["title"], size="2", trim="both", text_align="left", class_name="line-clamp-2"),
            rx.text(row["date_label"], size="1", color_scheme="gray"),
            spacing="1",
            align="start",
        ),
        variant=rx.cond(current, "soft", "ghost"),
        color_scheme="gray",
        on_click=SupportState.open_conversation(row["id"]),
        aria_current=rx.cond(current, "true", "false"),
        width="100%",
        height="auto",
        padding="0.5rem",
        margin="0",
        justify="start",
    )


def conversation_list() -> rx.Component:
    return rx.el.nav(
        rx.vstack(
            rx.button(
                rx.icon("plus", size=16),
                "New conversation",
                on_click=SupportState.new_conversation,
                variant="outline",
                width="100%",
            ),
            rx.heading("Your conversations", size="2", as_="h2", color_scheme="gray"),
            rx.cond(
                SupportState.conversations.length() > 0,
                rx.vstack(rx.foreach(SupportState.conversations, conversation_item), spacing="1", width="100%"),
                rx.text("No conversations yet.", size="2", color_scheme="gray"),
            ),
            spacing="3",
            width="100%",
        ),
        aria_label="Your conversations",
        style={"width": "100%"},
    )


def clear_button() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.trigger(
            rx.button(
                rx.icon("trash-2", size=14),
                "Clear conversation",
                variant="outline",
                color_scheme="red",
                size="1",
                disabled=SupportState.streaming,
            ),
        ),
        rx.alert_dialog.content(
            rx.alert_dialog.title("Clear this conversation?"),
            rx.alert_dialog.description("Its questions and answers will be deleted. This cannot be undone."),
            rx.flex(
                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray")),
                rx.alert_dialog.action(
                    rx.button("Clear", color_scheme="red", on_click=SupportState.clear_conversation)
                ),
                spacing="3",
                justify="end",
                margin_top="1rem",
            ),
        ),
    )


def ask_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.el.label(
                "Type your message", html_for="question", style={"fontWeight": "500", "fontSize": "var(--font-size-2)"}
            ),
            rx.text_area(
                id="question",
                name="question",
                value=SupportState.question,
                on_change=SupportState.set_question,
                enter_key_submit=True,
                rows="3",
                width="100%",
                placeholder="e.g. How do I reduce the number of licenses on my subscription?",
                aria_invalid=rx.cond(SupportState.question_error != "", "true", "false"),
                aria_describedby="question-help question-error",
            ),
            rx.cond(
                SupportState.question_error != "",
                rx.text(SupportState.question_error, id="question-error", color_scheme="red", size="2", role="alert"),
            ),
            rx.flex(
                rx.text(
                    SupportState.question_count_label,
                    " · Enter to send, Shift+Enter for a new line",
                    id="question-help",
                    size="1",
                    color=rx.cond(SupportState.question_too_long, rx.color("red", 11), rx.color("gray", 11)),
                ),
                rx.spacer(),
                rx.button(rx.icon("send", size=16), "Send", type="submit", loading=SupportState.streaming),
                align="center",
                width="100%",
                spacing="3",
                wrap="wrap",
            ),
            spacing="2",
            width="100%",
        ),
        on_submit=SupportState.submit,
        reset_on_submit=False,
        width="100%",
    )


def chat() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.hstack(
                rx.icon("sparkles", size=18, color=rx.color("accent", 11)),
                rx.text("Spark AI (by Opkalla)", weight="bold", size="3"),
                align="center",
                spacing="2",
            ),
            rx.spacer(),
            rx.cond(SupportState.current_id != 0, clear_button()),
            width="100%",
            align="center",
        ),
        rx.cond(
            (SupportState.messages.length() == 0) & ~SupportState.streaming,
            rx.callout(
                "Ask about Microsoft 365, Azure, licensing, billing or this portal. Answers come from "
                "Opkalla's help articles and list their sources.",
                icon="info",
                width="100%",
            ),
        ),
        rx.box(
            rx.vstack(rx.foreach(SupportState.messages, message), streaming_answer(), spacing="3", width="100%"),
            role="log",
            aria_live="polite",
            aria_label="Conversation",
            width="100%",
        ),
        rx.cond(
            SupportState.answer_error != "",
            rx.callout(
                rx.flex(
                    rx.text(SupportState.answer_error),
                    rx.button("Try again", size="1", variant="soft", color_scheme="red", on_click=SupportState.retry),
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
        ask_form(),
        spacing="4",
        width="100%",
        min_width="0",
    )


def support_page() -> rx.Component:
    return portal_page(
        "Microsoft Support",
        rx.flex(
            rx.box(conversation_list(), width=rx.breakpoints(initial="100%", md="16rem"), flex_shrink="0"),
            rx.box(chat(), flex="1", min_width="0", width="100%"),
            direction=rx.breakpoints(initial="column-reverse", md="row"),
            spacing="5",
            width="100%",
        ),
        description="Opkalla Microsoft Support powered by Azure AI, also known as Spark AI (by Opkalla).",
    )


PAGES = [
    Page("/support", "Microsoft Support", support_page, on_load=[PortalState.guard, SupportState.load]),
]
