"""Usage Data: Azure subscriptions, each period's figures in Decimal, the CSV, refusals."""

from __future__ import annotations

import asyncio
import csv
import inspect
import io
from datetime import date
from decimal import Decimal

import pytest

from opkalla_portal import clock
from opkalla_portal.demo import demo_data
from opkalla_portal.services.access import PermissionDenied
from opkalla_portal.services.usage import UsageError, azure_subscriptions, period_start, report_csv, usage_report
from tests.money.conftest import ADMIN, FINANCE, OTHER_ADMIN, SUBSCRIPTION_MANAGER, call

AZURE = next(s for s in demo_data.customer_subscriptions("lakeside") if s.unit_type == "Usage-based")
BAYVIEW_AZURE = next(s for s in demo_data.customer_subscriptions("bayview") if s.unit_type == "Usage-based")
TODAY = clock.today()  # the emulator's usage runs to yesterday


def test_period_start():
    assert period_start(3, date(2026, 11, 25)) == date(2026, 9, 1)
    assert period_start(12, date(2026, 11, 25)) == date(2025, 12, 1)
    assert period_start(3, date(2026, 2, 10)) == date(2025, 12, 1)


async def test_the_customers_azure_subscriptions(identity_of, microsoft):
    subscriptions = await azure_subscriptions(identity_of(SUBSCRIPTION_MANAGER))
    assert [s.id for s in subscriptions] == [AZURE.id]


async def test_each_period_adds_up(identity_of, microsoft):
    identity = identity_of(SUBSCRIPTION_MANAGER)
    totals = []
    for months in (3, 6, 9, 12):
        report = await usage_report(identity, AZURE.id, months, today=TODAY)
        assert len(report.month_keys) == months
        assert report.total == sum(report.month_total(m) for m in report.month_keys)
        assert report.total == sum(report.by_category.values()) == sum(r.cost for r in report.resources)
        assert {"Compute", "Storage", "Networking"} <= set(report.categories)
        assert isinstance(report.total, Decimal)
        rows = list(csv.DictReader(io.StringIO(report_csv(report))))
        assert sum(Decimal(r["Cost"]) for r in rows) == report.total
        for month in report.month_keys:
            assert sum(Decimal(r["Cost"]) for r in rows if r["Month"] == month) == report.month_total(month)
        totals.append(report.total)
    assert totals == sorted(totals) and len(set(totals)) == 4
    # The usage matches what the demo world rated, to the cent.
    expected = sum(
        r.cost
        for r in demo_data.azure_usage("lakeside", period_start(3, TODAY), date.fromordinal(TODAY.toordinal() - 1))
    )
    assert (await usage_report(identity, AZURE.id, 3, today=TODAY)).total == expected


async def test_refusals(identity_of, microsoft):
    with pytest.raises(PermissionDenied):
        await usage_report(identity_of(FINANCE), AZURE.id, 3)
    with pytest.raises(UsageError):  # another customer's subscription
        await usage_report(identity_of(ADMIN), BAYVIEW_AZURE.id, 3)
    for months in (0, 4, "3", True, None):
        with pytest.raises(UsageError):
            await usage_report(identity_of(ADMIN), AZURE.id, months)
    assert (await usage_report(identity_of(OTHER_ADMIN), BAYVIEW_AZURE.id, 3)).total > 0


def test_empty_period_is_empty():
    from opkalla_portal.services.usage import AzureSubscription, build_report

    report = build_report(AzureSubscription("s", "Azure plan"), 3, date(2026, 9, 1), date(2026, 11, 25), [])
    assert report.is_empty and report.total == 0 and len(report.month_keys) == 3


async def finish(result) -> None:
    """Run a handler to its end: Usage Data's handlers are background tasks (coroutines)."""
    if inspect.isasyncgen(result):
        async for _ in result:
            pass
    elif inspect.isawaitable(result):
        await result


async def test_usage_state_handlers(identity_of, state_of, microsoft):
    from opkalla_portal.state.usage_data import UsageState

    state = state_of(UsageState, identity_of(FINANCE))
    refused = await call(state, "load")
    assert state.subscriptions == [] and state.chart == [] and "fetch" not in repr(refused)
    state = state_of(UsageState, identity_of(SUBSCRIPTION_MANAGER))
    queued = await call(state, "load")  # cold caches: the loading state at once, the answer in the background
    assert state.loading and queued.handler.fn.__name__ == "fetch"
    await finish(call(state, "fetch", state._generation))
    assert state.subscription_id == AZURE.id and len(state.chart) == 3 and state.total.startswith("$")
    # The next visit finds the subscriptions and the usage rows in the caches: it paints them in
    # the load's own update, with no background event.
    again = state_of(UsageState, identity_of(SUBSCRIPTION_MANAGER))
    assert await call(again, "load") is None
    assert not again.loading and again.loaded and (again.subscription_id, again.total) == (AZURE.id, state.total)
    await finish(call(state, "select_period", "12 months"))
    assert len(state.months) == 12
    await finish(call(state, "select_subscription", BAYVIEW_AZURE.id))
    assert state.subscription_id == AZURE.id  # not one of the offered subscriptions: refused


async def test_visitors_arriving_together_share_one_export(identity_of, microsoft, monkeypatch):
    """A burst of first visits to Usage Data starts one export at Microsoft, not one each."""
    from opkalla_portal.services import usage

    started = []
    real = usage.azure_plan_usage

    async def counted(*args):
        started.append(args[1:3])
        await asyncio.sleep(0.05)  # the export runs while the others arrive
        return await real(*args)

    monkeypatch.setattr(usage, "azure_plan_usage", counted)
    identity = identity_of(SUBSCRIPTION_MANAGER)
    reports = await asyncio.gather(*(usage_report(identity, AZURE.id, 6, today=TODAY) for _ in range(5)))
    assert len(started) == 1
    assert len({report.total for report in reports}) == 1 and reports[0].total > 0


async def test_an_export_outlives_the_visitor_who_started_it(identity_of, microsoft, monkeypatch):
    """A visitor who leaves Usage Data before the rows arrive (its load cancelled) does not throw
    the export away: the next visit reads the rows it fetched instead of exporting again."""
    from opkalla_portal.services import usage

    started = []
    real = usage.azure_plan_usage

    async def counted(*args):
        started.append(args[1:3])
        await asyncio.sleep(0.05)
        return await real(*args)

    monkeypatch.setattr(usage, "azure_plan_usage", counted)
    identity = identity_of(SUBSCRIPTION_MANAGER)
    leaving = asyncio.ensure_future(usage_report(identity, AZURE.id, 6, today=TODAY))
    while not started:  # the export has begun
        await asyncio.sleep(0.005)
    leaving.cancel()
    with pytest.raises(asyncio.CancelledError):
        await leaving
    report = await usage_report(identity, AZURE.id, 6, today=TODAY)
    assert len(started) == 1 and report.total > 0
