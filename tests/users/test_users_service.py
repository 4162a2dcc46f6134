"""Manage Users rules: Invite User validation, roles, invitations by email, access, last Administrator."""

from __future__ import annotations

import asyncio
import json
import smtplib

import pytest
from sqlmodel import select

from opkalla_portal.db import session_scope
from opkalla_portal.models import AuditEvent, Invitation, OutboundMail, PortalUser
from opkalla_portal.services import mail as mail_service
from opkalla_portal.services import users
from opkalla_portal.services.access import PermissionDenied
from opkalla_portal.services.sessions import create_session, resolve_session
from opkalla_portal.services.validation import ValidationFailed
from tests.users.conftest import DANA, EMILY, LUIS, MARCUS, PRIYA, TOM, identity_for, user_row

ADMIN_ROLE = "Work365 Administrator"


def audit(action: str) -> list[AuditEvent]:
    with session_scope() as db:
        return db.exec(select(AuditEvent).where(AuditEvent.action == action)).all()


def test_lists_split_active_and_inactive_and_search(seeded):
    lists = users.list_users(identity_for(DANA))
    assert [u["name"] for u in lists["active"]] == ["Dana Whitaker", "Luis Ortega", "Priya Natarajan"]
    assert [u["name"] for u in lists["inactive"]] == ["Emily Chen", "Marcus Reed"]
    assert users.list_users(identity_for(DANA), "  reed ")["inactive"][0]["email"] == MARCUS
    assert users.list_users(identity_for(DANA), "finance")["active"][0]["email"] == PRIYA
    assert users.list_users(identity_for(DANA), "nobody-here") == {"active": [], "inactive": []}


def test_invite_user_creates_an_inactive_account(seeded):
    admin = identity_for(DANA)
    new_id = users.invite_user(admin, " Jordan ", "Blake", "Jordan.Blake@LakesideDental.onmicrosoft.com")
    created = users.get_user(admin, new_id)
    assert created["email"] == "jordan.blake@lakesidedental.onmicrosoft.com" and created["status"] == "Inactive"
    assert created["first_name"] == "Jordan" and created["role"] == ""
    assert any(u["id"] == new_id for u in users.list_users(admin)["inactive"])
    [event] = audit("user.invited")
    assert event.actor_user_id == admin.user_id and json.loads(event.after_json)["status"] == "inactive"


@pytest.mark.parametrize(
    "first, last, email, field, message",
    [
        ("", "Blake", "j@x.com", "first_name", "First Name is required."),
        ("J", "", "j@x.com", "last_name", "Last Name is required."),
        ("J", "B", "", "email", "Office 365 Email ID is required."),
        ("J", "B", "not-an-email", "email", "Enter an email address like name@example.com."),
        ("J", "B", "a@b", "email", "Enter an email address like name@example.com."),
        ("J" * 101, "B", "j@x.com", "first_name", "First Name must be at most 100 characters."),
        (
            "J",
            "B",
            "DANA.WHITAKER@lakesidedental.onmicrosoft.com",
            "email",
            "A portal user with this email already exists.",
        ),
    ],
)
def test_invite_user_validation_changes_nothing(seeded, first, last, email, field, message):
    admin = identity_for(DANA)
    before = users.list_users(admin)
    with pytest.raises(ValidationFailed) as failed:
        users.invite_user(admin, first, last, email)
    assert failed.value.errors[field] == message
    assert users.list_users(admin) == before and audit("user.invited") == []


def test_the_same_email_may_exist_at_another_customer(seeded):
    tom = identity_for(TOM)
    assert users.invite_user(tom, "Dana", "Whitaker", DANA)
    assert [u["email"] for u in users.list_users(tom)["inactive"]] == [DANA]


def test_associate_and_enable_portal_access_send_the_invitation(seeded):
    admin = identity_for(DANA)
    marcus = user_row(MARCUS)
    with pytest.raises(users.NotAllowed, match="Associate a web role first"):
        users.enable_portal_access(admin, marcus.id)
    users.associate_role(admin, marcus.id, "Work365 Finance Manager")
    assert users.enable_portal_access(admin, marcus.id) == MARCUS
    assert user_row(MARCUS).status == "invited"
    [mail] = users.outbox(admin)
    assert mail["to"] == MARCUS and mail["link"].startswith("/register?code=")
    assert "Work365 Finance Manager" in mail["body"] and "7 days" in mail["body"]
    assert [a.action for a in audit("user.role_changed") + audit("user.access_enabled")] == [
        "user.role_changed",
        "user.access_enabled",
    ]
    [changed] = audit("user.role_changed")
    assert json.loads(changed.before_json) == {"web_role": None}
    assert json.loads(changed.after_json) == {"web_role": "Work365 Finance Manager"}
    # Sending again replaces the link: the first one stops working.
    users.enable_portal_access(admin, marcus.id)
    with session_scope() as db:
        invitations = db.exec(select(Invitation).where(Invitation.user_id == marcus.id)).all()
        assert [i.revoked_at is not None for i in invitations] == [True, False]


def test_smtp_delivery_when_configured(seeded, monkeypatch):
    sent = []

    class FakeSMTP:
        def __init__(self, host, port, timeout):
            sent.append(("connect", host, port))

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def starttls(self):
            sent.append(("starttls",))

        def login(self, user, password):
            sent.append(("login", user))

        def send_message(self, message):
            sent.append(("send", message["To"], message["Subject"], message.get_content()))

    monkeypatch.setattr(smtplib, "SMTP", FakeSMTP)
    monkeypatch.setenv("OPKALLA_SMTP_HOST", "smtp.example.com")
    monkeypatch.setenv("OPKALLA_SMTP_USER", "portal")
    admin = identity_for(DANA)
    marcus = user_row(MARCUS)
    users.associate_role(admin, marcus.id, "Work365 Finance Manager")
    users.enable_portal_access(admin, marcus.id)
    assert sent == []  # queued only: sent after the change committed, by the scheduler loop's sender
    assert asyncio.run(mail_service.send_outbox()).sent == 1
    assert sent[0] == ("connect", "smtp.example.com", 587) and sent[2] == ("login", "portal")
    assert sent[3][1] == MARCUS and "/register?code=" in sent[3][3]
    with session_scope() as db:
        mail = db.exec(select(OutboundMail)).one()
        assert mail.sent_at is not None and "code=<sent>" in mail.body_text  # the live code isn't kept


def test_smtp_failure_is_recorded_and_the_invitation_still_made(seeded, monkeypatch):
    def refuse(*args, **kwargs):
        raise ConnectionRefusedError("connection refused")

    monkeypatch.setattr(smtplib, "SMTP", refuse)
    monkeypatch.setenv("OPKALLA_SMTP_HOST", "smtp.example.com")
    admin = identity_for(DANA)
    marcus = user_row(MARCUS)
    users.associate_role(admin, marcus.id, "Work365 Finance Manager")
    users.enable_portal_access(admin, marcus.id)
    assert asyncio.run(mail_service.send_outbox()).retrying == 1
    [mail] = users.outbox(admin)
    assert mail["status"].startswith("Waiting to be sent: ConnectionRefusedError") and mail["link"]


def test_deactivation_revokes_sessions_at_once(seeded):
    admin = identity_for(DANA)
    with session_scope() as db:
        token = create_session(db, db.get(PortalUser, user_row(LUIS).id))
    assert users.deactivate_user(admin, user_row(LUIS).id) >= 1
    with session_scope() as db:
        assert resolve_session(db, token) is None
    assert user_row(LUIS).status == "inactive" and audit("user.access_disabled")


def test_the_last_administrator_cannot_be_removed(seeded):
    dana = identity_for(DANA)
    luis = user_row(LUIS)
    with pytest.raises(users.NotAllowed, match="own access"):
        users.deactivate_user(dana, dana.user_id)
    with pytest.raises(users.NotAllowed, match="last Administrator"):
        users.associate_role(dana, dana.user_id, "Work365 Finance Manager")
    assert user_row(DANA).web_role == ADMIN_ROLE
    # With a second Administrator, either may be changed...
    users.associate_role(dana, luis.id, ADMIN_ROLE)
    users.associate_role(dana, dana.user_id, "Work365 Finance Manager")
    luis_admin = identity_for(LUIS)
    # ...but never the last one, not even by deactivation.
    with pytest.raises(users.NotAllowed, match="last Administrator"):
        users.associate_role(luis_admin, luis.id, "Work365 Finance Manager")
    assert user_row(LUIS).web_role == ADMIN_ROLE


def test_roles_are_exactly_the_guides_three(seeded):
    admin = identity_for(DANA)
    for bad in ("Global Administrator", "", None, 7, ["Work365 Administrator"]):
        with pytest.raises(users.NotAllowed):
            users.associate_role(admin, user_row(EMILY).id, bad)
    assert user_row(EMILY).web_role is None


@pytest.mark.parametrize("email", [LUIS, PRIYA])
def test_non_administrators_are_refused(seeded, email):
    who = identity_for(email)
    marcus = user_row(MARCUS).id
    for call in (
        lambda: users.list_users(who),
        lambda: users.invite_user(who, "a", "b", "a@b.com"),
        lambda: users.get_user(who, marcus),
        lambda: users.associate_role(who, marcus, ADMIN_ROLE),
        lambda: users.enable_portal_access(who, marcus),
        lambda: users.deactivate_user(who, marcus),
        lambda: users.outbox(who),
    ):
        with pytest.raises(PermissionDenied):
            call()
    assert user_row(MARCUS).web_role is None


def test_outbox_is_demo_only(seeded, monkeypatch):
    admin = identity_for(DANA)
    marcus = user_row(MARCUS)
    users.associate_role(admin, marcus.id, ADMIN_ROLE)
    users.enable_portal_access(admin, marcus.id)
    monkeypatch.setenv("OPKALLA_DEMO", "0")
    assert users.outbox(admin) == []
