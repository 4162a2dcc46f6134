"""Property-based tests: no input makes the portal's input handling raise a server error.

Inputs come raw from browsers, invitation links and the environment. The properties:
- settings: any environment gives Settings or one ConfigError, never a traceback;
- routes, cookies, session tokens: any text is handled (None/refused), never an error,
  and reading a session never writes for an unknown token;
- every validator the services expose (public functions named validate_*/parse_*/
  normalize_*/clean_*/safe_* in opkalla_portal.services.*, found automatically as features
  merge): any value of its parameter type gives a result or a user-facing error
  (ValueError or an exception class of the portal's own), never a crash.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opkalla_portal.services.access import MENU, Capability, capability_for_route
from opkalla_portal.services.sessions import token_from_cookie_header
from opkalla_portal.settings import ConfigError, load_settings

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
ENV_NAMES = ["DATABASE_URL", "PORT", "OPKALLA_DEMO", "REDIS_URL", "OPKALLA_PUBLIC_URL", "OPKALLA_SESSION_IDLE_MINUTES"]
# Text a hostile browser would send: control characters, markup, SQL, very long strings.
hostile_text = st.one_of(
    st.text(),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=2000),
    st.sampled_from(
        [
            "",
            " ",
            "0",
            "-1",
            "1e309",
            "NaN",
            "∞",
            "١٢٣",
            "<script>alert(1)</script>",
            "' OR 1=1 --",
            "../../etc/passwd",
            "%00",
            "\x00",
            "a" * 10_000,
            "😀" * 50,
            "https://evil.example/",
            "javascript:alert(1)",
            "mailto:a@b",
            "+1 (555) 010-0000",
        ]
    ),
)


@FAST
@given(st.dictionaries(st.sampled_from(ENV_NAMES), hostile_text.filter(lambda v: "\x00" not in v), max_size=6))
def test_any_environment_gives_settings_or_one_config_error(values):
    with pytest.MonkeyPatch.context() as patch:
        for name in ENV_NAMES:
            patch.delenv(name, raising=False)
        for name, value in values.items():
            patch.setenv(name, value)
        try:
            result = load_settings()
        except ConfigError as error:
            assert "\n" not in str(error).strip() or len(str(error)) < 500
        else:
            assert result.database_url.startswith(("sqlite:///", "postgresql+psycopg://"))
            assert result.session_idle_minutes >= 1


@FAST
@given(hostile_text)
def test_any_route_maps_to_a_known_capability_or_none(route):
    capability = capability_for_route(route)
    assert capability is None or isinstance(capability, Capability)
    normalized = "/" + route.strip("/")
    if capability is not None and capability not in (Capability.HOME, Capability.PROFILE):
        # Only a real menu prefix grants a capability: no traversal or encoding tricks.
        assert any(
            normalized == item.route or normalized.startswith(item.route + "/")
            for item in MENU
            if item.capability == capability
        )


@FAST
@given(hostile_text)
def test_any_cookie_header_is_parsed_without_error(header):
    token = token_from_cookie_header(header)
    assert token is None or isinstance(token, str)


def test_unknown_session_tokens_resolve_to_nobody_and_write_nothing(seeded):
    from opkalla_portal.db import session_scope
    from opkalla_portal.services.sessions import resolve_session
    from tests.security.harness import database_digest

    before = database_digest()

    @FAST
    @given(hostile_text)
    def check(token):
        with session_scope() as db:
            assert resolve_session(db, token) is None

    check()
    assert database_digest() == before


# --- every validator the services expose ----------------------------------------------

VALIDATOR_PREFIXES = ("validate_", "parse_", "normalize_", "normalise_", "clean_", "safe_")


def _strategy_for(annotation) -> st.SearchStrategy:
    text = str(annotation)
    if annotation is int or text == "int":
        return st.one_of(st.integers(), st.integers(-10, 100_000))
    if annotation is Decimal or "Decimal" in text:
        return st.decimals(allow_nan=True, allow_infinity=True)
    if annotation is date or text == "date":
        return st.dates()
    if annotation is float or text == "float":
        return st.floats()
    return hostile_text


def _validators() -> list:
    import opkalla_portal.services as services

    found = []
    for module_info in pkgutil.iter_modules(services.__path__):
        module = importlib.import_module(f"opkalla_portal.services.{module_info.name}")
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if function.__module__ != module.__name__ or not name.startswith(VALIDATOR_PREFIXES):
                continue
            required = [
                p
                for p in inspect.signature(function).parameters.values()
                if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
            ]
            if len(required) == 1:
                found.append(pytest.param(function, required[0].annotation, id=f"{module_info.name}.{name}"))
    return found


def _user_facing(error: Exception) -> bool:
    """A validation error the UI can show: ValueError, or one of the portal's own errors."""
    if isinstance(error, (TypeError, AttributeError, KeyError, IndexError, ZeroDivisionError, RecursionError)):
        return False
    return isinstance(error, ValueError) or type(error).__module__.startswith("opkalla_portal")


VALIDATORS = _validators()


@pytest.mark.skipif(not VALIDATORS, reason="no service validators yet (features add them)")
@pytest.mark.parametrize(("function", "annotation"), VALIDATORS)
def test_validators_answer_any_input_with_a_result_or_a_message(function, annotation):
    @FAST
    @given(_strategy_for(annotation))
    def check(value):
        try:
            function(value)
        except Exception as error:  # noqa: BLE001 - the property is about which errors
            assert _user_facing(error), f"{function.__name__}({value!r}) raised {error!r}"
            assert str(error), f"{function.__name__}({value!r}) raised an error without a message"

    check()
