"""MSAL's authorization-code flow, token refresh, app tokens, consent and sign-out against
the emulator's identity provider (served on a real port: MSAL uses requests)."""

from __future__ import annotations

import re
import time
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest

from opkalla_portal.demo import demo_data
from opkalla_portal.microsoft import AuthError
from opkalla_portal.microsoft.emulator.tokens import Signer
from opkalla_portal.microsoft.identity import GLOBAL_ADMIN_ROLE_TEMPLATE_ID, msal_nonce_hash

LAKESIDE = demo_data.CUSTOMERS["lakeside"].tenant_id
REDIRECT = "http://localhost:3000/auth/callback"
# MSAL recommends form_post; the query response mode is still valid and tested here too.
pytestmark = pytest.mark.filterwarnings("ignore:response_mode='form_post' is recommended:UserWarning")


def form_fields(page: str) -> dict[str, str]:
    return {m[0]: unescape(m[1]) for m in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page)}


def persona_buttons(page: str) -> dict[str, str]:
    """Button label (display name) -> persona value."""
    return {
        unescape(label): value
        for value, label in re.findall(r'name="persona" value="([^"]+)" aria-label="([^"]+)"', page)
    }


async def pick(http, flow: dict, name: str) -> dict[str, str]:
    """Open the authorize page, click the persona, return the redirect's query parameters."""
    page = await http.get(flow["auth_uri"])
    assert page.status_code == 200 and "Pick an account" in page.text
    buttons = persona_buttons(page.text)
    response = await http.post(
        flow["auth_uri"].split("?")[0], data={**form_fields(page.text), "persona": buttons[name]}
    )
    assert response.status_code == 302
    location = response.headers["location"]
    assert location.startswith(REDIRECT)
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


async def test_code_flow_with_pkce_and_silent_refresh(emulator_url, clients, http):
    identity = clients.identity
    flow = await identity.begin_sign_in(REDIRECT)
    assert flow["auth_uri"].startswith(emulator_url + "/login/organizations/oauth2/v2.0/authorize?")
    assert "code_challenge=" in flow["auth_uri"] and "nonce=" in flow["auth_uri"]
    page = (await http.get(flow["auth_uri"])).text
    names = set(persona_buttons(page))
    assert {
        "Dana Whitaker",
        "Luis Ortega",
        "Priya Natarajan",
        "Tom Becker",
        "Marcus Reed",
        "Emily Chen",
        "Unknown Visitor",
    } <= names
    params = await pick(http, flow, "Dana Whitaker")
    assert params["state"] == flow["state"]
    result = await identity.complete_sign_in(flow, params)
    dana = next(p for p in demo_data.PERSONAS if p.display_name == "Dana Whitaker")
    assert result.object_id == dana.object_id and result.tenant_id == LAKESIDE
    assert result.email == dana.email and result.claims["name"] == "Dana Whitaker"
    # A new app registration has no groupMembershipClaims: Entra sends no wids, and the
    # portal finds the Global Administrator role through Graph (/me/memberOf).
    assert "wids" not in result.claims and result.is_global_admin
    assert result.claims["nonce"] == msal_nonce_hash(flow["nonce"])
    token, cache = await identity.acquire_token_silent(result.token_cache)
    assert token == result.access_token  # from the cache
    refreshed, cache = await identity.acquire_token_silent(cache, force_refresh=True)
    assert refreshed and refreshed != token  # redeemed the refresh token
    assert (await identity.acquire_token_silent(""))[0] is None  # nobody cached: sign in again
    # Not a global admin:
    flow2 = await identity.begin_sign_in(REDIRECT)
    luis = await identity.complete_sign_in(flow2, await pick(http, flow2, "Luis Ortega"))
    assert not luis.is_global_admin


async def test_form_post_response_mode(emulator_url, clients, http):
    flow = await clients.identity.begin_sign_in(REDIRECT, response_mode="form_post")
    page = await http.get(flow["auth_uri"])
    response = await http.post(
        flow["auth_uri"].split("?")[0],
        data={**form_fields(page.text), "persona": persona_buttons(page.text)["Tom Becker"]},
    )
    assert response.status_code == 200 and f'action="{REDIRECT}"' in response.text
    result = await clients.identity.complete_sign_in(flow, form_fields(response.text))
    assert result.claims["name"] == "Tom Becker" and result.is_global_admin


async def test_code_cannot_be_redeemed_twice_or_with_wrong_state(emulator_url, clients, http):
    identity = clients.identity
    flow = await identity.begin_sign_in(REDIRECT)
    params = await pick(http, flow, "Tom Becker")
    with pytest.raises(AuthError):
        await identity.complete_sign_in(flow, {**params, "state": "forged"})
    flow = await identity.begin_sign_in(REDIRECT)
    params = await pick(http, flow, "Tom Becker")
    await identity.complete_sign_in(flow, params)
    with pytest.raises(AuthError):
        await identity.complete_sign_in(flow, params)


async def test_pkce_verifier_is_checked(emulator_url, clients, http):
    flow = await clients.identity.begin_sign_in(REDIRECT)
    params = await pick(http, flow, "Priya Natarajan")
    response = await http.post(
        f"{emulator_url}/login/organizations/oauth2/v2.0/token",
        data={
            "grant_type": "authorization_code",
            "code": params["code"],
            "redirect_uri": REDIRECT,
            "code_verifier": "not-the-verifier-" + "x" * 30,
            "client_id": clients.settings.client_id,
            "client_secret": clients.settings.client_secret,
        },
    )
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


async def test_tenant_specific_authority_lists_only_its_people(emulator_url, clients, http):
    flow = await clients.identity.begin_sign_in(REDIRECT, tenant=LAKESIDE)
    names = set(persona_buttons((await http.get(flow["auth_uri"])).text))
    assert "Dana Whitaker" in names and "Tom Becker" not in names and "Unknown Visitor" not in names


async def test_tampered_id_tokens_are_refused(emulator_url, clients, store):
    identity = clients.identity
    with store.transaction() as tx:
        signer = Signer.load_or_create(tx)
    config = await identity.discovery()
    now = int(time.time())
    good = {
        "iss": config["issuer"].replace("{tenantid}", LAKESIDE),
        "aud": clients.settings.client_id,
        "tid": LAKESIDE,
        "oid": "x",
        "nonce": "n1",
        "iat": now,
        "exp": now + 600,
    }
    assert (await identity.verify_id_token(signer.sign(good), nonce="n1"))["oid"] == "x"
    token = signer.sign(good)
    head, payload, sig = token.split(".")
    bad_signature = f"{head}.{payload}.{sig[::-1]}"
    for tampered, nonce in [
        (bad_signature, "n1"),
        (signer.sign({**good, "aud": "someone-else"}), "n1"),
        (token, "n2"),
        (signer.sign({**good, "iat": now - 7200, "exp": now - 3600}), "n1"),
        (signer.sign({**good, "iss": "https://evil.example/v2.0"}), "n1"),
    ]:
        with pytest.raises(AuthError):
            await identity.verify_id_token(tampered, nonce=nonce)


async def test_app_token_is_cached(emulator_url, clients):
    first = await clients.identity.app_token(LAKESIDE)
    assert await clients.identity.app_token(LAKESIDE) == first


async def test_admin_consent_grant_and_cancel(fresh, clients, http):
    identity = clients.identity
    url = identity.admin_consent_url(LAKESIDE, REDIRECT, state="s-1")
    assert url.startswith(f"{base_url_of(clients)}/login/{LAKESIDE}/v2.0/adminconsent?")
    page = await http.get(url)
    assert page.status_code == 200
    for text in (
        "User.Read.All",
        "LicenseAssignment.ReadWrite.All",
        "Directory.Read.All",
        "Accept",
        "Cancel",
        "Dana Whitaker",
    ):
        assert text in page.text
    cancel = await http.post(url.split("?")[0], data={**form_fields(page.text), "action": "cancel"})
    q = parse_qs(urlsplit(cancel.headers["location"]).query)
    assert q["error"] == ["access_denied"] and q["state"] == ["s-1"]
    with pytest.raises(AuthError):
        await clients.graph(LAKESIDE).subscribed_skus()
    accept = await http.post(url.split("?")[0], data={**form_fields(page.text), "action": "accept"})
    q = parse_qs(urlsplit(accept.headers["location"]).query)
    assert q["admin_consent"] == ["True"] and q["tenant"] == [LAKESIDE] and q["state"] == ["s-1"]
    assert await clients.graph(LAKESIDE).subscribed_skus()


def base_url_of(clients) -> str:
    return clients.settings.login_url.rsplit("/login", 1)[0]


async def test_sign_out_url_from_discovery(emulator_url, clients, http):
    url = await clients.identity.sign_out_url("http://localhost:3000/")
    assert url.startswith(emulator_url + "/login/organizations/oauth2/v2.0/logout?post_logout_redirect_uri=")
    response = await http.get(url)
    assert response.status_code == 302 and response.headers["location"] == "http://localhost:3000/"


async def test_wids_only_when_the_app_registration_asks_for_it(fresh, clients, http, store):
    """Entra's wids claim is defined per application by the manifest's groupMembershipClaims
    (Microsoft identity platform, ID token claims reference)."""
    import json

    with store.transaction() as tx:
        tx.set_meta("app_registration", json.dumps({"groupMembershipClaims": "DirectoryRole"}))
    try:
        identity = clients.identity
        flow = await identity.begin_sign_in(REDIRECT)
        result = await identity.complete_sign_in(flow, await pick(http, flow, "Dana Whitaker"))
        assert result.claims["wids"] == [GLOBAL_ADMIN_ROLE_TEMPLATE_ID] and result.is_global_admin
        flow = await identity.begin_sign_in(REDIRECT)
        luis = await identity.complete_sign_in(flow, await pick(http, flow, "Luis Ortega"))
        assert luis.claims["wids"] == [] and not luis.is_global_admin
    finally:
        with store.transaction() as tx:
            tx.set_meta("app_registration", "{}")


async def test_member_of_is_delegated_only(fresh, clients, http):
    """/me/memberOf needs a signed-in user (Graph docs: application permissions not supported)."""
    token = await clients.identity.app_token(LAKESIDE)
    r = await http.get(f"{clients.settings.graph_url}/me/memberOf", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code >= 400
