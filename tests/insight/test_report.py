"""License insight, recommendations, exclusions, dismissals and reclaim against the emulator."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlmodel import select

from opkalla_portal.db import session_scope
from opkalla_portal.demo import demo_data
from opkalla_portal.microsoft.errors import AuthError
from opkalla_portal.models import ChangeLogEntry, LicenseChange, ScheduledChange
from opkalla_portal.services import insight_report, licenses, quantity_change, reclaim
from opkalla_portal.services.access import PermissionDenied
from opkalla_portal.services.insight_report import InsightError
from tests.insight.conftest import DANA, LUIS, PRIYA, TOM, identity_for

SPB = next(s for s in demo_data.SUBSCRIPTIONS if s.customer_key == "lakeside" and s.key == "spb")
SPB_SKU = SPB.graph_sku_id


def _spb_rec(report):
    return next(r for r in report.recommendations if r.subscription_id == SPB.id)


async def test_no_graph_call_and_no_report_before_consent(portal, ms, store):
    store.set_faults(error_probability=1.0, error_status=503)
    report = await insight_report.load_report(identity_for(DANA))
    assert not report.consented and report.products == [] and report.recommendations == []


async def test_finance_manager_is_refused(lakeside):
    with pytest.raises(PermissionDenied):
        await insight_report.load_report(identity_for(PRIYA))
    with pytest.raises(PermissionDenied):
        insight_report.set_exclusion(identity_for(PRIYA), SPB_SKU, True)
    with pytest.raises(PermissionDenied):
        insight_report.dismiss(identity_for(PRIYA), SPB.id, "0" * 32)


async def test_lakeside_sees_idle_seats_and_the_business_premium_recommendation(lakeside):
    report = await insight_report.load_report(lakeside)
    assert report.consented and report.sign_in_known
    spb = next(p for p in report.products if p.sku_id == SPB_SKU)
    assert (spb.purchased, spb.usage.assigned, spb.unassigned) == (45, 41, 4)
    assert spb.usage.idle[30] >= spb.usage.idle[60] >= spb.usage.idle[90] > 0
    assert spb.usage.disabled == 1 and spb.unit_price == Decimal("22.00")
    assert spb.idle_cost(90) == Decimal("22.00") * (spb.usage.idle[90] + 1)
    rec = _spb_rec(report)
    assert (rec.current_quantity, rec.target_quantity) == (45, 41)
    assert rec.annual_saving == Decimal("1056.00")  # 4 x 22.00 x 12
    assert rec.ideal_quantity == 41 - spb.usage.reclaimable()
    # Only the subscription renewing within 90 days (the demo's Business Premium) is recommended.
    assert [r.name for r in report.recommendations] == ["Microsoft 365 Business Premium"]
    assert report.idle_cost(90) == sum((p.idle_cost(90) for p in report.products), Decimal("0.00"))


async def test_a_subscription_manager_sees_the_same(lakeside):
    report = await insight_report.load_report(identity_for(LUIS))
    assert _spb_rec(report).annual_saving == Decimal("1056.00")


async def test_exclusions_drop_a_product_from_totals_and_recommendations(lakeside):
    before = await insight_report.load_report(lakeside)
    assert insight_report.set_exclusion(lakeside, SPB_SKU.upper(), True) is True
    insight_report.set_exclusion(lakeside, SPB_SKU, True)  # twice: still one row
    excluded = await insight_report.load_report(lakeside)
    spb = next(p for p in excluded.products if p.sku_id == SPB_SKU)
    assert spb.excluded and spb.idle_cost(90) == Decimal("0.00")
    assert excluded.idle_seats(90) == before.idle_seats(90) - spb.usage.reclaimable(90)
    assert excluded.recommendations == []
    # Remembered per customer: Bayview's view is untouched.
    assert insight_report.excluded_skus(identity_for(TOM)) == set()
    insight_report.set_exclusion(lakeside, SPB_SKU, False)
    assert _spb_rec(await insight_report.load_report(lakeside))
    with pytest.raises(InsightError):
        insight_report.set_exclusion(lakeside, "not-a-sku", True)
    with pytest.raises(InsightError):
        insight_report.set_exclusion(lakeside, SPB_SKU, "yes")


async def test_a_dismissal_holds_until_the_numbers_change(lakeside, store):
    rec = _spb_rec(await insight_report.load_report(lakeside))
    insight_report.dismiss(lakeside, rec.subscription_id, rec.fingerprint)
    report = await insight_report.load_report(lakeside)
    assert report.recommendations == [] and report.dismissed == 1
    # Someone is assigned a seat: the numbers change and the recommendation returns.
    users = {u.id: u for u in await licenses.list_directory(lakeside)}
    free = next(u for u in users.values() if u.enabled and u.usage_location and not u.holds(SPB_SKU))
    await licenses.apply_changes(lakeside, sku_id=SPB_SKU, pending={free.id: True}, users=users)
    back = _spb_rec(await insight_report.load_report(lakeside))
    assert back.fingerprint != rec.fingerprint and back.target_quantity == 42
    with pytest.raises(InsightError):
        insight_report.dismiss(lakeside, SPB.id, "not a fingerprint")


async def test_accept_schedules_on_renewal_through_subscription_edit_once(lakeside):
    rec = _spb_rec(await insight_report.load_report(lakeside))
    outcome = await insight_report.accept(lakeside, rec.subscription_id, rec.fingerprint)
    assert outcome.status == "scheduled", outcome
    with session_scope() as db:
        change = db.exec(select(ScheduledChange).where(ScheduledChange.subscription_id == SPB.id)).one()
        log = db.exec(select(ChangeLogEntry).where(ChangeLogEntry.subscription_id == SPB.id)).one()
    assert (change.old_quantity, change.new_quantity, change.effective_mode, change.status) == (
        45,
        41,
        "on_renewal",
        "pending",
    )
    assert (log.result, log.effective_mode, log.actor_name) == ("scheduled", "on_renewal", "Dana Whitaker")
    assert [c.id for c in quantity_change.future_changes(lakeside)] == [change.id]
    # A second click (or a replay) finds nothing left to do and changes nothing.
    with pytest.raises(InsightError):
        await insight_report.accept(lakeside, rec.subscription_id, rec.fingerprint)
    # What is left is the idle seats' part: reclaim first (no one-click button).
    left = _spb_rec(await insight_report.load_report(lakeside))
    assert (left.current_quantity, left.ready, left.ideal_quantity) == (41, False, 41 - left.reclaimable)
    with session_scope() as db:
        assert len(db.exec(select(ScheduledChange)).all()) == 1


async def test_accept_refuses_stale_numbers_and_other_customers(lakeside, store):
    rec = _spb_rec(await insight_report.load_report(lakeside))
    with pytest.raises(InsightError):
        await insight_report.accept(lakeside, rec.subscription_id, "0" * 32)
    with pytest.raises(InsightError):  # Bayview's admin: Lakeside's subscription is not in their report
        await insight_report.accept(identity_for(TOM), rec.subscription_id, rec.fingerprint)
    with session_scope() as db:
        assert db.exec(select(ScheduledChange)).all() == []


async def test_without_sign_in_activity_only_disabled_accounts_count(lakeside, monkeypatch):
    real = licenses.list_directory

    async def refuse_sign_in(identity, *, with_sign_in=False):
        if with_sign_in:
            raise AuthError(status=403, code="Authorization_RequestDenied", detail="AuditLog.Read.All missing")
        return await real(identity)

    monkeypatch.setattr(licenses, "list_directory", refuse_sign_in)
    report = await insight_report.load_report(lakeside)
    spb = next(p for p in report.products if p.sku_id == SPB_SKU)
    assert not report.sign_in_known and spb.usage.idle == {30: 0, 60: 0, 90: 0} and spb.usage.disabled == 1
    assert _spb_rec(report).reclaimable == 1


async def test_reclaim_candidates_freed_seats_and_disabled_accounts(lakeside):
    users = {u.id: u for u in await licenses.list_directory(lakeside)}
    disabled = [u for u in users.values() if not u.enabled and u.holds(SPB_SKU)]
    assert len(disabled) == 1
    only_spb = next(u for u in users.values() if u.enabled and u.sku_ids == frozenset({SPB_SKU}))
    await licenses.apply_changes(lakeside, sku_id=SPB_SKU, pending={only_spb.id: False}, users=users)
    users[only_spb.id] = licenses.with_applied(only_spb, SPB_SKU, False)
    found = reclaim.candidates(users, SPB_SKU, [only_spb.id])
    assert [(c.user_id, c.reason) for c in found] == [(only_spb.id, reclaim.FREED), (disabled[0].id, reclaim.DISABLED)]
    options = reclaim.reassign_options(users.values(), SPB_SKU)
    assert options and all(u.enabled and u.usage_location and not u.holds(SPB_SKU) for u in options)


async def test_reassign_moves_a_disabled_accounts_seat(lakeside):
    users = {u.id: u for u in await licenses.list_directory(lakeside)}
    holder = next(u for u in users.values() if not u.enabled and u.holds(SPB_SKU))
    taker = reclaim.reassign_options(users.values(), SPB_SKU)[0]
    candidate = reclaim.Candidate(holder.id, holder.name, reclaim.DISABLED)
    with pytest.raises(licenses.LicenseError):
        await reclaim.reassign(lakeside, sku_id=SPB_SKU, candidate=candidate, to_user=holder.id, users=users)
    outcome = await reclaim.reassign(lakeside, sku_id=SPB_SKU, candidate=candidate, to_user=taker.id, users=users)
    assert outcome.failures == [] and (outcome.assigned, outcome.unassigned) == (1, 1)
    after = {u.id: u for u in await licenses.list_directory(lakeside)}
    assert not after[holder.id].holds(SPB_SKU) and after[taker.id].holds(SPB_SKU)
    with session_scope() as db:
        assert len(db.exec(select(LicenseChange)).all()) == 2


async def test_schedule_decrease_goes_through_subscription_edit_on_renewal(lakeside):
    outcome = await reclaim.schedule_decrease(lakeside, sku_id=SPB_SKU)
    assert outcome.status == "scheduled", outcome
    with session_scope() as db:
        change = db.exec(select(ScheduledChange)).one()
    assert (change.subscription_id, change.old_quantity, change.new_quantity, change.effective_mode) == (
        SPB.id,
        45,
        44,
        "on_renewal",
    )
    # A second decrease starts from the renewal quantity already scheduled (44 -> 43), replacing it.
    await reclaim.schedule_decrease(lakeside, sku_id=SPB_SKU)
    with session_scope() as db:
        pending = db.exec(select(ScheduledChange).where(ScheduledChange.status == "pending")).one()
    assert pending.new_quantity == 43
    with pytest.raises(PermissionDenied):
        await reclaim.schedule_decrease(identity_for(PRIYA), sku_id=SPB_SKU)


async def test_a_tenant_without_entra_premium_gets_the_plain_fallback(portal, ms):
    """Bayview has no Entra ID P1/P2 (Business Standard and Exchange only): Graph answers
    signInActivity with 403 Authentication_RequestFromNonPremiumTenantOrB2CTenant, and the
    report says that this, not a permission, is why idle seats can't be shown."""
    report = await insight_report.load_report(identity_for(TOM))
    assert report.consented and report.products
    assert not report.sign_in_known and report.sign_in_missing == insight_report.NO_PREMIUM
    assert all(p.usage.idle == {30: 0, 60: 0, 90: 0} for p in report.products)


async def test_without_audit_log_permission_the_reason_is_the_permission(lakeside, store, ms):
    """The consent granted lacks AuditLog.Read.All: Graph's 403 Authorization_RequestDenied."""
    with store.transaction() as tx:
        consent = tx.get("consent", lakeside.tenant_id)
        tx.put(
            "consent",
            lakeside.tenant_id,
            {**consent, "roles": ["User.Read.All", "LicenseAssignment.ReadWrite.All", "Directory.Read.All"]},
        )
    report = await insight_report.load_report(lakeside)
    assert report.sign_in_missing == insight_report.NO_PERMISSION
