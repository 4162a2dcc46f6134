"""Fixtures: the seeded portal and emulator (from tests/licenses), and Lakeside with consent granted."""

from __future__ import annotations

import pytest

from tests.licenses.conftest import DANA, LUIS, PRIYA, TOM, identity_for, ms, portal  # noqa: F401
from tests.microsoft.conftest import clients, emulator_url, fresh, server, settings, store  # noqa: F401


def grant_consent(store, email: str = DANA) -> None:
    """Consent as if the Global Admin had accepted Microsoft's page: recorded by both sides."""
    from opkalla_portal.db import session_scope
    from opkalla_portal.demo import demo_data
    from opkalla_portal.models import Organization, utcnow

    identity = identity_for(email)
    with store.transaction() as tx:
        tx.put(
            "consent",
            identity.tenant_id,
            {
                "tenant": identity.tenant_id,
                "clientId": demo_data.DEMO_APP_CLIENT_ID,
                "scope": "https://graph.microsoft.com/.default",
                "grantedAt": "now",
            },
        )
    with session_scope() as db:
        organization = db.get(Organization, identity.organization_id)
        organization.consent_granted_at = utcnow()
        db.add(organization)


@pytest.fixture
def lakeside(portal, ms, store):  # noqa: F811
    """Lakeside Dental Partners with consent granted; Dana's identity."""
    grant_consent(store)
    return identity_for(DANA)
