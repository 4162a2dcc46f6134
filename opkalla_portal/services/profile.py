"""The signed-in user's own profile (Profile page): read and update, validated, audited."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import select

from opkalla_portal.db import session_scope
from opkalla_portal.models import PortalUser, utcnow
from opkalla_portal.services.access import Capability, Identity, require
from opkalla_portal.services.audit import record_audit
from opkalla_portal.services.validation import check_email, check_phone, check_text, clean, raise_if_any

CONTACT_METHODS = {"email": "Email", "phone": "Phone", "teams": "Microsoft Teams"}
PROFILE_FIELDS = ("first_name", "last_name", "email", "business_phone", "organization_name", "title", "contact_method")


def _values(user: PortalUser) -> dict[str, str]:
    return {field: getattr(user, field) or "" for field in PROFILE_FIELDS}


def get_profile(identity: Identity) -> dict[str, str]:
    """The identity's own profile fields."""
    require(identity, Capability.PROFILE)
    with session_scope() as db:
        user = db.get(PortalUser, identity.user_id)
        return _values(user)


def validate_profile(data: object) -> dict[str, str]:
    """The cleaned fields; raises ValidationFailed naming each bad field."""
    data = data if isinstance(data, dict) else {}
    values = {field: clean(data.get(field, "")) for field in PROFILE_FIELDS}
    values["email"] = values["email"].lower()
    raise_if_any(
        {
            "first_name": check_text(values["first_name"], "First Name", max_length=100, required=True),
            "last_name": check_text(values["last_name"], "Last Name", max_length=100, required=True),
            "email": check_email(values["email"]),
            "business_phone": check_phone(values["business_phone"], "Business Phone"),
            "organization_name": check_text(values["organization_name"], "Organization Name", max_length=200),
            "title": check_text(values["title"], "Title", max_length=100),
            "contact_method": (
                "" if values["contact_method"] in CONTACT_METHODS else "Choose how you would like to be contacted."
            ),
        }
    )
    return values


def update_profile(identity: Identity, data: object) -> dict[str, str]:
    """Save the identity's own profile; returns the saved fields. A failed validation changes nothing."""
    require(identity, Capability.PROFILE)
    values = validate_profile(data)
    with session_scope() as db:
        taken = db.exec(
            select(PortalUser.id).where(
                PortalUser.organization_id == identity.organization_id,
                func.lower(PortalUser.email) == values["email"],
                PortalUser.id != identity.user_id,
            )
        ).first()
        raise_if_any({"email": "Another portal user already has this email." if taken else ""})
        user = db.get(PortalUser, identity.user_id)
        before = _values(user)
        changed = {field: value for field, value in values.items() if before[field] != value}
        if changed:
            for field, value in changed.items():
                setattr(user, field, value)
            user.updated_at = utcnow()
            db.add(user)
            record_audit(
                db, identity, "profile.updated", f"user:{user.id}", {field: before[field] for field in changed}, changed
            )
        return _values(user)
