"""Partner Center App+User (secure application model) against the emulator.

Sources pinned here:
- Partner Center REST reference, "Get confirmation of customer acceptance of Microsoft
  Customer Agreement" and "Confirm customer acceptance of the Microsoft Customer Agreement",
  Prerequisites: "This scenario only supports App+User authentication."
- Partner Center, "Enabling the Secure Application Model framework": consent once with MFA,
  keep the refresh token, redeem it for Partner Center App+User tokens.
- Partner Center MFA for App+User APIs (enforced from 1 April 2026): a token without the MFA
  claim is refused with 401 and error code 900421 (Microsoft's announcement as quoted by
  partners; not in the REST error-code reference: docs/microsoft.md lists it as unverified).
- MSAL for Python 1.39: ClientApplication.acquire_token_by_auth_code_flow /
  acquire_token_by_refresh_token (return a dict with "error" on failure).
The status for an app-only token on an App+User-only call is an emulator ASSUMPTION (403).
"""

from __future__ import annotations

import pytest

from opkalla_portal.microsoft import AuthError
from opkalla_portal.microsoft.partner_delegated import ConnectionBroken, token_claims
from tests.microsoft.conftest import LAKESIDE, RILEY, connect_partner_center


async def test_app_only_tokens_are_refused_on_agreements(fresh, clients):
    with pytest.raises(AuthError) as refused:
        await clients.partner_center.list_agreements(LAKESIDE)
    assert refused.value.status == 403
    with pytest.raises(AuthError):
        await clients.partner_center.confirm_agreement(
            LAKESIDE, first_name="Dana", last_name="Whitaker", email="dana@example.com"
        )
    # app-only calls elsewhere are untouched
    assert await clients.partner_center.list_subscriptions(LAKESIDE)


async def test_the_connect_flow_gives_an_mfa_backed_app_user_token(fresh, clients):
    grant = await connect_partner_center(clients)
    claims = token_claims(grant.access_token)
    assert claims["aud"] == "https://api.partnercenter.microsoft.com"
    assert claims["scp"] == "user_impersonation" and claims["idtyp"] == "user"
    assert "mfa" in claims["amr"] and grant.mfa
    assert grant.user_name == RILEY.display_name and grant.user_principal_name == RILEY.email
    assert grant.refresh_token
    pc = clients.partner_center_as_user(lambda: _const(grant.access_token))
    assert (await pc.list_agreements(LAKESIDE))[0]["type"] == "MicrosoftCustomerAgreement"


async def _const(value: str) -> str:
    return value


async def test_app_user_tokens_without_mfa_are_refused_with_900421(fresh, clients):
    grant = await connect_partner_center(clients, mfa=False)
    assert not grant.mfa and "mfa" not in token_claims(grant.access_token)["amr"]
    pc = clients.partner_center_as_user(lambda: _const(grant.access_token))
    with pytest.raises(AuthError) as refused:
        await pc.list_agreements(LAKESIDE)
    assert refused.value.status == 401 and refused.value.code == "900421"
    # a refreshed token keeps the sign-in's (missing) MFA
    again = await clients.partner_delegated.refresh(grant.refresh_token)
    assert not again.mfa


async def test_refresh_returns_a_new_refresh_token_and_keeps_mfa(fresh, clients):
    grant = await connect_partner_center(clients)
    refreshed = await clients.partner_delegated.refresh(grant.refresh_token)
    assert refreshed.refresh_token and refreshed.refresh_token != grant.refresh_token
    assert refreshed.mfa and refreshed.access_token != grant.access_token


async def test_a_revoked_refresh_token_is_reported_as_broken(fresh, clients, store):
    grant = await connect_partner_center(clients)
    assert store.revoke_refresh_tokens(RILEY.object_id) >= 1
    with pytest.raises(ConnectionBroken) as broken:
        await clients.partner_delegated.refresh(grant.refresh_token)
    assert broken.value.code == "invalid_grant"
