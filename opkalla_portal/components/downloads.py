"""A download offered as a button: a full HTTP request the server answers with the file."""

import reflex as rx


def download_button(label: str, href, icon: str, aria_label=None, variant: str = "soft") -> rx.Component:
    """A plain link (a full HTTP download, not client-side navigation) styled as a button."""
    return rx.button(
        # reload_document: the browser fetches the URL itself (React Router would route it in the page).
        rx.link(
            rx.icon(icon, size=15, aria_hidden="true"),
            label,
            href=href,
            aria_label=aria_label,
            reload_document=True,
            underline="none",
            _hover={},
        ),
        as_child=True,
        variant=variant,
        size="2",
    )
