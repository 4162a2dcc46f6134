"""Field validation shared by the user, profile and company forms.

Each check returns an error message (shown beside the field) or "" when the value is fine.
Form arguments arrive raw from the browser, so every value is coerced to a stripped string first.
"""

from __future__ import annotations

import re
from typing import Any

from opkalla_portal.services.errors import PortalError

EMAIL_PATTERN = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)
PHONE_PATTERN = re.compile(r"^\+?[0-9 ().-]+(?:\s*(?:x|ext\.?)\s*[0-9]{1,6})?$", re.IGNORECASE)
URL_PATTERN = re.compile(
    r"^https?://[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9-]{1,63})+"
    r"(?::[0-9]{1,5})?(?:/[^\s]*)?$",
    re.IGNORECASE,
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def is_ascii_digits(value: object) -> bool:
    """Only 0-9, at least one. (`str.isdigit()` also accepts "²" and "٣", which int() refuses
    or reads as another number; AltGr+2 on a German keyboard types "²".)"""
    return isinstance(value, str) and value.isascii() and value.isdigit()


class ValidationFailed(PortalError):
    """Some fields are invalid; `errors` maps each field to its message. Nothing was saved."""

    code_default = "invalid"

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("Please correct the highlighted fields.", field=next(iter(errors), None))
        self.errors = errors


def clean(value: Any) -> str:
    """A browser-supplied value as a stripped single-line string ('' for anything not text)."""
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        return ""
    return _CONTROL.sub("", str(value)).strip()


def check_text(value: str, label: str, *, max_length: int, required: bool = False) -> str:
    if not value:
        return f"{label} is required." if required else ""
    if len(value) > max_length:
        return f"{label} must be at most {max_length} characters."
    return ""


def check_email(value: str, label: str = "Email", *, required: bool = True) -> str:
    if not value:
        return f"{label} is required." if required else ""
    if len(value) > 254 or not EMAIL_PATTERN.match(value):
        return "Enter an email address like name@example.com."
    return ""


def check_phone(value: str, label: str = "Phone", *, required: bool = False) -> str:
    if not value:
        return f"{label} is required." if required else ""
    digits = sum(is_ascii_digits(character) for character in value)
    if len(value) > 40 or not PHONE_PATTERN.match(value) or not 7 <= digits <= 20:
        return "Enter a phone number like +1 (612) 555-0100."
    return ""


def check_url(value: str, label: str = "Website", *, required: bool = False) -> str:
    if not value:
        return f"{label} is required." if required else ""
    if len(value) > 255 or not URL_PATTERN.match(value):
        return "Enter a web address starting with https://, like https://www.example.com."
    return ""


def raise_if_any(errors: dict[str, str]) -> None:
    """Raise ValidationFailed with the non-empty messages, if there are any."""
    errors = {field: message for field, message in errors.items() if message}
    if errors:
        raise ValidationFailed(errors)
