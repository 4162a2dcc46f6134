"""The customer's company profile (My Company): read and update, validated, audited.

Only the contact fields are editable here; the name and tenant come from Microsoft.
"""

from __future__ import annotations

from opkalla_portal.db import session_scope
from opkalla_portal.models import Organization, utcnow
from opkalla_portal.services.access import Capability, Identity, require
from opkalla_portal.services.audit import record_audit
from opkalla_portal.services.validation import check_email, check_phone, check_text, check_url, clean, raise_if_any

COMPANY_FIELDS = (
    "phone",
    "website",
    "email",
    "address_line1",
    "address_line2",
    "city",
    "state",
    "postal_code",
    "country",
)


def _values(organization: Organization) -> dict[str, str]:
    return {field: getattr(organization, field) or "" for field in COMPANY_FIELDS}


def get_company(identity: Identity) -> dict[str, str]:
    """The identity's organization: its name plus the editable fields."""
    require(identity, Capability.COMPANY)
    with session_scope() as db:
        organization = db.get(Organization, identity.organization_id)
        return {"name": organization.name, **_values(organization)}


def validate_company(data: object) -> dict[str, str]:
    """The cleaned fields; raises ValidationFailed naming each bad field."""
    data = data if isinstance(data, dict) else {}
    values = {field: clean(data.get(field, "")) for field in COMPANY_FIELDS}
    values["email"] = values["email"].lower()
    values["country"] = values["country"].upper()
    postal = values["postal_code"]
    raise_if_any(
        {
            "phone": check_phone(values["phone"], "Phone Number", required=True),
            "website": check_url(values["website"]),
            "email": check_email(values["email"], "Email Address"),
            "address_line1": check_text(values["address_line1"], "Address", max_length=200, required=True),
            "address_line2": check_text(values["address_line2"], "Address line 2", max_length=200),
            "city": check_text(values["city"], "City", max_length=100, required=True),
            "state": check_text(values["state"], "State / Province", max_length=100),
            "postal_code": check_text(postal, "Postal Code", max_length=20, required=True)
            or ("" if all(c.isalnum() or c in " -" for c in postal) else "Use letters, digits, spaces or hyphens."),
            "country": ""
            if len(values["country"]) == 2 and values["country"].isalpha()
            else "Use the two-letter country code, like US.",
        }
    )
    return values


def update_company(identity: Identity, data: object) -> dict[str, str]:
    """Save the company profile; returns the saved fields. A failed validation changes nothing."""
    require(identity, Capability.COMPANY)
    values = validate_company(data)
    with session_scope() as db:
        organization = db.get(Organization, identity.organization_id)
        before = _values(organization)
        changed = {field: value for field, value in values.items() if before[field] != value}
        if changed:
            for field, value in changed.items():
                setattr(organization, field, value)
            organization.updated_at = utcnow()
            db.add(organization)
            record_audit(
                db,
                identity,
                "company.updated",
                f"organization:{organization.id}",
                {field: before[field] for field in changed},
                changed,
            )
        return {"name": organization.name, **_values(organization)}
