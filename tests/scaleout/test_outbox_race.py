"""The outbox sender on PostgreSQL: two processes racing over the same queued mails send each
exactly once (a real SMTP server, aiosmtpd on loopback, counts what it receives)."""

from __future__ import annotations

import os
from collections import Counter

from sqlmodel import select

from tests.mail.conftest import SmtpServer, free_port
from tests.scaleout.conftest import race

MAILS = 40


def test_two_senders_deliver_each_mail_exactly_once(postgres_url, monkeypatch):
    from opkalla_portal.db import migrate, session_scope
    from opkalla_portal.models import OutboundMail

    migrate(postgres_url)
    monkeypatch.setenv("DATABASE_URL", postgres_url)
    run = os.urandom(4).hex()  # other tests may share this database: count this run's mails only
    with session_scope() as db:
        for n in range(MAILS):
            db.add(
                OutboundMail(
                    to_address=f"user{n}@example.com",
                    subject=f"race {run} #{n}",
                    body_text="Hello",
                    kind="test",
                    status="queued",
                )
            )
    smtp = SmtpServer(free_port())
    smtp.start()
    env = {
        **os.environ,
        "DATABASE_URL": postgres_url,
        "OPKALLA_SMTP_HOST": "127.0.0.1",
        "OPKALLA_SMTP_PORT": str(smtp.port),
        "OPKALLA_SMTP_STARTTLS": "0",
    }
    try:
        reports = race("tests.scaleout.outbox_racer", ("sender-a", "sender-b"), env=env)
    finally:
        smtp.stop()
    received = Counter(
        line.split(": ", 1)[1]
        for message in smtp.messages
        for line in message.splitlines()
        if line.startswith("Subject: race ")
    )
    assert sum(r["sent"] for r in reports) == MAILS, reports
    assert len(received) == MAILS and set(received.values()) == {1}, received
    with session_scope() as db:
        rows = db.exec(select(OutboundMail).where(OutboundMail.subject.startswith(f"race {run} "))).all()
    assert len(rows) == MAILS and {(r.status, r.attempts) for r in rows} == {("sent", 1)}
