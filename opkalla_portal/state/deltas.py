"""Send the browser only what changed.

Reflex sends every var a handler assigns, even when the value is the same: a page that
republishes its lists on each visit re-sends them whole. Handlers that publish computed
values assign through `assign_changed`.
"""

from __future__ import annotations

from typing import Any


def assign_changed(state: Any, **values: Any) -> None:
    """Set each var whose value differs; leave the others unassigned (and unsent)."""
    for name, value in values.items():
        if getattr(state, name) != value:
            setattr(state, name, value)
