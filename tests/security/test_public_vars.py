"""No secret, token or whole database row in any public (browser-visible) state var."""

from __future__ import annotations

import typing

from tests.security import harness

# Name parts that mean a secret; a public var named with one is sent to every browser.
SECRET_PARTS = {
    "token",
    "tokens",
    "secret",
    "password",
    "passwd",
    "verifier",
    "flow",
    "cache",
    "card",
    "pan",
    "cvv",
    "cvc",
    "iban",
    "credential",
    "credentials",
    "apikey",
    "hint",
    "cookie",
    "session",
    "nonce",
    "hash",
}
# "key" alone is innocent (sort_key); with one of these before it, it is a secret.
SECRET_KEY_PREFIXES = (
    "api_key",
    "secret_key",
    "private_key",
    "access_key",
    "signing_key",
    "encryption_key",
    "client_key",
)


def test_no_public_var_is_named_like_a_secret():
    offenders = []
    for state_cls in harness.portal_state_classes():
        for name in harness.public_var_names(state_cls):
            if set(name.lower().split("_")) & SECRET_PARTS or any(p in name.lower() for p in SECRET_KEY_PREFIXES):
                offenders.append(f"{state_cls.__name__}.{name}")
    assert offenders == [], f"make these _backend vars: {offenders}"


def test_no_public_var_holds_a_database_row():
    """A table object published whole sends every column (hashes, caches) to the browser."""
    from sqlmodel import SQLModel

    offenders = []
    for state_cls in harness.portal_state_classes():
        for name in harness.public_var_names(state_cls):
            var = state_cls.base_vars[name] if name in state_cls.base_vars else state_cls.computed_vars[name]
            annotation = getattr(var, "_var_type", None)
            for part in (annotation, *typing.get_args(annotation)):
                if (
                    isinstance(part, type)
                    and issubclass(part, SQLModel)
                    and getattr(part, "__table__", None) is not None
                ):
                    offenders.append(f"{state_cls.__name__}.{name}: {part.__name__}")
    assert offenders == []


def test_the_walk_sees_the_portal_states():
    names = {cls.__name__ for cls in harness.portal_state_classes()}
    assert "PortalState" in names
