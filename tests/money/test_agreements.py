"""My Agreements: lists, acceptance by an Administrator only, recorded once, sent to Partner Center."""

from __future__ import annotations

import pytest

from opkalla_portal.services.access import PermissionDenied
from opkalla_portal.services.agreements import (
    AgreementAlreadyAccepted,
    AgreementNotFound,
    accept_agreement,
    list_agreements,
)
from tests.money.conftest import ADMIN, FINANCE, OTHER_ADMIN, SUBSCRIPTION_MANAGER


def test_accepted_and_pending(identity_of):
    identity = identity_of(FINANCE)
    [accepted] = list_agreements(identity, "accepted")
    assert (accepted.name, accepted.version, accepted.accepted_by_name) == (
        "Microsoft Customer Agreement",
        "2024-04",
        "Dana Whitaker",
    )
    assert accepted.accepted_at is not None
    [pending] = list_agreements(identity, "pending")
    assert pending.version == "2026-10" and pending.accepted_at is None
    with pytest.raises(PermissionDenied):
        list_agreements(identity_of(SUBSCRIPTION_MANAGER))


async def test_finance_manager_cannot_accept(identity_of, microsoft):
    identity = identity_of(FINANCE)
    [pending] = list_agreements(identity, "pending")
    with pytest.raises(PermissionDenied):
        await accept_agreement(identity, pending.id)
    assert list_agreements(identity, "pending")


async def test_administrator_accepts_once_and_microsoft_records_it(identity_of, partner_connected):
    from opkalla_portal.demo import demo_data
    from opkalla_portal.services.partner_connection import partner_center_as_user

    identity = identity_of(ADMIN)
    tenant = demo_data.CUSTOMERS["lakeside"].tenant_id
    before = await partner_center_as_user().list_agreements(tenant)
    [pending] = list_agreements(identity, "pending")
    accepted = await accept_agreement(identity, pending.id)
    assert accepted.status == "accepted"
    assert (accepted.accepted_by_name, accepted.accepted_by_email) == (identity.display_name, identity.email)
    assert accepted.accepted_at is not None
    after = await partner_center_as_user().list_agreements(tenant)
    assert len(after) == len(before) + 1
    assert after[-1]["primaryContact"]["email"] == identity.email if after else False
    with pytest.raises(AgreementAlreadyAccepted):
        await accept_agreement(identity, pending.id)
    assert len(await partner_center_as_user().list_agreements(tenant)) == len(after)
    assert list_agreements(identity, "pending") == []


async def test_microsoft_failure_leaves_it_pending(identity_of, partner_connected):
    microsoft = partner_connected
    from opkalla_portal.services.errors import MicrosoftFailure

    microsoft.set_faults(error_probability=1.0, error_status=503, services=["partner_center"], seed=1)
    identity = identity_of(ADMIN)
    [pending] = list_agreements(identity, "pending")
    try:
        with pytest.raises(MicrosoftFailure):
            await accept_agreement(identity, pending.id)
    finally:
        microsoft.clear_faults()
    assert [a.id for a in list_agreements(identity, "pending")] == [pending.id]


async def test_another_customers_agreement_is_not_found(identity_of, microsoft):
    [pending] = list_agreements(identity_of(ADMIN), "pending")
    with pytest.raises(AgreementNotFound):
        await accept_agreement(identity_of(OTHER_ADMIN), pending.id)
    assert list_agreements(identity_of(ADMIN), "pending")


async def test_without_a_partner_center_connection_it_stays_pending(identity_of, microsoft):
    """App+User only: with no delegated connection nothing is sent and the user is told why."""
    from opkalla_portal.services.errors import MicrosoftFailure
    from opkalla_portal.services.partner_connection import NotConnected

    identity = identity_of(ADMIN)
    [pending] = list_agreements(identity, "pending")
    with pytest.raises(MicrosoftFailure) as refused:
        await accept_agreement(identity, pending.id)
    assert isinstance(refused.value.__cause__, NotConnected)
    assert "Partner Center is not connected" in refused.value.message
    assert [a.id for a in list_agreements(identity, "pending")] == [pending.id]


async def test_the_agreement_is_accepted_with_the_sign_in_email_not_the_profile_email(partner_connected):
    """Issue 15: the Microsoft Customer Agreement was accepted with the unverified Profile email."""
    from sqlmodel import select

    from opkalla_portal.db import session_scope
    from opkalla_portal.demo import demo_data
    from opkalla_portal.models import PortalUser
    from opkalla_portal.services import profile
    from opkalla_portal.services.partner_connection import partner_center_as_user
    from opkalla_portal.services.sessions import create_session, resolve_session

    with session_scope() as db:
        token = create_session(db, db.exec(select(PortalUser).where(PortalUser.email == ADMIN)).one())
    with session_scope() as db:
        identity = resolve_session(db, token)
    profile.update_profile(
        identity,
        {
            **profile.get_profile(identity),
            "first_name": "Mallory",
            "last_name": "X",
            "email": "someone@elsewhere.example",
        },
    )
    with session_scope() as db:
        again = resolve_session(db, token)  # a later request of the same signed-in administrator
    assert (again.display_name, again.email) == ("Dana Whitaker", ADMIN)
    [pending] = list_agreements(again, "pending")
    accepted = await accept_agreement(again, pending.id)
    assert (accepted.accepted_by_name, accepted.accepted_by_email) == ("Dana Whitaker", ADMIN)
    recorded = (await partner_center_as_user().list_agreements(demo_data.CUSTOMERS["lakeside"].tenant_id))[-1]
    assert recorded["primaryContact"]["email"] == ADMIN
    assert (recorded["primaryContact"]["firstName"], recorded["primaryContact"]["lastName"]) == ("Dana", "Whitaker")
