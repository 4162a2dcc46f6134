"""Drive the emulator's sign-in page as a browser would (demo set-up and tests): open the
authorize URL, press the persona's button, return the redirect's query parameters."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import httpx


def _hidden_fields(page: str) -> dict[str, str]:
    return {m[0]: unescape(m[1]) for m in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page)}


def _persona_buttons(page: str) -> dict[str, str]:
    return {
        unescape(label): value
        for value, label in re.findall(r'name="persona" value="([^"]+)" aria-label="([^"]+)"', page)
    }


async def sign_in_as(http: httpx.AsyncClient, auth_uri: str, name: str, *, mfa: bool = True) -> dict[str, str]:
    """Sign in on the emulator's "Pick an account" page as ``name`` (with MFA unless told not)."""
    page = await http.get(auth_uri, follow_redirects=False)
    page.raise_for_status()
    buttons = _persona_buttons(page.text)
    if name not in buttons:
        raise LookupError(f"{name} is not offered on the emulator's sign-in page")
    data = {**_hidden_fields(page.text), "persona": buttons[name]}
    if not mfa:
        data["mfa"] = "skip"
    response = await http.post(auth_uri.split("?")[0], data=data, follow_redirects=False)
    if response.status_code != 302:
        raise RuntimeError(f"the emulator's sign-in answered {response.status_code}")
    return {k: v[0] for k, v in parse_qs(urlsplit(response.headers["location"]).query).items()}
