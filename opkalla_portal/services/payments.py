"""Payment profiles: saved payment methods, never a card number.

The browser sends the card straight to the payment processor, which returns a token; the
portal only ever receives the token, confirms it with the processor (services/payment_processor.py)
and stores the brand, last four digits and expiry the processor gives for it.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date

from sqlmodel import select

from opkalla_portal import clock
from opkalla_portal.db import session_scope
from opkalla_portal.models import AuditEvent, PaymentProfile
from opkalla_portal.services import payment_processor
from opkalla_portal.services.access import Capability, Identity, require
from opkalla_portal.services.errors import PortalError

log = logging.getLogger(__name__)
BRANDS = ("Visa", "Mastercard", "American Express", "Discover")
TOKEN_PATTERN = re.compile(r"^tok_[A-Za-z0-9]{24,64}$")
LAST4_PATTERN = re.compile(r"^[0-9]{4}$")
MAX_PROFILES = 10


class PaymentProfileError(PortalError, ValueError):
    """Bad input; `field` names the form field the message belongs next to."""

    code_default = "payment_profile.refused"

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message, field=field)


@dataclass(frozen=True)
class PaymentProfileView:
    id: int
    brand: str
    last4: str
    exp_month: int
    exp_year: int
    holder_name: str
    is_default: bool
    expired: bool


def luhn_valid(number: str) -> bool:
    """The Luhn checksum every card number carries (used by the processor emulator and tests)."""
    digits = [int(c) for c in number if c in "0123456789"]
    if len(digits) < 12 or len(digits) > 19 or len(digits) != len(number):
        return False
    total = 0
    for index, digit in enumerate(reversed(digits)):
        if index % 2 == 1:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def expiry_in_future(month: int, year: int, today: date) -> bool:
    """A card is valid through the last day of its expiry month."""
    return (year, month) >= (today.year, today.month)


def _view(profile: PaymentProfile, today: date) -> PaymentProfileView:
    return PaymentProfileView(
        profile.id or 0,
        profile.brand,
        profile.last4,
        profile.exp_month,
        profile.exp_year,
        profile.holder_name,
        profile.is_default,
        not expiry_in_future(profile.exp_month, profile.exp_year, today),
    )


def list_profiles(identity: Identity, *, today: date | None = None) -> list[PaymentProfileView]:
    """The customer's payment methods, the default first."""
    require(identity, Capability.PAYMENT_PROFILES)
    today = today or clock.today()
    with session_scope() as db:
        rows = db.exec(select(PaymentProfile).where(PaymentProfile.organization_id == identity.organization_id)).all()
        return sorted((_view(row, today) for row in rows), key=lambda p: (not p.is_default, -p.id))


async def add_profile(identity: Identity, tokenized: object, *, today: date | None = None) -> PaymentProfileView:
    """Save a card the processor tokenized; the first profile becomes the default.

    Only the token and the holder's name are taken from the browser: the token is confirmed
    with the processor first, and the brand, last four digits and expiry stored are the
    processor's (a forged event with an invented token saves nothing).
    """
    require(identity, Capability.PAYMENT_PROFILES)
    today = today or clock.today()
    if not isinstance(tokenized, dict):
        raise PaymentProfileError("The card could not be read. Please try again.")
    token = tokenized.get("token")
    holder = tokenized.get("holder_name", "")
    if not isinstance(token, str) or not TOKEN_PATTERN.match(token):
        raise PaymentProfileError("The payment processor's answer was not valid. Please try again.")
    if not isinstance(holder, str) or not holder.strip() or len(holder) > 200:
        raise PaymentProfileError("Enter the name on the card.", "holder_name")
    try:
        card = await payment_processor.confirm_token(token)  # outside any database transaction
    except payment_processor.TokenNotConfirmed as error:
        log.warning("Payment method not added for organization %s: %s", identity.organization_id, error)
        raise PaymentProfileError("The payment processor did not confirm this card. Please enter it again.") from None
    if card.brand not in BRANDS:
        raise PaymentProfileError("This card type is not accepted.", "number")
    if not LAST4_PATTERN.match(card.last4):
        raise PaymentProfileError("The card number is not valid.", "number")
    if not 1 <= card.exp_month <= 12 or not 2000 <= card.exp_year <= 2100:
        raise PaymentProfileError("Enter a valid expiry month and year.", "expiry")
    if not expiry_in_future(card.exp_month, card.exp_year, today):
        raise PaymentProfileError("This card has expired.", "expiry")
    with session_scope() as db:
        existing = db.exec(
            select(PaymentProfile).where(PaymentProfile.organization_id == identity.organization_id)
        ).all()
        if len(existing) >= MAX_PROFILES:
            raise PaymentProfileError(f"You can save up to {MAX_PROFILES} payment methods. Remove one first.")
        if any(p.processor_token == token for p in existing):
            raise PaymentProfileError("This card has already been added.")
        profile = PaymentProfile(
            organization_id=identity.organization_id,
            brand=card.brand,
            last4=card.last4,
            exp_month=card.exp_month,
            exp_year=card.exp_year,
            holder_name=holder.strip(),
            processor_token=token,
            is_default=not existing,
            created_by_id=identity.user_id,
        )
        db.add(profile)
        db.flush()
        _audit(db, identity, "payment_profile.added", profile)
        return _view(profile, today)


def _owned(db, identity: Identity, profile_id: object) -> PaymentProfile:
    if not isinstance(profile_id, int) or isinstance(profile_id, bool):
        raise PaymentProfileError("That payment method was not found.")
    profile = db.exec(
        select(PaymentProfile).where(
            PaymentProfile.id == profile_id, PaymentProfile.organization_id == identity.organization_id
        )
    ).first()
    if profile is None:
        raise PaymentProfileError("That payment method was not found.")
    return profile


def set_default(identity: Identity, profile_id: object) -> None:
    """Make one payment method the default (exactly one default per customer)."""
    require(identity, Capability.PAYMENT_PROFILES)
    with session_scope() as db:
        chosen = _owned(db, identity, profile_id)
        if not expiry_in_future(chosen.exp_month, chosen.exp_year, clock.today()):
            raise PaymentProfileError("An expired card cannot be the default.")
        for profile in db.exec(
            select(PaymentProfile).where(PaymentProfile.organization_id == identity.organization_id)
        ).all():
            profile.is_default = profile.id == chosen.id
            db.add(profile)
        _audit(db, identity, "payment_profile.default", chosen)


def remove_profile(identity: Identity, profile_id: object) -> None:
    """Delete a payment method; if it was the default, the newest remaining one takes over."""
    require(identity, Capability.PAYMENT_PROFILES)
    with session_scope() as db:
        profile = _owned(db, identity, profile_id)
        was_default = profile.is_default
        _audit(db, identity, "payment_profile.removed", profile)
        db.delete(profile)
        db.flush()
        if was_default:
            remaining = db.exec(
                select(PaymentProfile)
                .where(PaymentProfile.organization_id == identity.organization_id)
                .order_by(PaymentProfile.id.desc())
            ).first()
            if remaining is not None:
                remaining.is_default = True
                db.add(remaining)


def _audit(db, identity: Identity, action: str, profile: PaymentProfile) -> None:
    db.add(
        AuditEvent(
            organization_id=identity.organization_id,
            actor_user_id=identity.user_id,
            actor_name=identity.display_name,
            action=action,
            target=f"{profile.brand} ending {profile.last4}",
        )
    )
