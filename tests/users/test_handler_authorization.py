"""Every event handler of the sign-in, users, profile and company states, called as each role,
signed out, and as another customer's administrator: refused on the server, nothing changed.

The browser can call any public handler with any arguments, so these call them directly.
"""

from __future__ import annotations

import json

import pytest
import reflex as rx
from reflex.istate.data import RouterData
from sqlmodel import select

from opkalla_portal.db import session_scope
from opkalla_portal.models import AuditEvent, Invitation, Organization, OutboundMail, PortalSession, PortalUser
from opkalla_portal.services.access import Capability
from opkalla_portal.services.sessions import SESSION_COOKIE, create_session
from opkalla_portal.state.base import PortalState
from opkalla_portal.state.manage_users import UsersState
from opkalla_portal.state.my_company import CompanyState
from opkalla_portal.state.outbox import OutboxState
from opkalla_portal.state.profile import ProfileState
from opkalla_portal.state.sign_in import SignInState
from opkalla_portal.state.user_edit import UserEditState
from tests.users.conftest import DANA, LUIS, MARCUS, PRIYA, TOM, user_row

GOOD_PROFILE = {
    "first_name": "X",
    "last_name": "Y",
    "email": "x.y@example.com",
    "business_phone": "",
    "organization_name": "",
    "title": "",
    "contact_method": "email",
}
GOOD_COMPANY = {
    "phone": "+1 612 555 0100",
    "website": "",
    "email": "a@example.com",
    "address_line1": "1 Main",
    "address_line2": "",
    "city": "X",
    "state": "",
    "postal_code": "55401",
    "country": "US",
}

# Every handler the browser can call on these states, the capability it needs, and arguments.
HANDLERS = {
    (UsersState, "load"): (Capability.USERS, ()),
    (UsersState, "set_search"): (Capability.USERS, ("Marcus",)),
    (UsersState, "set_invite_open"): (Capability.USERS, (True,)),
    (UsersState, "submit_invite"): (
        Capability.USERS,
        ({"first_name": "Eve", "last_name": "Intruder", "email": "eve@lakesidedental.onmicrosoft.com"},),
    ),
    (UserEditState, "load"): (Capability.USERS, ()),
    (UserEditState, "set_selected_role"): (Capability.USERS, ("Work365 Administrator",)),
    (UserEditState, "associate"): (Capability.USERS, ()),
    (UserEditState, "enable_portal_access"): (Capability.USERS, ()),
    (UserEditState, "deactivate"): (Capability.USERS, ()),
    (OutboxState, "load"): (Capability.USERS, ()),
    (OutboxState, "retry_delivery"): (Capability.USERS, (1,)),
    (ProfileState, "load"): (Capability.PROFILE, ()),
    (ProfileState, "save"): (Capability.PROFILE, (GOOD_PROFILE,)),
    (CompanyState, "load"): (Capability.COMPANY, ()),
    (CompanyState, "save"): (Capability.COMPANY, (GOOD_COMPANY,)),
}


def test_the_table_lists_every_handler():
    """A new handler without an authorization test fails here."""
    for state in (UsersState, UserEditState, OutboxState, ProfileState, CompanyState):
        own = {
            name
            for name in state.event_handlers
            if name not in PortalState.event_handlers
            and not name.startswith("set_")
            or name in ("set_search", "set_invite_open", "set_selected_role")
        }
        own -= {
            name
            for name in state.event_handlers
            if name.startswith("set_") and name not in ("set_search", "set_invite_open", "set_selected_role")
        }
        assert own == {name for (cls, name) in HANDLERS if cls is state}, state.__name__


def make_state(state_cls, email: str | None, *, query: dict | None = None, preset: dict | None = None):
    """The state as a browser tab of `email` (None: signed out) would have it on the server."""
    cookie = ""
    if email:
        with session_scope() as db:
            user = db.exec(select(PortalUser).where(PortalUser.email == email)).one()
            cookie = f"{SESSION_COOKIE}={create_session(db, user)}"
    root = rx.State(_reflex_internal_init=True)
    query = query or {}
    as_path = "/manage-users/user" + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")
    root.router = RouterData.from_router_data(
        {"headers": {"cookie": cookie}, "pathname": "/manage-users/user", "asPath": as_path, "query": query}
    )
    state = root.get_substate(state_cls.get_full_name().split(".")[1:])
    for name, value in (preset or {}).items():
        setattr(state, name, value)
    return state


def snapshot() -> str:
    """Everything these handlers could change, as one comparable string."""
    with session_scope() as db:
        rows = []
        for model in (PortalUser, Organization, Invitation, OutboundMail, AuditEvent):
            rows += [
                repr(sorted(row.model_dump(exclude={"last_sign_in_at"}).items()))
                for row in db.exec(select(model)).all()
            ]
        rows += [
            repr((s.user_id, s.revoked_at)) for s in db.exec(select(PortalSession)).all() if s.revoked_at is not None
        ]
        return json.dumps(rows, default=str)


def call(state, name: str, args: tuple):
    return getattr(type(state), name).fn(state, *args)


def public_vars(state) -> dict:
    return {
        name: getattr(state, name)
        for name in type(state).base_vars
        if not name.startswith("_") and name not in ("router", "is_hydrated")
    }


ROLES = {"signed out": None, "Subscription Manager": LUIS, "Finance Manager": PRIYA}


# Every signed-in role has its own Profile, so Profile handlers are refused only when signed out.
REFUSALS = [
    (who, state_cls, name)
    for who in ROLES
    for (state_cls, name), (capability, _) in HANDLERS.items()
    if who == "signed out" or capability is not Capability.PROFILE
]


@pytest.mark.parametrize("who, state_cls, name", REFUSALS)
def test_refused_without_the_capability(seeded, who, state_cls, name):
    capability, args = HANDLERS[(state_cls, name)]
    email = ROLES[who]
    marcus = user_row(MARCUS)
    state = make_state(
        state_cls,
        email,
        query={"id": str(marcus.id)},
        preset={"user_id": marcus.id, "selected_role": "Work365 Administrator"} if state_cls is UserEditState else None,
    )
    before_db, before_vars = snapshot(), public_vars(state)
    result = call(state, name, args)
    # The one guard answers every handler alike, the page's load included.
    expected = "Your session has ended" if email is None else "Your role does not allow this"
    assert expected in str(result)
    if email is None:
        assert "/sign-in" in str(result)
    assert snapshot() == before_db
    assert public_vars(state) == before_vars  # nothing loaded, nothing shown


@pytest.mark.parametrize("name", ["load", "associate", "enable_portal_access", "deactivate"])
def test_another_customers_admin_cannot_touch_lakeside_users(seeded, name):
    """Tom Becker administers Bayview; Lakeside's user ids are 'not found' to him."""
    for target in (MARCUS, LUIS):
        user = user_row(target)
        state = make_state(
            UserEditState,
            TOM,
            query={"id": str(user.id)},
            preset={"user_id": user.id, "selected_role": "Work365 Administrator"},
        )
        before = snapshot()
        result = call(state, name, ())
        assert snapshot() == before
        if name == "load":
            assert state.not_found and state.email == "" and state.name == ""
        else:
            assert "not found" in str(result)
            assert state.email == "" and state.name == ""


def test_another_customers_admin_sees_only_his_own_lists_outbox_and_company(seeded):
    dana = make_state(UserEditState, DANA, query={"id": str(user_row(MARCUS).id)})
    call(dana, "load", ())
    call(dana, "set_selected_role", ("Work365 Finance Manager",))
    call(dana, "associate", ())
    call(dana, "enable_portal_access", ())  # an invitation email in Lakeside's outbox

    users = make_state(UsersState, TOM)
    call(users, "load", ())
    emails = {row["email"] for row in users.active_users + users.inactive_users}
    assert emails == {TOM}
    outbox = make_state(OutboxState, TOM)
    call(outbox, "load", ())
    assert outbox.mails == []
    company = make_state(CompanyState, TOM)
    call(company, "load", ())
    assert company.company_name == "Bayview Logistics"
    before = snapshot()
    call(company, "save", (GOOD_COMPANY,))
    with session_scope() as db:
        lakeside = db.exec(select(Organization).where(Organization.name == "Lakeside Dental Partners")).one()
        assert lakeside.email != GOOD_COMPANY["email"]
    assert snapshot() != before  # Bayview's own profile did change


def test_profile_save_changes_only_the_callers_own_profile(seeded):
    tom_id, dana_id = user_row(TOM).id, user_row(DANA).id
    state = make_state(ProfileState, TOM)
    call(state, "save", ({**GOOD_PROFILE, "id": dana_id, "user_id": dana_id},))
    with session_scope() as db:
        assert db.get(PortalUser, tom_id).first_name == "X"
        assert db.get(PortalUser, dana_id).first_name == "Dana"


@pytest.mark.parametrize("bad", [None, "", "abc", "-1", "0", "99999", ["1"], {"id": 1}, "1 OR 1=1", True])
def test_user_edit_with_bad_ids_shows_not_found(seeded, bad):
    state = make_state(
        UserEditState,
        DANA,
        query={"id": bad} if isinstance(bad, str) else None,
        preset={"user_id": bad} if not isinstance(bad, str) and bad is not None else None,
    )
    before = snapshot()
    if isinstance(bad, str) or bad is None:
        call(state, "load", ())
        assert state.not_found
    else:
        result = call(state, "deactivate", ())
        assert "not found" in str(result).lower() or "select a user" in str(result).lower()
    assert snapshot() == before


@pytest.mark.parametrize("payload", [None, "x", 3, ["a"], {"first_name": ["x"], "last_name": {"a": 1}, "email": 5}])
def test_malformed_form_payloads_are_validation_errors(seeded, payload):
    before = snapshot()
    users = make_state(UsersState, DANA)
    call(users, "submit_invite", (payload,))
    assert users.invite_errors["first_name"] and users.invite_errors["email"]
    profile = make_state(ProfileState, DANA)
    call(profile, "save", (payload,))
    assert profile.errors["first_name"]
    company = make_state(CompanyState, DANA)
    call(company, "save", (payload,))
    assert company.errors["phone"]
    assert snapshot() == before


def test_set_selected_role_ignores_unknown_roles(seeded):
    state = make_state(UserEditState, DANA)
    call(state, "set_selected_role", ("Global Emperor",))
    assert state.selected_role == ""


def test_sign_in_page_sends_signed_in_users_on_and_never_off_site(seeded):
    state = make_state(SignInState, None)
    state.router = RouterData.from_router_data(
        {"headers": {}, "pathname": "/sign-in", "asPath": "/sign-in?next=//evil.example", "query": {}}
    )
    assert call(state, "load", ()) is None
    assert state.sign_in_href == "/auth/sign-in?next=%2F"
