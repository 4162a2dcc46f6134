"""Consent for Manage Licenses: approval requests, decisions, and the admin-consent round trip."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
from sqlmodel import select

from opkalla_portal.db import session_scope
from opkalla_portal.models import AdminConsentAttempt, ConsentRequest, Organization, OutboundMail
from opkalla_portal.services import consent
from opkalla_portal.services.access import PermissionDenied
from tests.licenses.conftest import DANA, LUIS, PRIYA, TOM, identity_for

URL = "http://portal.test"
WHY = "I manage onboarding and need to give new hires their Microsoft 365 licenses."


def _request(email=LUIS, text=WHY):
    with session_scope() as db:
        return consent.request_approval(db, identity_for(email), text, portal_url=URL).id


def test_lakeside_has_not_consented_and_only_dana_can_grant(portal):
    with session_scope() as db:
        luis = consent.consent_status(db, identity_for(LUIS))
        dana = consent.consent_status(db, identity_for(DANA))
        tom = consent.consent_status(db, identity_for(TOM))
    assert (luis.granted, luis.can_grant, luis.my_request_status) == (False, False, "")
    assert (dana.granted, dana.can_grant) == (False, True)
    assert tom.granted is True


def test_finance_manager_cannot_see_consent(portal):
    with session_scope() as db, pytest.raises(PermissionDenied):
        consent.consent_status(db, identity_for(PRIYA))


@pytest.mark.parametrize("text", ["", "   ", "short", None, 42, "x" * 2001])
def test_justification_is_validated_and_nothing_is_stored(portal, text):
    with session_scope() as db, pytest.raises(consent.ConsentError):
        consent.request_approval(db, identity_for(LUIS), text, portal_url=URL)
    with session_scope() as db:
        assert db.exec(select(ConsentRequest)).all() == []
        assert db.exec(select(OutboundMail)).all() == []


def test_request_emails_the_global_admin_and_shows_as_pending(portal):
    _request()
    with session_scope() as db:
        mails = db.exec(select(OutboundMail)).all()
        assert [(m.to_address, m.kind) for m in mails] == [(DANA, "consent_request")]
        assert WHY in mails[0].body_text and f"{URL}/manage-licenses" in mails[0].body_text
        assert consent.consent_status(db, identity_for(LUIS)).my_request_status == "pending"
        pending = consent.consent_status(db, identity_for(DANA)).pending_requests
        assert [(p.requester_name, p.justification) for p in pending] == [("Luis Ortega", WHY)]
    with session_scope() as db, pytest.raises(consent.ConsentError, match="already waiting"):
        consent.request_approval(db, identity_for(LUIS), WHY, portal_url=URL)


def test_deny_needs_a_reason_and_tells_the_requester(portal):
    request_id = _request()
    with session_scope() as db, pytest.raises(consent.ConsentError):
        consent.deny_request(db, identity_for(DANA), request_id, "  ")
    with session_scope() as db:
        consent.deny_request(db, identity_for(DANA), request_id, "We will assign licenses centrally.")
    with session_scope() as db:
        status = consent.consent_status(db, identity_for(LUIS))
        assert (status.my_request_status, status.my_request_reason) == ("denied", "We will assign licenses centrally.")
        mail = db.exec(select(OutboundMail).where(OutboundMail.kind == "consent_decision")).one()
        assert mail.to_address == LUIS and "centrally" in mail.body_text
        assert consent.consent_status(db, identity_for(DANA)).pending_requests == ()
    with session_scope() as db, pytest.raises(consent.ConsentError, match="already been decided"):
        consent.deny_request(db, identity_for(DANA), request_id, "again")


def test_only_the_organizations_global_admin_decides(portal):
    request_id = _request()
    with session_scope() as db, pytest.raises(PermissionDenied):
        consent.deny_request(db, identity_for(LUIS), request_id, "no")
    # Tom is Bayview's Global Admin: Lakeside's request id means nothing in his organization.
    with session_scope() as db, pytest.raises(consent.ConsentError, match="could not be found"):
        consent.deny_request(db, identity_for(TOM), request_id, "no")
    with session_scope() as db, pytest.raises(consent.ConsentError):
        consent.deny_request(db, identity_for(DANA), "1; drop table", "no")


async def _begin(email=DANA) -> str:
    with session_scope() as db:
        url = consent.begin_admin_consent(db, identity_for(email), public_url=URL)
    return url


def _state(url: str) -> str:
    query = parse_qs(urlparse(url).query)
    assert query["redirect_uri"] == [URL + consent.CONSENT_CALLBACK_PATH]
    return query["state"][0]


def _complete(state, tenant, user_email=DANA, **params):
    with session_scope() as db:
        return consent.complete_admin_consent(
            db,
            state=state,
            params={"admin_consent": "True", "tenant": tenant, "state": state, **params},
            signed_in_user_id=identity_for(user_email).user_id,
        )


async def test_non_admin_cannot_start_admin_consent(portal, ms):
    with pytest.raises(PermissionDenied):
        await _begin(LUIS)


async def test_admin_consent_round_trip_records_consent_once_and_approves_requests(portal, ms):
    _request()
    url = await _begin()
    assert "/adminconsent?" in url and "client_id=" in url
    state = _state(url)
    lakeside = identity_for(DANA).tenant_id
    outcome = _complete(state, lakeside)
    assert outcome.result == "granted"
    with session_scope() as db:
        assert db.get(Organization, identity_for(DANA).organization_id).consent_granted_at is not None
        assert consent.consent_status(db, identity_for(LUIS)).my_request_status == "approved"
        approved = db.exec(select(OutboundMail).where(OutboundMail.kind == "consent_decision")).one()
        assert approved.to_address == LUIS and "approved" in approved.subject
        # Only the hash of the state is kept.
        assert db.exec(select(AdminConsentAttempt)).one().state_hash != state
    assert _complete(state, lakeside).result == "invalid"  # single use


async def test_callback_refuses_unknown_state_other_user_other_tenant_and_decline(portal, ms):
    lakeside = identity_for(DANA).tenant_id
    assert _complete("forged", lakeside).result == "invalid"
    assert _complete(None, lakeside).result == "invalid"
    assert _complete(_state(await _begin()), lakeside, user_email=LUIS).result == "invalid"
    assert _complete(_state(await _begin()), identity_for(TOM).tenant_id).result == "invalid"
    declined = _complete(_state(await _begin()), lakeside, admin_consent="", error="access_denied")
    assert declined.result == "declined"
    with session_scope() as db:
        assert db.get(Organization, identity_for(DANA).organization_id).consent_granted_at is None
