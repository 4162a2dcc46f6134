"""Notification preferences: per user, default on, only the kinds the role can receive, saved on the server."""

from __future__ import annotations

import pytest

from opkalla_portal.db import session_scope
from opkalla_portal.services import notifications
from tests.services_subscriptions.conftest import DANA, LUIS, PRIYA, identity_for


def test_defaults_are_on_and_follow_the_role(seeded):
    assert notifications.get_preferences(identity_for(DANA)) == {
        "renewal_reminders": True,
        "approval_requests": True,
        "approval_outcomes": True,
        "new_invoices": True,
    }
    assert notifications.get_preferences(identity_for(LUIS)) == {"renewal_reminders": True, "approval_outcomes": True}
    assert notifications.get_preferences(identity_for(PRIYA)) == {
        "renewal_reminders": True,
        "approval_requests": True,
        "new_invoices": True,
    }


def test_a_switch_changes_only_the_users_own_preference(seeded):
    luis = identity_for(LUIS)
    assert notifications.set_preference(luis, "renewal_reminders", False)["renewal_reminders"] is False
    assert notifications.get_preferences(identity_for(DANA))["renewal_reminders"] is True
    with pytest.raises(ValueError):
        notifications.set_preference(luis, "approval_requests", False)  # not a kind his role receives
    with pytest.raises(ValueError):
        notifications.set_preference(luis, "anything", False)
    with session_scope() as db:
        wanted = [u.email for u in notifications.recipients(db, luis.organization_id, "renewal_reminders")]
    assert LUIS not in wanted and DANA in wanted and PRIYA in wanted
    assert notifications.set_preference(luis, "renewal_reminders", True)["renewal_reminders"] is True
