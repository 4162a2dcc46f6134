"""Outbound email: written to the outbox in the caller's transaction, sent after it, in the background.

`queue_mail` only adds an OutboundMail row, so a change that sends mail commits at once and an
SMTP outage delays no one. The scheduler loop calls `send_outbox`, which claims due messages with
a lease (a conditional UPDATE checked by rowcount, as the scheduler claims Future Changes: works
alike on SQLite and PostgreSQL, so two workers never send the same message), sends each by SMTP
outside any transaction, and marks it sent. A failed send is retried with exponential back-off
and marked failed after MAX_ATTEMPTS; the provider's administrators see failed deliveries on the
Outbox page. A worker that dies between the SMTP answer and marking the row leaves an expired
lease: the message is sent again (SMTP has no idempotency key); its Message-ID stays the same,
so mail systems can tell it is one message.

SMTP settings come from the environment: OPKALLA_SMTP_HOST (sending is on when set),
OPKALLA_SMTP_PORT (587), OPKALLA_SMTP_USER, OPKALLA_SMTP_PASSWORD, OPKALLA_SMTP_FROM
(portal@opkalla.com) and OPKALLA_SMTP_STARTTLS (1). Without a host, mails stay in the outbox
with status "held" (demo mode shows them on the Outbox page).
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import smtplib
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage

from sqlalchemy import and_, or_, update
from sqlmodel import Session, select

from opkalla_portal import clock
from opkalla_portal.db import session_scope
from opkalla_portal.models import Organization, OutboundMail, utcnow
from opkalla_portal.roles import ROLE_ADMINISTRATOR
from opkalla_portal.services.access import Identity, PermissionDenied

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
BACKOFF_BASE = timedelta(seconds=30)  # 30 s, 1 min, 2 min, 4 min between attempts
LEASE = timedelta(minutes=2)  # longer than one SMTP attempt (SMTP_TIMEOUT)
SMTP_TIMEOUT = 20
BATCH = 50


# Delivered invitations need not keep their live registration code in the database in clear.
_SECRET_AFTER_SEND = {"invitation": (re.compile(r"(/register\?code=)[A-Za-z0-9_-]+"), r"\1<sent>")}


def smtp_configured() -> bool:
    return bool(os.environ.get("OPKALLA_SMTP_HOST", "").strip())


def queue_mail(
    db: Session, *, organization_id: int | None, to: str, subject: str, body: str, kind: str
) -> OutboundMail:
    """Record an email in the outbox, in the caller's transaction; the sender sends it after commit."""
    mail = OutboundMail(
        organization_id=organization_id,
        to_address=to[:255],
        subject=subject[:300],
        body_text=body,
        kind=kind[:40],
        status="queued" if smtp_configured() else "held",
    )
    db.add(mail)
    db.flush()
    return mail


def _send_smtp(mail_id: int, to: str, subject: str, body: str) -> None:
    host = os.environ["OPKALLA_SMTP_HOST"]
    sender = os.environ.get("OPKALLA_SMTP_FROM", "portal@opkalla.com")
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    # The same id on every attempt: a message sent twice after a crash is recognisably one.
    message["Message-ID"] = f"<outbox-{mail_id}@{sender.partition('@')[2] or 'opkalla.com'}>"
    message.set_content(body)
    with smtplib.SMTP(host, int(os.environ.get("OPKALLA_SMTP_PORT", "587")), timeout=SMTP_TIMEOUT) as smtp:
        if os.environ.get("OPKALLA_SMTP_STARTTLS", "1") != "0":
            smtp.starttls()
        user = os.environ.get("OPKALLA_SMTP_USER")
        if user:
            smtp.login(user, os.environ.get("OPKALLA_SMTP_PASSWORD", ""))
        smtp.send_message(message)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _claimable(now: datetime):
    return or_(
        and_(
            OutboundMail.status == "queued",
            or_(OutboundMail.next_attempt_at.is_(None), OutboundMail.next_attempt_at <= now),
        ),
        and_(OutboundMail.status == "sending", OutboundMail.lease_expires_at < now),
    )


def claim_due(worker: str, now: datetime, limit: int = BATCH) -> list[OutboundMail]:
    """Claim due messages for `worker`, one conditional UPDATE each: only one worker wins a row."""
    with session_scope() as db:
        candidates = db.exec(
            select(OutboundMail.id).where(_claimable(now)).order_by(OutboundMail.id).limit(limit)
        ).all()
    claimed = []
    for mail_id in candidates:
        with session_scope() as db:
            won = db.exec(
                update(OutboundMail)
                .where(OutboundMail.id == mail_id, _claimable(now))
                .values(
                    status="sending",
                    lease_owner=worker,
                    lease_expires_at=now + LEASE,
                    attempts=OutboundMail.attempts + 1,
                )
            ).rowcount
            if won == 1:
                claimed.append(db.get(OutboundMail, mail_id))
    return claimed


@dataclass
class SendReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0


def _settle(mail: OutboundMail, worker: str, **values) -> None:
    """Record the outcome if this worker still holds the lease."""
    with session_scope() as db:
        db.exec(
            update(OutboundMail)
            .where(OutboundMail.id == mail.id, OutboundMail.status == "sending", OutboundMail.lease_owner == worker)
            .values(lease_owner=None, lease_expires_at=None, **values)
        )


async def send_outbox(worker: str | None = None, now: datetime | None = None) -> SendReport:
    """Send every due message once; the scheduler loop calls this every tick."""
    report = SendReport()
    if not smtp_configured():
        return report
    worker = worker or worker_name()
    now = now or clock.now()
    for mail in claim_due(worker, now):
        try:
            await asyncio.to_thread(_send_smtp, mail.id, mail.to_address, mail.subject, mail.body_text)
        except (OSError, smtplib.SMTPException) as error:
            reason = f"{error.__class__.__name__}: {error}"[:1000]
            log.warning("Sending %s mail %s failed (attempt %s): %s", mail.kind, mail.id, mail.attempts, reason)
            permanent = isinstance(error, smtplib.SMTPRecipientsRefused)  # a bad address: retrying won't help
            if permanent or mail.attempts >= MAX_ATTEMPTS:
                _settle(mail, worker, status="failed", error=reason)
                report.failed += 1
            else:
                _settle(
                    mail,
                    worker,
                    status="queued",
                    error=reason,
                    next_attempt_at=now + BACKOFF_BASE * (2 ** (mail.attempts - 1)),
                )
                report.retrying += 1
        else:
            redact = _SECRET_AFTER_SEND.get(mail.kind)
            body = redact[0].sub(redact[1], mail.body_text) if redact else mail.body_text
            _settle(mail, worker, status="sent", sent_at=utcnow(), error="", body_text=body)
            report.sent += 1
    return report


# ----------------------------------------------------------- failed deliveries
def is_provider_admin(identity: Identity | None) -> bool:
    return identity is not None and identity.is_provider and identity.role == ROLE_ADMINISTRATOR


def require_provider_admin(identity: Identity | None) -> Identity:
    """Failed deliveries of every organization are for the provider's administrators only."""
    if not is_provider_admin(identity):
        raise PermissionDenied("Only the provider's administrators can see failed deliveries.")
    return identity


def failed_deliveries(identity: Identity, limit: int = 50) -> list[dict]:
    """The newest messages that could not be delivered, of every organization."""
    require_provider_admin(identity)
    with session_scope() as db:
        rows = db.exec(
            select(OutboundMail, Organization.name)
            .join(Organization, Organization.id == OutboundMail.organization_id, isouter=True)
            .where(OutboundMail.status == "failed")
            .order_by(OutboundMail.id.desc())
            .limit(limit)
        ).all()
    return [
        {
            "id": mail.id,
            "to": mail.to_address,
            "subject": mail.subject,
            "organization": name or "—",
            "attempts": mail.attempts,
            "error": mail.error,
            "created": mail.created_at.strftime("%b %d, %Y %H:%M UTC"),
        }
        for mail, name in rows
    ]


def retry_delivery(identity: Identity, mail_id: object) -> bool:
    """Queue a failed message again (after the SMTP problem was fixed); False if it is not failed."""
    require_provider_admin(identity)
    try:
        mail_id = int(str(mail_id))
    except ValueError:
        return False
    with session_scope() as db:
        return (
            db.exec(
                update(OutboundMail)
                .where(OutboundMail.id == mail_id, OutboundMail.status == "failed")
                .values(status="queued", attempts=0, next_attempt_at=None)
            ).rowcount
            == 1
        )
