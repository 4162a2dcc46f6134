"""Sign-in through MSAL against the emulator, sessions, sign-out and registration by invitation."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx
import pytest
from sqlmodel import select
from starlette.applications import Starlette

from opkalla_portal.db import session_scope
from opkalla_portal.models import AuditEvent, Invitation, PortalSession, PortalUser, SignInAttempt, utcnow
from opkalla_portal.routes import auth
from opkalla_portal.services import sign_in, users
from opkalla_portal.services.invitations import MAX_FAILED_CHECKS
from opkalla_portal.services.sessions import SESSION_COOKIE, resolve_session
from tests.users.conftest import DANA, LUIS, MARCUS, identity_for, pick_persona, user_row

pytestmark = pytest.mark.filterwarnings("ignore:response_mode='form_post' is recommended:UserWarning")


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("/my-invoices", "/my-invoices"),
        ("/manage-users/user?id=3", "/manage-users/user?id=3"),
        ("//evil.example/x", "/"),
        ("https://evil.example", "/"),
        ("/\\evil.example", "/"),
        ("evil", "/"),
        (None, "/"),
        (["/x"], "/"),
        ("/auth/sign-out", "/"),
        ("/a\nb", "/"),
    ],
)
def test_next_is_always_a_local_path(raw, expected):
    assert sign_in.safe_next(raw) == expected


async def sign_in_via_microsoft(persona: str, next_path: str = "/") -> sign_in.Outcome:
    started = await sign_in.begin(next_path=next_path)
    return await sign_in.complete(await pick_persona(started.auth_uri, persona), started.browser_key)


async def test_sign_in_returns_to_the_asked_page_with_a_new_session(seeded, ms):
    first = await sign_in_via_microsoft("Dana Whitaker", "/my-invoices?page=2")
    assert first.redirect_to == "/my-invoices?page=2" and first.session_token
    second = await sign_in_via_microsoft("Dana Whitaker")
    assert second.session_token != first.session_token  # a fresh token every sign-in
    with session_scope() as db:
        identity = resolve_session(db, first.session_token)
        assert identity.email == DANA and identity.is_global_admin
        stored = db.exec(select(PortalSession).where(PortalSession.user_id == identity.user_id)).all()
        assert all(first.session_token not in (s.token_hash, s.token_cache) for s in stored)  # only the hash
        assert any(s.token_cache for s in stored)  # MSAL's cache kept server-side for later Graph calls
        events = db.exec(select(AuditEvent).where(AuditEvent.action == "sign_in")).all()
        assert len(events) == 2 and events[0].actor_user_id is None and "dana" in events[0].target


async def test_global_admin_flag_follows_the_id_token(seeded, ms):
    with session_scope() as db:
        luis = db.exec(select(PortalUser).where(PortalUser.email == LUIS)).one()
        luis.is_global_admin = True
        db.add(luis)
    outcome = await sign_in_via_microsoft("Luis Ortega")
    assert outcome.session_token and user_row(LUIS).is_global_admin is False


@pytest.mark.parametrize("persona", ["Unknown Visitor", "Marcus Reed"])
async def test_no_portal_account_gets_the_no_access_page(seeded, ms, persona):
    outcome = await sign_in_via_microsoft(persona)
    assert outcome == sign_in.Outcome("/no-access?reason=no_account")
    with session_scope() as db:
        assert db.exec(select(PortalSession)).all() == []
        refused = db.exec(select(AuditEvent).where(AuditEvent.action == "sign_in.refused")).one()
        tenant_id = json.loads(refused.after_json)["tenant_id"]
        assert refused.after_json == json.dumps({"reason": "no_account", "tenant_id": tenant_id}, sort_keys=True)


async def test_user_without_role_is_refused(seeded, ms):
    with session_scope() as db:
        luis = db.exec(select(PortalUser).where(PortalUser.email == LUIS)).one()
        luis.web_role = None
        db.add(luis)
    assert (await sign_in_via_microsoft("Luis Ortega")).redirect_to == "/no-access?reason=no_role"


async def test_forged_replayed_expired_and_cancelled_sign_ins_are_refused(seeded, ms):
    started = await sign_in.begin(next_path="/")
    params = await pick_persona(started.auth_uri, "Dana Whitaker")
    forged = await sign_in.complete({**params, "state": "forged-state"}, started.browser_key)
    assert forged.redirect_to == "/no-access?reason=attempt_invalid" and forged.session_token is None
    assert (await sign_in.complete(params, started.browser_key)).session_token
    replayed = await sign_in.complete(params, started.browser_key)
    assert replayed.redirect_to == "/no-access?reason=attempt_invalid" and replayed.session_token is None

    started = await sign_in.begin(next_path="/")
    params = await pick_persona(started.auth_uri, "Dana Whitaker")
    with session_scope() as db:
        for attempt in db.exec(select(SignInAttempt).where(SignInAttempt.used_at == None)).all():  # noqa: E711
            attempt.expires_at = utcnow() - timedelta(seconds=1)
            db.add(attempt)
    assert (await sign_in.complete(params, started.browser_key)).redirect_to == "/no-access?reason=attempt_expired"

    started = await sign_in.begin(next_path="/")
    cancelled = await sign_in.complete(await pick_persona(started.auth_uri, None, cancel=True), started.browser_key)
    assert cancelled.redirect_to == "/no-access?reason=cancelled"


@pytest.mark.parametrize("other_browser_key", [None, "", "someone-elses-key", ["x"]])
async def test_a_sign_in_finishes_only_in_the_browser_that_started_it(seeded, ms, other_browser_key):
    """Login CSRF: a callback from the attacker's own sign-in must not sign the victim in."""
    started = await sign_in.begin(next_path="/")
    params = await pick_persona(started.auth_uri, "Tom Becker")
    outcome = await sign_in.complete(params, other_browser_key)
    assert outcome == sign_in.Outcome("/no-access?reason=attempt_invalid")
    assert (await sign_in.complete(params, started.browser_key)).session_token is None  # and it's spent


async def test_session_ends_when_idle_or_when_the_user_is_deactivated(seeded, ms, monkeypatch):
    token = (await sign_in_via_microsoft("Luis Ortega")).session_token
    admin = identity_for(DANA)
    with session_scope() as db:
        assert resolve_session(db, token) is not None
    users.deactivate_user(admin, user_row(LUIS).id)
    with session_scope() as db:
        assert resolve_session(db, token) is None
        assert (
            db.exec(
                select(PortalSession).where(
                    PortalSession.user_id == user_row(LUIS).id, PortalSession.revoked_at.is_(None)
                )
            ).all()
            == []
        )  # noqa: E711

    token = (await sign_in_via_microsoft("Dana Whitaker")).session_token
    with session_scope() as db:
        record = db.exec(
            select(PortalSession).where(PortalSession.user_id == admin.user_id).order_by(PortalSession.id.desc())
        ).first()
        record.last_seen_at = utcnow() - timedelta(minutes=61)
        db.add(record)
    with session_scope() as db:
        assert resolve_session(db, token) is None


async def test_signing_in_as_another_user_in_the_same_browser_ends_the_first_session(seeded, ms):
    """Issue 15: the browser still held Dana's session cookie when Luis signed in."""
    async with _app() as http:
        dana = await _signed_in(http, "Dana Whitaker")
        luis = await _signed_in(http, "Luis Ortega", previous=dana)
    with session_scope() as db:
        assert resolve_session(db, dana) is None
        assert resolve_session(db, luis).display_name == "Luis Ortega"
        ended = db.exec(select(AuditEvent).where(AuditEvent.action == "sign_out")).one()
        assert "dana.whitaker" in ended.target


async def _signed_in(http: httpx.AsyncClient, persona: str, previous: str | None = None) -> str:
    """Sign in through the routes, as a browser holding `previous` as its session cookie."""
    http.cookies.clear()
    start = await http.get("/auth/sign-in")
    params = await pick_persona(start.headers["location"], persona)
    cookies = {"opkalla_sign_in": start.cookies["opkalla_sign_in"]}
    if previous:
        cookies[SESSION_COOKIE] = previous
    http.cookies.clear()
    back = await http.post("/auth/callback", data=params, cookies=cookies)
    assert back.status_code == 303, back.headers
    return back.cookies[SESSION_COOKIE]


async def test_actions_are_recorded_under_the_sign_in_identity_not_the_profile(seeded, ms):
    """Issue 15: renaming yourself in Profile to another user's name made Change Logs, the CSV
    and approval requests show your changes under that name."""
    from opkalla_portal.services import change_logs, profile, subscriptions

    token = (await sign_in_via_microsoft("Luis Ortega")).session_token
    with session_scope() as db:
        luis = resolve_session(db, token)
    disguise = {
        **profile.get_profile(luis),
        "first_name": "Dana",
        "last_name": "Whitaker",
        "email": "luis.not.verified@example.com",
    }
    profile.update_profile(luis, disguise)
    with session_scope() as db:
        acting = resolve_session(db, token)
        assert (acting.display_name, acting.email, acting.user_id) == ("Luis Ortega", LUIS, luis.user_id)
        subscriptions.log_change(
            db,
            acting,
            acting.organization_id,
            "sub-1",
            "Microsoft 365 Business Premium",
            action="quantity_change",
            old_quantity=5,
            new_quantity=6,
            effective_mode="immediately",
            result="succeeded",
            message="",
        )
    csv_text = change_logs.change_log_csv(acting, change_logs.LogFilter())
    assert "Luis Ortega" in csv_text and "Dana Whitaker" not in csv_text
    with session_scope() as db:
        sign_in_audit = db.exec(select(AuditEvent).where(AuditEvent.action == "sign_in")).one()
        assert sign_in_audit.actor_name == "Luis Ortega"


def _app() -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=Starlette(routes=auth.ROUTES)), base_url="http://localhost:3000"
    )


async def test_routes_set_an_httponly_cookie_and_sign_out_revokes_it(seeded, ms):
    async with _app() as http:
        start = await http.get("/auth/sign-in", params={"next": "//evil.example"})
        assert start.status_code == 303
        attempt_cookie = start.headers["set-cookie"]
        assert attempt_cookie.startswith("opkalla_sign_in=") and "HttpOnly" in attempt_cookie
        assert "Path=/auth/callback" in attempt_cookie and "Max-Age=600" in attempt_cookie
        params = await pick_persona(start.headers["location"], "Dana Whitaker")
        back = await http.post("/auth/callback", data=params)
        assert back.status_code == 303 and back.headers["location"] == "/"
        [cookie] = [c for c in back.headers.get_list("set-cookie") if c.startswith(SESSION_COOKIE)]
        assert any(c.startswith('opkalla_sign_in=""') for c in back.headers.get_list("set-cookie"))  # spent
        assert cookie.startswith(f"{SESSION_COOKIE}=") and "HttpOnly" in cookie and "SameSite=lax" in cookie
        assert "Path=/" in cookie and "Secure" not in cookie  # plain-http localhost only
        token = cookie.split(";")[0].split("=", 1)[1]
        out = await http.post(
            "/auth/sign-out", cookies={SESSION_COOKIE: token}, headers={"Origin": "http://localhost:3000"}
        )
        assert out.status_code == 303
        logout = "/oauth2/v2.0/logout?post_logout_redirect_uri=http%3A%2F%2Flocalhost%3A3000%2Fsign-in"
        assert logout in out.headers["location"]
        assert f'{SESSION_COOKIE}=""' in out.headers["set-cookie"] and "Max-Age=0" in out.headers["set-cookie"]
    with session_scope() as db:
        assert resolve_session(db, token) is None
        assert db.exec(select(AuditEvent).where(AuditEvent.action == "sign_out")).one()


# ----------------------------------------------------------------------------- invitations


def _invite_marcus() -> str:
    """Associate a role to Marcus Reed and Enable Portal Access; returns the link's path."""
    admin = identity_for(DANA)
    marcus = user_row(MARCUS)
    users.associate_role(admin, marcus.id, "Work 365 Subscription Manager")
    users.enable_portal_access(admin, marcus.id)
    return users.outbox(admin)[0]["link"]


async def _register(http: httpx.AsyncClient, link: str, persona: str) -> httpx.Response:
    start = await http.get(link)
    assert start.status_code == 303, start.text
    if "/no-access" in start.headers["location"]:
        return start
    return await http.post("/auth/callback", data=await pick_persona(start.headers["location"], persona))


async def test_invitation_link_registers_the_invited_user(seeded, ms):
    link = _invite_marcus()
    assert user_row(MARCUS).status == "invited"
    with session_scope() as db:
        invitation = db.exec(select(Invitation)).one()
        assert link.split("code=")[1] not in invitation.code_hash  # only the hash is stored
        assert invitation.expires_at - invitation.created_at == timedelta(days=7)
    async with _app() as http:
        done = await _register(http, link, "Marcus Reed")
        assert done.headers["location"] == "/"
        assert [c for c in done.headers.get_list("set-cookie") if c.startswith(SESSION_COOKIE + "=")]
        marcus = user_row(MARCUS)
        assert marcus.status == "active" and marcus.entra_object_id and marcus.entra_tenant_id
        again = await _register(http, link, "Marcus Reed")
        assert again.headers["location"] == "/no-access?reason=invitation_used"
    with session_scope() as db:
        assert db.exec(select(AuditEvent).where(AuditEvent.action == "invitation.redeemed")).one()


@pytest.mark.parametrize(
    "persona, reason",
    [
        ("Luis Ortega", "invitation_email_mismatch"),
        ("Unknown Visitor", "invitation_foreign_tenant"),
    ],
)
async def test_wrong_microsoft_account_changes_nothing(seeded, ms, persona, reason):
    link = _invite_marcus()
    async with _app() as http:
        refused = await _register(http, link, persona)
        assert refused.headers["location"] == f"/no-access?reason={reason}"
        assert not [c for c in refused.headers.get_list("set-cookie") if c.startswith(SESSION_COOKIE)]
        marcus = user_row(MARCUS)
        assert marcus.status == "invited" and marcus.entra_object_id is None
        # The link still works for the right account.
        assert (await _register(http, link, "Marcus Reed")).headers["location"] == "/"


async def test_expired_tampered_and_replaced_links(seeded, ms):
    link = _invite_marcus()
    async with _app() as http:
        tampered = await http.get(link[:-3] + "abc")
        assert tampered.headers["location"] == "/no-access?reason=invitation_invalid"
        assert (await http.get("/register")).headers["location"] == "/no-access?reason=invitation_invalid"
        with session_scope() as db:
            invitation = db.exec(select(Invitation)).one()
            invitation.expires_at = utcnow() - timedelta(minutes=1)
            db.add(invitation)
        assert (await http.get(link)).headers["location"] == "/no-access?reason=invitation_expired"
        newer = _invite_marcus()
        assert (await http.get(link)).headers["location"] == "/no-access?reason=invitation_revoked"
        assert "/no-access" not in (await http.get(newer)).headers["location"]
    assert user_row(MARCUS).status == "invited"


async def test_an_expired_link_is_refused_even_after_microsoft(seeded, ms):
    link = _invite_marcus()
    async with _app() as http:
        start = await http.get(link)
        params = await pick_persona(start.headers["location"], "Marcus Reed")
        with session_scope() as db:
            invitation = db.exec(select(Invitation)).one()
            invitation.expires_at = utcnow() - timedelta(minutes=1)
            db.add(invitation)
        refused = await http.post("/auth/callback", data=params)
        assert refused.headers["location"] == "/no-access?reason=invitation_expired"
    assert user_row(MARCUS).status == "invited"


async def test_guessing_codes_is_rate_limited(seeded, ms):
    link = _invite_marcus()
    async with _app() as http:
        for attempt in range(MAX_FAILED_CHECKS):
            guess = await http.get("/register", params={"code": f"guess-{attempt:04d}-xxxxxxxxxxxxxxxxxxxx"})
            assert guess.headers["location"] == "/no-access?reason=invitation_invalid"
        blocked = await http.get(link)
        assert blocked.headers["location"] == "/no-access?reason=too_many_attempts"
