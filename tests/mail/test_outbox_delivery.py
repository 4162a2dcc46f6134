"""Issue 15 item 5: mail never blocks a change and is never lost.

A change that sends mail only writes the outbox row (no SMTP inside its transaction); the
sender (services/mail.send_outbox, run by the scheduler loop) delivers it to a real SMTP server
(aiosmtpd on loopback) after commit, retries with back-off while the server is down, marks it
failed after MAX_ATTEMPTS, and the provider's administrators see failed deliveries.
"""

from __future__ import annotations

import socket
import time
from datetime import timedelta

import pytest
from sqlmodel import select

from opkalla_portal import clock
from opkalla_portal.db import session_scope
from opkalla_portal.models import OutboundMail, PortalUser
from opkalla_portal.services import mail, users
from opkalla_portal.services.access import PermissionDenied
from tests.licenses.conftest import DANA, identity_for

MARCUS = "marcus.reed@lakesidedental.onmicrosoft.com"
RILEY = "riley.morgan@opkalla.com"


def invite_marcus() -> None:
    admin = identity_for(DANA)
    with session_scope() as db:
        marcus = db.exec(select(PortalUser).where(PortalUser.email == MARCUS)).one()
    users.associate_role(admin, marcus.id, "Work365 Finance Manager")
    users.enable_portal_access(admin, marcus.id)


def the_mail() -> OutboundMail:
    with session_scope() as db:
        return db.exec(select(OutboundMail).where(OutboundMail.kind == "invitation")).one()


def riley_email() -> str:
    with session_scope() as db:
        return db.exec(
            select(PortalUser.email).where(PortalUser.first_name == "Riley", PortalUser.last_name == "Morgan")
        ).one()


async def test_a_hanging_smtp_server_does_not_hold_the_change(seeded, smtp):
    # A server that accepts connections and never answers: sending inside the change would wait 20 s.
    with socket.socket() as hanging:
        hanging.bind(("127.0.0.1", smtp.port))
        hanging.listen(8)
        started = time.monotonic()
        invite_marcus()
        assert time.monotonic() - started < 3
    assert the_mail().status == "queued" and the_mail().sent_at is None


async def test_down_then_up_it_is_retried_with_back_off_and_sent_once(seeded, smtp):
    invite_marcus()
    now = clock.now()
    report = await mail.send_outbox("w", now)  # the server is down
    assert (report.sent, report.retrying) == (0, 1)
    queued = the_mail()
    assert queued.status == "queued" and queued.attempts == 1 and "Connection" in queued.error
    assert queued.next_attempt_at == now + mail.BACKOFF_BASE

    smtp.start()
    assert (await mail.send_outbox("w", now + timedelta(seconds=5))).sent == 0  # still backing off
    assert (await mail.send_outbox("w", now + mail.BACKOFF_BASE)).sent == 1
    assert (await mail.send_outbox("w", now + timedelta(hours=1))).sent == 0  # never again
    [message] = smtp.messages
    assert "Subject: Your invitation to the Opkalla Customer Portal" in message and MARCUS in message
    sent = the_mail()
    assert sent.status == "sent" and sent.sent_at is not None and sent.error == ""
    assert "code=<sent>" in sent.body_text  # the live registration code is not kept once delivered


async def test_after_max_attempts_it_is_failed_and_shown_to_the_provider_administrators(seeded, smtp):
    invite_marcus()
    now = clock.now()
    for _ in range(mail.MAX_ATTEMPTS):
        await mail.send_outbox("w", now)
        now += timedelta(hours=1)  # past every back-off
    failed = the_mail()
    assert failed.status == "failed" and failed.attempts == mail.MAX_ATTEMPTS

    riley = identity_for(riley_email())
    [row] = mail.failed_deliveries(riley)
    assert row["to"] == MARCUS and row["organization"] == "Lakeside Dental Partners" and row["attempts"] == 5
    with pytest.raises(PermissionDenied):  # a customer's Administrator sees only their own outbox
        mail.failed_deliveries(identity_for(DANA))

    # Once the server is back, the administrator queues it again and it goes out.
    smtp.start()
    assert mail.retry_delivery(riley, row["id"])
    assert (await mail.send_outbox("w", now)).sent == 1 and len(smtp.messages) == 1
    assert mail.failed_deliveries(riley) == []


def test_the_outbox_page_shows_failed_deliveries_only_to_the_provider_administrators(seeded, smtp):
    from opkalla_portal.state.outbox import OutboxState
    from tests.users.test_handler_authorization import call, make_state, snapshot

    invite_marcus()
    with session_scope() as db:  # the sender gave up on it
        db.exec(OutboundMail.__table__.update().values(status="failed", attempts=5, error="SMTPServerDisconnected"))
    riley = make_state(OutboxState, riley_email())
    call(riley, "load", ())
    assert riley.sees_failed and [row["to"] for row in riley.failed] == [MARCUS]
    assert riley.failed[0]["error"] == "SMTPServerDisconnected"

    dana = make_state(OutboxState, DANA)  # the customer's own Administrator: her outbox, no failed list
    call(dana, "load", ())
    assert not dana.sees_failed and dana.failed == []
    before = snapshot()
    result = call(dana, "retry_delivery", (riley.failed[0]["id"],))
    assert "provider's administrators" in str(result) and snapshot() == before

    call(riley, "retry_delivery", (riley.failed[0]["id"],))
    assert riley.failed == [] and the_mail().status == "queued"


def test_outside_demo_mode_only_the_provider_administrators_get_the_outbox_link(seeded, monkeypatch):
    from opkalla_portal.state.manage_users import UsersState
    from tests.users.test_handler_authorization import call, make_state

    monkeypatch.setenv("OPKALLA_DEMO", "0")
    riley, dana = make_state(UsersState, riley_email()), make_state(UsersState, DANA)
    call(riley, "load", ())
    call(dana, "load", ())
    assert (riley.held_mail_viewer, riley.outbox_link) == (False, True)
    assert (dana.held_mail_viewer, dana.outbox_link) == (False, False)
