"""Profile and My Company: every field validated, all-or-nothing saves, audited changes."""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

from opkalla_portal.db import session_scope
from opkalla_portal.models import AuditEvent
from opkalla_portal.services import company, profile
from opkalla_portal.services.access import PermissionDenied
from opkalla_portal.services.validation import ValidationFailed
from tests.users.conftest import DANA, LUIS, PRIYA, identity_for

PROFILE = {
    "first_name": "Dana",
    "last_name": "Whitaker",
    "email": DANA,
    "business_phone": "+1 (612) 555-0143",
    "organization_name": "Lakeside Dental Partners",
    "title": "IT Director",
    "contact_method": "email",
}
COMPANY = {
    "phone": "+1 (612) 555-0100",
    "website": "https://www.lakesidedental.example",
    "email": "office@lakesidedental.example",
    "address_line1": "1200 Lakeside Ave",
    "address_line2": "",
    "city": "Minneapolis",
    "state": "MN",
    "postal_code": "55401",
    "country": "US",
}


def audits(action: str) -> list[AuditEvent]:
    with session_scope() as db:
        return db.exec(select(AuditEvent).where(AuditEvent.action == action)).all()


def test_profile_update_saves_and_audits_before_and_after(seeded):
    dana = identity_for(DANA)
    saved = profile.update_profile(
        dana, {**PROFILE, "title": "  CTO ", "contact_method": "teams", "business_phone": "612-555-0199 ext. 12"}
    )
    assert saved["title"] == "CTO" and profile.get_profile(dana)["contact_method"] == "teams"
    [event] = audits("profile.updated")
    assert json.loads(event.before_json) == {
        "title": "IT Director",
        "contact_method": "email",
        "business_phone": "+1 (612) 555-0143",
    }
    assert json.loads(event.after_json)["title"] == "CTO" and event.actor_user_id == dana.user_id
    profile.update_profile(dana, {**saved})
    assert len(audits("profile.updated")) == 1  # no change, no audit entry


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("first_name", "", "First Name is required."),
        ("first_name", "x" * 101, "First Name must be at most 100 characters."),
        ("last_name", "   ", "Last Name is required."),
        ("email", "", "Email is required."),
        ("email", "dana@", "Enter an email address like name@example.com."),
        ("email", "dana whitaker@example.com", "Enter an email address like name@example.com."),
        ("business_phone", "call me", "Enter a phone number like +1 (612) 555-0100."),
        ("business_phone", "12345", "Enter a phone number like +1 (612) 555-0100."),
        ("business_phone", "+1 612 555 0100 " + "1" * 30, "Enter a phone number like +1 (612) 555-0100."),
        ("organization_name", "x" * 201, "Organization Name must be at most 200 characters."),
        ("title", "x" * 101, "Title must be at most 100 characters."),
        ("contact_method", "pigeon", "Choose how you would like to be contacted."),
        ("email", "luis.ortega@lakesidedental.onmicrosoft.com", "Another portal user already has this email."),
    ],
)
def test_profile_validation_names_the_field_and_changes_nothing(seeded, field, value, message):
    dana = identity_for(DANA)
    before = profile.get_profile(dana)
    with pytest.raises(ValidationFailed) as failed:
        profile.update_profile(dana, {**PROFILE, "title": "Changed too", field: value})
    assert failed.value.errors == {field: message}
    assert profile.get_profile(dana) == before and audits("profile.updated") == []


def test_every_role_has_a_profile(seeded):
    for email in (DANA, LUIS, PRIYA):
        assert profile.get_profile(identity_for(email))["email"] == email
    with pytest.raises(PermissionDenied):
        profile.get_profile(None)


def test_company_submit_saves_and_audits(seeded):
    dana = identity_for(DANA)
    saved = company.update_company(dana, {**COMPANY, "website": "https://lakeside.example/dental", "country": "us"})
    assert saved["website"] == "https://lakeside.example/dental" and saved["country"] == "US"
    assert company.get_company(dana)["name"] == "Lakeside Dental Partners"
    [event] = audits("company.updated")
    assert json.loads(event.after_json)["website"] == "https://lakeside.example/dental"


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("phone", "", "Phone Number is required."),
        ("phone", "555-CALL-NOW", "Enter a phone number like +1 (612) 555-0100."),
        ("website", "lakeside.example", "Enter a web address starting with https://, like https://www.example.com."),
        ("website", "javascript:alert(1)", "Enter a web address starting with https://, like https://www.example.com."),
        ("website", "https://", "Enter a web address starting with https://, like https://www.example.com."),
        ("email", "office", "Enter an email address like name@example.com."),
        ("email", "", "Email Address is required."),
        ("address_line1", "", "Address is required."),
        ("address_line1", "x" * 201, "Address must be at most 200 characters."),
        ("city", "", "City is required."),
        ("postal_code", "", "Postal Code is required."),
        ("postal_code", "55401<script>", "Use letters, digits, spaces or hyphens."),
        ("country", "USA", "Use the two-letter country code, like US."),
    ],
)
def test_company_validation_names_the_field_and_changes_nothing(seeded, field, value, message):
    dana = identity_for(DANA)
    before = company.get_company(dana)
    with pytest.raises(ValidationFailed) as failed:
        company.update_company(dana, {**COMPANY, "city": "Changed too", field: value})
    assert failed.value.errors == {field: message}
    assert company.get_company(dana) == before and audits("company.updated") == []


@pytest.mark.parametrize("email", [LUIS, PRIYA])
def test_company_needs_the_administrator_role(seeded, email):
    with pytest.raises(PermissionDenied):
        company.get_company(identity_for(email))
    with pytest.raises(PermissionDenied):
        company.update_company(identity_for(email), COMPANY)
