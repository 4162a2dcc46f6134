"""Pieces shared by My Invoices and an invoice's detail page."""

import reflex as rx


def invoice_status_badge(status) -> rx.Component:
    """Open, Overdue or Paid, coloured so each reads at a glance (the text says it too)."""
    return rx.badge(
        status,
        color_scheme=rx.match(status, ("Paid", "green"), ("Overdue", "red"), "blue"),
        variant="soft",
        size="2",
        high_contrast=True,
    )
