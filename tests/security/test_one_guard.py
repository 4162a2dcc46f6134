"""Issue 18: every handler a browser can call goes through the one guard (state/base.guarded).

The handlers are found from the app like the rest of the security harness, so a new page's
state is checked as soon as it is registered.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.security import harness
from tests.security.test_state_handlers import HARMLESS

STATE_DIR = Path(__file__).resolve().parents[2] / "opkalla_portal" / "state"
# Handlers that are the guard itself or serve a public page, and why.
NOT_GUARDED = {
    ("PageLoadState", "load"): "runs PortalState.guard (sign-in, the route's capability) before any page handler",
    ("SignInState", "load"): "the sign-in page is public; it shows only the caller's own state",
}


def _handlers():
    for state_cls in harness.portal_state_classes():
        for name, handler in harness.own_handlers(state_cls).items():
            key = (state_cls.__name__, name)
            if name == "setvar" or key in HARMLESS or key in NOT_GUARDED:
                continue
            yield state_cls, name, handler


HANDLERS = list(_handlers())


@pytest.mark.parametrize(
    ("state_cls", "name", "handler"), HANDLERS, ids=[f"{cls.__name__}.{name}" for cls, name, _ in HANDLERS]
)
def test_every_handler_is_guarded(state_cls, name, handler):
    assert hasattr(handler.fn, "__guarded__"), f"{state_cls.__name__}.{name} is not declared with @guarded"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


@pytest.mark.parametrize("path", sorted(STATE_DIR.glob("*.py")), ids=lambda p: p.name)
def test_no_handler_catches_permission_denied_and_state_never_imports_microsoft(path):
    source = path.read_text()
    if path.name != "base.py":
        assert "except PermissionDenied" not in source, f"{path.name} catches PermissionDenied by hand"
    microsoft = sorted(m for m in _imports(path) if m.startswith("opkalla_portal.microsoft"))
    assert not microsoft, f"{path.name} imports {microsoft}"
