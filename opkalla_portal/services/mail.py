"""Outbound email: every message is written to the outbox table, and sent by SMTP when configured.

SMTP settings come from the environment: OPKALLA_SMTP_HOST (sending is on when set),
OPKALLA_SMTP_PORT (587), OPKALLA_SMTP_USER, OPKALLA_SMTP_PASSWORD, OPKALLA_SMTP_FROM
(portal@opkalla.com) and OPKALLA_SMTP_STARTTLS (1).
"""

from __future__ import annotations

import logging
import os
import smtplib
from email.message import EmailMessage

from sqlmodel import Session

from opkalla_portal.models import OutboundMail, utcnow

log = logging.getLogger(__name__)


def _send_smtp(to: str, subject: str, body: str) -> None:
    host = os.environ["OPKALLA_SMTP_HOST"]
    message = EmailMessage()
    message["From"] = os.environ.get("OPKALLA_SMTP_FROM", "portal@opkalla.com")
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    with smtplib.SMTP(host, int(os.environ.get("OPKALLA_SMTP_PORT", "587")), timeout=20) as smtp:
        if os.environ.get("OPKALLA_SMTP_STARTTLS", "1") != "0":
            smtp.starttls()
        user = os.environ.get("OPKALLA_SMTP_USER")
        if user:
            smtp.login(user, os.environ.get("OPKALLA_SMTP_PASSWORD", ""))
        smtp.send_message(message)


def queue_mail(db: Session, *, organization_id: int | None, to: str, subject: str, body: str,
               kind: str) -> OutboundMail:
    """Record an email in the outbox and, when SMTP is configured, send it now.

    A failed send is kept with its error (the outbox shows it); it never fails the caller's change.
    """
    mail = OutboundMail(organization_id=organization_id, to_address=to[:255], subject=subject[:300],
                        body_text=body, kind=kind[:40])
    if os.environ.get("OPKALLA_SMTP_HOST", "").strip():
        try:
            _send_smtp(to, subject, body)
            mail.sent_at = utcnow()
        except (OSError, smtplib.SMTPException) as error:
            log.warning("Sending %s mail to %s failed: %s", kind, to, error)
            mail.error = f"{error.__class__.__name__}: {error}"[:1000]
    db.add(mail)
    db.flush()
    return mail
