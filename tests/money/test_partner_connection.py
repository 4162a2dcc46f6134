"""The provider's delegated Partner Center connection (services/partner_connection.py), with
the emulator standing in for Entra and Partner Center (sources: tests/microsoft/test_partner_delegated.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from opkalla_portal import clock
from opkalla_portal.db import session_scope
from opkalla_portal.microsoft.partner_delegated import REFRESH_TOKEN_LIFETIME
from opkalla_portal.models import PartnerCenterConnection
from opkalla_portal.services import partner_connection as pcc
from opkalla_portal.services.access import PermissionDenied
from opkalla_portal.services.agreements import accept_agreement, list_agreements
from opkalla_portal.services.errors import MicrosoftFailure
from tests.money.conftest import ADMIN, FINANCE

RILEY = "riley.morgan@opkalla.onmicrosoft.com"


def stored() -> PartnerCenterConnection:
    with session_scope() as db:
        return db.exec(select(PartnerCenterConnection)).one()


async def test_connected_through_the_real_flow_and_the_token_is_encrypted_at_rest(identity_of, partner_connected):
    row = stored()
    status = pcc.connection_status(identity_of(RILEY))
    assert (status.connected, status.healthy, status.mfa, status.connected_by) == (True, True, True, "Riley Morgan")
    assert status.connected_as == RILEY
    assert status.expires_at - status.connected_at == REFRESH_TOKEN_LIFETIME
    plain = pcc.decrypt(row.refresh_token_encrypted)
    assert plain and plain not in row.refresh_token_encrypted
    # nowhere in the database file in clear
    with session_scope() as db:
        dump = "\n".join(
            str(v) for r in db.exec(select(PartnerCenterConnection)).all() for v in r.model_dump().values()
        )
    assert plain not in dump


async def test_each_use_rotates_the_refresh_token_and_slides_the_expiry(identity_of, partner_connected):
    before = stored()
    token = await pcc.app_user_token()
    after = stored()
    assert token
    assert pcc.decrypt(after.refresh_token_encrypted) != pcc.decrypt(before.refresh_token_encrypted)
    assert after.expires_at >= before.expires_at and after.refreshed_at > before.refreshed_at


async def test_a_revoked_connection_needs_reconnecting_and_the_admins_are_warned(identity_of, partner_connected):
    from opkalla_portal.demo import demo_data

    riley = identity_of(RILEY)
    assert pcc.warning_for(riley) == ""
    partner_connected.revoke_refresh_tokens(next(p.object_id for p in demo_data.PERSONAS if p.email == RILEY))
    with pytest.raises(pcc.NotConnected):
        await pcc.app_user_token()
    status = pcc.connection_status(riley)
    assert status.needs_reconnecting and not status.healthy
    assert "needs reconnecting" in pcc.warning_for(riley)
    assert pcc.warning_for(identity_of(ADMIN)) == ""  # a customer's administrator sees nothing
    # the agreement stays pending, with a message
    dana = identity_of(ADMIN)
    [pending] = list_agreements(dana, "pending")
    with pytest.raises(MicrosoftFailure) as refused:  # the service's translation of NotConnected
        await accept_agreement(dana, pending.id)
    assert isinstance(refused.value.__cause__, pcc.NotConnected)
    assert list_agreements(dana, "pending")


async def test_expiry_within_14_days_is_warned(identity_of, partner_connected):
    with session_scope() as db:
        row = db.exec(select(PartnerCenterConnection)).one()
        row.expires_at = clock.now() + timedelta(days=10)
        db.add(row)
    assert "expires on" in pcc.warning_for(identity_of(RILEY))


async def test_only_the_providers_administrators_manage_it(identity_of, microsoft):
    for email in (ADMIN, FINANCE):  # a customer's Administrator, a Finance Manager
        identity = identity_of(email)
        with pytest.raises(PermissionDenied):
            pcc.connection_status(identity)
        with pytest.raises(PermissionDenied):
            await pcc.begin_connect(identity)
        with pytest.raises(PermissionDenied):
            pcc.disconnect(identity)
        with pytest.raises(PermissionDenied):
            await pcc.complete_connect(identity, {"state": "x", "code": "y"})
    assert "not connected" in pcc.warning_for(identity_of(RILEY))


async def test_a_callback_for_someone_elses_or_a_used_attempt_is_refused(identity_of, microsoft):
    riley = identity_of(RILEY)
    auth_uri = await pcc.begin_connect(riley)
    from urllib.parse import parse_qs, urlsplit

    from opkalla_portal.microsoft.emulator.automation import sign_in_as
    from opkalla_portal.services.microsoft_clients import microsoft as clients

    params = await sign_in_as(clients().http, auth_uri, "Riley Morgan")
    assert parse_qs(urlsplit(auth_uri).query)["state"][0] == params["state"]
    assert await pcc.complete_connect(riley, {**params, "state": "forged"}) == "expired"
    assert await pcc.complete_connect(riley, params) == "connected"
    assert await pcc.complete_connect(riley, params) == "expired"  # single use


async def test_a_connection_without_mfa_is_recorded_as_such(identity_of, microsoft):
    from opkalla_portal.microsoft.emulator.automation import sign_in_as
    from opkalla_portal.services.microsoft_clients import microsoft as clients

    riley = identity_of(RILEY)
    params = await sign_in_as(clients().http, await pcc.begin_connect(riley), "Riley Morgan", mfa=False)
    assert await pcc.complete_connect(riley, params) == "no_mfa"
    status = pcc.connection_status(riley)
    assert status.connected and not status.mfa and not status.healthy
    assert "without MFA" in pcc.warning_for(riley)
    with pytest.raises(Exception) as refused:
        await pcc.check_connection()
    assert "MFA" in str(refused.value)


async def test_disconnect_forgets_the_token(identity_of, partner_connected):
    pcc.disconnect(identity_of(RILEY))
    with session_scope() as db:
        assert db.exec(select(PartnerCenterConnection)).all() == []
    with pytest.raises(pcc.NotConnected):
        await pcc.app_user_token()
