"""How a page module declares its routes; the app module registers them all."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import reflex as rx


@dataclass(frozen=True)
class Page:
    route: str
    title: str
    component: Callable[[], rx.Component]
    on_load: Any = None
    # Extra (route, title) pairs served by the same component, e.g. a detail route.
    aliases: tuple[tuple[str, str], ...] = field(default=())
