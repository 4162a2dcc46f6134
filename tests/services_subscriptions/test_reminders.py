"""Renewal reminders: which renewals, which days, the nearest threshold only, exactly once across runs."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlmodel import select

from opkalla_portal import clock
from opkalla_portal.db import session_scope
from opkalla_portal.demo import demo_data
from opkalla_portal.models import OutboundMail, RenewalReminder
from opkalla_portal.services import notifications, reminders
from opkalla_portal.services.catalog import load_catalog
from tests.services_subscriptions.conftest import DANA, LUIS, PRIYA, identity_for

LAKESIDE = demo_data.CUSTOMERS["lakeside"]
TODAY = clock.today()


def lakeside(key: str) -> demo_data.DemoSubscription:
    return next(s for s in demo_data.SUBSCRIPTIONS if s.customer_key == "lakeside" and s.key == key)


SPB, VISIO = lakeside("spb"), lakeside("visio-p2")  # annual $22 x 45; monthly $18 x 4


def renew_in(store, sub, days: int, **changes) -> None:
    """Move the subscription's renewal (the day after the commitment end) to `days` from today."""
    with store.transaction() as tx:
        doc = tx.get("subscription", sub.id)
        end = TODAY + timedelta(days=days - 1)
        tx.put(
            "subscription",
            sub.id,
            {**doc, "commitmentEndDate": f"{end.isoformat()}T00:00:00Z", **changes},
            tenant=LAKESIDE.tenant_id,
        )


def sent() -> list[tuple[str, int]]:
    with session_scope() as db:
        return sorted((r.subscription_id, r.days_before) for r in db.exec(select(RenewalReminder)).all())


def reminder_mails() -> list[OutboundMail]:
    with session_scope() as db:
        return list(db.exec(select(OutboundMail).where(OutboundMail.kind == "renewal_reminder")).all())


@pytest.mark.parametrize(
    ("days", "threshold"),
    [(61, None), (60, 60), (45, 60), (31, 60), (30, 30), (8, 30), (7, 7), (1, 7), (0, 7), (-1, None)],
)
def test_the_nearest_threshold_reached(days, threshold):
    assert reminders.reminder_threshold(days) == threshold


def _doc(**fields) -> dict:
    base = {
        "id": "s1",
        "status": "active",
        "autoRenewEnabled": True,
        "termDuration": "P1Y",
        "billingCycle": "monthly",
        "offerId": SPB.offer_id,
        "quantity": 10,
        "unitType": "Licenses",
        "commitmentEndDate": f"{(TODAY + timedelta(days=29)).isoformat()}T00:00:00Z",
        "friendlyName": "X",
    }
    return {**base, **fields}


async def test_which_renewals_get_a_reminder(ms):
    catalog = await load_catalog()
    annual = reminders.renewal_of(_doc(), catalog)
    assert annual.renewal_date == TODAY + timedelta(days=30) and annual.quantity == 10
    assert annual.yearly_cost == Decimal("22.00") * 10 * 12
    assert reminders.renewal_of(_doc(termDuration="P1M", offerId=VISIO.offer_id), catalog) is None  # monthly noise
    with_change = reminders.renewal_of(
        _doc(termDuration="P1M", offerId=VISIO.offer_id, scheduledNextTermInstructions={"quantity": 6}), catalog
    )
    assert with_change is not None and with_change.quantity == 6  # a renewal change: remind
    assert reminders.renewal_of(_doc(autoRenewEnabled=False), catalog) is None  # just expires
    assert reminders.renewal_of(_doc(status="suspended"), catalog) is None
    assert reminders.renewal_of(_doc(unitType="Usage-based"), catalog) is None
    assert reminders.due_reminders(
        [_doc(), _doc(id="far", commitmentEndDate="2099-01-01T00:00:00Z")], catalog, TODAY
    ) == [(annual, 30)]


async def test_reminders_are_sent_once_across_runs_to_opted_in_users(ms, emulator_store):
    renew_in(emulator_store, SPB, 30)
    notifications.set_preference(identity_for(PRIYA), notifications.RENEWAL_REMINDERS, False)
    assert await reminders.run_renewal_reminders(TODAY) == 1
    assert await reminders.run_renewal_reminders(TODAY) == 0  # a restart / second worker: nothing again
    assert sent() == [(SPB.id, 30)]
    mails = reminder_mails()
    assert sorted(m.to_address for m in mails) == [DANA, LUIS]
    body = next(m.body_text for m in mails if m.to_address == LUIS)
    assert "Quantity at renewal: 45" in body and "Yearly cost: $11,880.00" in body
    assert f"/my-services/edit?id={SPB.id}" in body
    # Monthly subscriptions renewing unchanged, and annual ones far off, got nothing.
    assert {m.subject for m in mails} == {f"Renewal on {TODAY + timedelta(days=30):%b %d, %Y}: {SPB.offer_name}"}


async def test_the_next_threshold_is_sent_later_and_a_missed_one_is_skipped(ms, emulator_store):
    renew_in(emulator_store, SPB, 40)
    assert await reminders.run_renewal_reminders(TODAY) == 1  # 60-day reminder
    # The job was down from day 40 to day 5 before the renewal: only the 7-day one goes out.
    renewal = TODAY + timedelta(days=40)
    await reminders.run_renewal_reminders(renewal - timedelta(days=5))  # (other subscriptions reach 60 days too)
    assert [row for row in sent() if row[0] == SPB.id] == [(SPB.id, 7), (SPB.id, 60)]
    assert await reminders.run_renewal_reminders(renewal - timedelta(days=5)) == 0


async def test_two_workers_racing_send_once(ms, emulator_store):
    renew_in(emulator_store, SPB, 7)
    organization = _lakeside_org()
    catalog = await load_catalog()
    renewal = reminders.renewal_of(await ms.partner_center.get_subscription(LAKESIDE.tenant_id, SPB.id), catalog)
    assert reminders.send_reminder(organization, renewal, 7, TODAY) is True
    assert reminders.send_reminder(organization, renewal, 7, TODAY) is False
    assert len(reminder_mails()) == 3  # Dana, Luis, Priya: once each


async def test_a_monthly_subscription_with_a_renewal_change_is_reminded(ms, emulator_store):
    renew_in(emulator_store, VISIO, 6, scheduledNextTermInstructions={"quantity": 2})
    assert await reminders.run_renewal_reminders(TODAY) >= 1
    assert (VISIO.id, 7) in sent()


def _lakeside_org():
    from opkalla_portal.models import Organization

    with session_scope() as db:
        return db.exec(select(Organization).where(Organization.tenant_id == LAKESIDE.tenant_id)).one()
