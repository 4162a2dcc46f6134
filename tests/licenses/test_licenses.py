"""Manage Licenses services against the emulator: products, the seat guard, bulk changes, audit."""

from __future__ import annotations

import pytest
from sqlmodel import select

from opkalla_portal.db import session_scope
from opkalla_portal.microsoft.emulator.large_tenant import generate_large_tenant
from opkalla_portal.models import LicenseChange, Organization, PortalUser
from opkalla_portal.services import licenses
from opkalla_portal.services.access import PermissionDenied
from opkalla_portal.services.licenses import ConsentRequired, DirectoryUser, LicenseError
from tests.licenses.conftest import DANA, PRIYA, TOM, admin_of_large_tenant, identity_for

BUSINESS_PREMIUM = "f245ecc8-75af-4f8e-b61f-27d8114de5f3"


async def test_no_graph_call_before_consent(portal, ms, store):
    store.set_faults(error_probability=1.0, error_status=503)  # any Graph call would fail loudly
    with pytest.raises(ConsentRequired):
        await licenses.list_products(identity_for(DANA))
    with pytest.raises(ConsentRequired):
        await licenses.list_directory(identity_for(DANA))


async def test_finance_manager_is_refused(portal, ms):
    with pytest.raises(PermissionDenied):
        await licenses.list_products(identity_for(PRIYA))


async def test_products_have_friendly_names_part_numbers_and_counts(portal, ms):
    products = {p.part_number: p for p in await licenses.list_products(identity_for(TOM))}
    premium = products["O365_BUSINESS_PREMIUM"]
    assert premium.name == "Microsoft 365 Business Standard"
    assert (premium.purchased, premium.assigned, premium.available) == (35, 30, 5)
    assert premium.sku_id == BUSINESS_PREMIUM


async def test_consent_revoked_at_microsoft_brings_the_consent_prompt_back(portal, ms, store):
    tom = identity_for(TOM)
    with store.transaction() as tx:
        tx.delete("consent", tom.tenant_id)
    with pytest.raises(ConsentRequired):
        await licenses.list_products(tom)
    with session_scope() as db:
        assert db.get(Organization, tom.organization_id).consent_granted_at is None


def _user(uid: str, skus=(), location="US", name=None, department="IT") -> DirectoryUser:
    return DirectoryUser(uid, name or uid, f"{uid}@x.test", department, location, frozenset(skus))


def test_toggle_keeps_only_differences_and_guards_seats():
    sku = "s"
    holder, other, third = _user("a", [sku]), _user("b"), _user("c")
    pending = licenses.toggle({}, other, sku, True, available=1)
    assert pending == {"b": True} and licenses.seats_left(1, pending) == 0
    with pytest.raises(LicenseError, match="No licenses left"):
        licenses.toggle(pending, third, sku, True, available=1)
    pending = licenses.toggle(pending, holder, sku, False, available=1)  # frees a seat
    pending = licenses.toggle(pending, third, sku, True, available=1)
    assert pending == {"a": False, "b": True, "c": True} and licenses.seats_left(1, pending) == 0
    with pytest.raises(LicenseError):  # the seat "a" freed is now taken by "c"
        licenses.toggle(pending, holder, sku, True, available=1)
    pending = licenses.toggle(pending, third, sku, False, available=1)
    pending = licenses.toggle(pending, holder, sku, True, available=1)  # back to Microsoft's state
    assert pending == {"b": True}


def test_filter_by_search_status_and_department():
    users = [
        _user("ann", ["s"], name="Ann Lee", department="IT"),
        _user("bob", name="Bob Stone", department="Finance"),
        _user("cy", ["s"], name="Cy Bob", department="Finance"),
    ]
    ids = lambda **kw: [u.id for u in licenses.filter_users(users, sku_id="s", **kw)]  # noqa: E731
    assert ids(search="bob") == ["bob", "cy"]
    assert ids(status="licensed") == ["ann", "cy"]
    assert ids(status="unlicensed", department="Finance") == ["bob"]
    assert licenses.departments(users) == ["Finance", "IT"]


async def test_submit_applies_differences_reports_failures_and_audits(portal, ms):
    tom = identity_for(TOM)
    users = {u.id: u for u in await licenses.list_directory(tom)}
    holders = [u for u in users.values() if u.holds(BUSINESS_PREMIUM)]
    unlicensed = [u for u in users.values() if not u.holds(BUSINESS_PREMIUM) and u.usage_location]
    nowhere = next(u for u in users.values() if not u.holds(BUSINESS_PREMIUM) and not u.usage_location)
    pending = {
        holders[0].id: False,
        unlicensed[0].id: True,
        unlicensed[1].id: True,
        nowhere.id: True,
        "not-in-directory": True,
    }
    progress = []

    async def on_progress(done, total):
        progress.append((done, total))

    outcome = await licenses.apply_changes(
        tom, sku_id=BUSINESS_PREMIUM, pending=pending, users=users, on_progress=on_progress
    )
    assert (outcome.assigned, outcome.unassigned) == (2, 1)
    assert [(f.name, f.reason) for f in outcome.failures] == [
        (nowhere.name, "License assignment cannot be done for user with invalid usage location.")
    ]
    assert progress[0] == (0, 4) and progress[-1] == (4, 4)
    after = {u.id: u for u in await licenses.list_directory(tom)}
    assert not after[holders[0].id].holds(BUSINESS_PREMIUM)
    assert after[unlicensed[0].id].holds(BUSINESS_PREMIUM) and after[unlicensed[1].id].holds(BUSINESS_PREMIUM)
    product = await licenses.get_product(tom, BUSINESS_PREMIUM)
    assert product.assigned == 31
    with session_scope() as db:
        rows = db.exec(select(LicenseChange).order_by(LicenseChange.id)).all()
    assert {(r.target_user_name, r.action, r.result) for r in rows} == {
        (holders[0].name, "unassign", "succeeded"),
        (unlicensed[0].name, "assign", "succeeded"),
        (unlicensed[1].name, "assign", "succeeded"),
        (nowhere.name, "assign", "failed"),
    }
    assert {r.actor_name for r in rows} == {"Tom Becker"} and len({r.batch_id for r in rows}) == 1
    assert all(r.organization_id == tom.organization_id and r.product_name for r in rows)


async def test_submit_refuses_over_allocation_and_foreign_products(portal, ms):
    tom = identity_for(TOM)
    users = {u.id: u for u in await licenses.list_directory(tom)}
    free = [u.id for u in users.values() if not u.holds(BUSINESS_PREMIUM)][:6]  # 5 seats available
    with pytest.raises(LicenseError, match="Only 5 licenses are available"):
        await licenses.apply_changes(tom, sku_id=BUSINESS_PREMIUM, pending={u: True for u in free}, users=users)
    with pytest.raises(LicenseError, match="could not be found"):
        await licenses.apply_changes(
            tom,
            sku_id="cbdc14ab-d96c-4c30-b9f4-6ada7cdc1d46",  # Lakeside's SKU
            pending={free[0]: True},
            users=users,
        )
    with pytest.raises(LicenseError, match="no changes"):
        await licenses.apply_changes(tom, sku_id=BUSINESS_PREMIUM, pending={}, users=users)
    with session_scope() as db:
        assert db.exec(select(LicenseChange)).all() == []


async def _submit_until_done(identity, sku_id: str, pending: dict[str, bool], users) -> int:
    """Submit, then submit again what failed, as the window lets a user do: each change may only
    fail by throttling (the storm can outlast a change's ten rounds: 0.4^10 per change, and the
    order of concurrent batches decides which), and none may be applied twice (a second assign or
    removal of the same license would fail). Returns how many changes were applied."""
    done = 0
    for _ in range(3):
        outcome = await licenses.apply_changes(identity, sku_id=sku_id, pending=pending, users=users)
        done += outcome.succeeded
        assert all("too many requests" in f.reason for f in outcome.failures), outcome.failures
        pending = {f.user_id: pending[f.user_id] for f in outcome.failures}
        if not pending:
            return done
    raise AssertionError(f"still failing after three submits: {pending}")


async def test_429_storm_applies_every_change_exactly_once(portal, ms, store):
    tenant = generate_large_tenant(store, users=400, seats=400)
    with session_scope() as db:
        organization = Organization(
            name="Large tenant",
            tenant_id=tenant["tenant_id"],
            consent_granted_at=Organization.model_fields["created_at"].default_factory(),
        )
        db.add(organization)
        db.flush()
        admin = PortalUser(
            organization_id=organization.id,
            first_name="Ada",
            last_name="Admin",
            email="ada@large.test",
            web_role="Work365 Administrator",
            status="active",
            is_global_admin=True,
        )
        db.add(admin)
    identity = identity_for("ada@large.test")
    users = {u.id: u for u in await licenses.list_directory(identity)}
    assert len(users) == 400
    store.set_faults(throttle_probability=0.4, retry_after_seconds=1, seed=11, services=["graph"])
    assigned = await _submit_until_done(identity, tenant["sku_id"], {u: True for u in users}, users)
    assert assigned == 400
    assert ms.sleeps, "the storm should have throttled some batches"
    # Now take them all back under the same storm: a second removal would fail, so none happened twice.
    store.set_faults(throttle_probability=0.4, retry_after_seconds=1, seed=12, services=["graph"])
    users = {u.id: u for u in await licenses.list_directory(identity)}
    assert all(u.holds(tenant["sku_id"]) for u in users.values())
    assert await _submit_until_done(identity, tenant["sku_id"], {u: False for u in users}, users) == 400
    store.clear_faults()
    product = await licenses.get_product(identity, tenant["sku_id"])
    assert product.assigned == 0
    with session_scope() as db:
        assert len(db.exec(select(LicenseChange).where(LicenseChange.result == "succeeded")).all()) == 800


async def test_seat_swaps_at_full_capacity_succeed_whatever_order_graph_runs_a_batch(portal, ms, store):
    """Graph runs the requests of a $batch in no guaranteed order unless dependsOn says so
    (microsoft-graph-docs-contrib concepts/json-batching.md); the emulator shuffles them
    (seeded). With every seat taken, swapping one holder for another must always succeed."""
    tenant, identity = admin_of_large_tenant(store, 12, "ada@full.test", seats=2)
    sku = tenant["sku_id"]
    ids = tenant["user_ids"]
    users = {u.id: u for u in await licenses.list_directory(identity)}
    await licenses.apply_changes(identity, sku_id=sku, pending={ids[0]: True, ids[1]: True}, users=users)
    for n in range(2, 12):  # ten swaps, each at full capacity: ids[n-2] gives its seat to ids[n]
        users = {u.id: u for u in await licenses.list_directory(identity)}
        assert (await licenses.get_product(identity, sku)).available == 0
        outcome = await licenses.apply_changes(
            identity, sku_id=sku, pending={ids[n - 2]: False, ids[n]: True}, users=users
        )
        assert (outcome.unassigned, outcome.assigned, outcome.failures) == (1, 1, []), n
    after = {u.id: u for u in await licenses.list_directory(identity)}
    assert [u for u in ids if after[u].holds(sku)] == ids[10:]


EXCHANGE_P2 = "19ec0d23-8335-4cbd-94ac-6050e30712fa"


async def test_licenses_assigned_by_a_group_show_the_group_and_cannot_be_removed(portal, ms):
    """Graph: licenseAssignmentStates.assignedByGroup names the group; assignLicense refuses to
    remove a group's license ("User license is inherited from a group membership and it
    cannot be removed directly from the user.", 400 Request_BadRequest)."""
    tom = identity_for(TOM)
    users = {u.id: u for u in await licenses.list_directory(tom)}
    by_group = [u for u in users.values() if u.holds(EXCHANGE_P2)]
    assert by_group and all(u.group_for(EXCHANGE_P2) == "Exchange Online users" for u in by_group)
    assert all(u.group_for(BUSINESS_PREMIUM) is None for u in users.values())  # direct licenses
    with pytest.raises(LicenseError, match="via group Exchange Online users"):
        licenses.toggle({}, by_group[0], EXCHANGE_P2, False, available=1)
    # Even sent directly, Microsoft refuses it.
    from opkalla_portal.microsoft.errors import ValidationError

    with pytest.raises(ValidationError, match="inherited from a group membership"):
        await ms.graph(tom.tenant_id).remove_license(by_group[0].id, EXCHANGE_P2)
    # The portal never sends it: a pending change for a group's license is dropped.
    with pytest.raises(LicenseError, match="no changes"):
        await licenses.apply_changes(tom, sku_id=EXCHANGE_P2, pending={by_group[0].id: False}, users=users)
