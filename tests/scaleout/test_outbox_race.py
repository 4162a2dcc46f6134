"""The outbox sender on PostgreSQL: two processes racing over the same queued mails send each
exactly once (a real SMTP server, aiosmtpd on loopback, counts what it receives)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

from sqlmodel import select

from tests.mail.conftest import SmtpServer, free_port

ROOT = Path(__file__).resolve().parents[2]
MAILS = 40


def test_two_senders_deliver_each_mail_exactly_once(postgres_url, monkeypatch):
    from opkalla_portal.db import migrate, session_scope
    from opkalla_portal.models import OutboundMail

    migrate(postgres_url)
    monkeypatch.setenv("DATABASE_URL", postgres_url)
    run = os.urandom(4).hex()  # other tests may share this database: count this run's mails only
    with session_scope() as db:
        for n in range(MAILS):
            db.add(OutboundMail(to_address=f"user{n}@example.com", subject=f"race {run} #{n}", body_text="Hello",
                                kind="test", status="queued"))
    smtp = SmtpServer(free_port())
    smtp.start()
    env = {**os.environ, "DATABASE_URL": postgres_url, "OPKALLA_SMTP_HOST": "127.0.0.1",
           "OPKALLA_SMTP_PORT": str(smtp.port), "OPKALLA_SMTP_STARTTLS": "0"}
    racers = [subprocess.Popen([sys.executable, "-m", "tests.scaleout.outbox_racer", name], cwd=ROOT, env=env,
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
              for name in ("sender-a", "sender-b")]
    try:
        for racer in racers:
            assert racer.stdout.readline().strip() == "ready"
        for racer in racers:  # both start together
            racer.stdin.write("go\n")
            racer.stdin.flush()
        reports = [json.loads(racer.communicate(timeout=120)[0].strip().splitlines()[-1]) for racer in racers]
    finally:
        for racer in racers:
            if racer.poll() is None:
                racer.kill()
        smtp.stop()
    received = Counter(line.split(": ", 1)[1] for message in smtp.messages for line in message.splitlines()
                       if line.startswith("Subject: race "))
    assert sum(r["sent"] for r in reports) == MAILS, reports
    assert len(received) == MAILS and set(received.values()) == {1}, received
    with session_scope() as db:
        rows = db.exec(select(OutboundMail).where(OutboundMail.subject.startswith(f"race {run} "))).all()
    assert len(rows) == MAILS and {(r.status, r.attempts) for r in rows} == {("sent", 1)}
