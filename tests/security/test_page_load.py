"""One event per page load (state/page_load.py): the guard first, the page's handlers only if
it lets the visitor in, and the same checks as when they were separate events."""

from __future__ import annotations

from tests.security import harness


def _names(emitted) -> list[str]:
    return [getattr(item, "fn", None).__name__ if hasattr(item, "fn") else repr(item) for item in emitted]


def test_every_guarded_page_is_one_load_event_running_its_declared_handlers():
    from opkalla_portal.pages import ALL_PAGES
    from opkalla_portal.state import page_load
    from opkalla_portal.state.base import PortalState

    harness.load_app()
    guarded = [p for p in ALL_PAGES if isinstance(p.on_load, list) and p.on_load[0].fn is PortalState.guard.fn]
    assert len(guarded) > 20
    for page in guarded:
        registered = page_load._PAGE_LOADS[page.route]
        assert [h.fn for _, h in registered] == [h.fn for h in page.on_load[1:]], page.route


async def test_the_page_loads_in_the_same_event_as_the_guard(cookies):
    from opkalla_portal.state.base import PortalState
    from opkalla_portal.state.dashboard import DashboardState
    from opkalla_portal.state.insight import InsightState
    from opkalla_portal.state.my_services import MyServicesState
    from opkalla_portal.state.page_load import PageLoadState

    root = harness.build_root(cookies["dana"], "/my-services")
    emitted = await harness.call(root, PageLoadState.event_handlers["load"], "/my-services")
    assert harness.substate(root, PortalState).user_name == "Dana Whitaker"
    # What the database knows is in this event's update (the contracts, the dashboard's Future
    # Changes and billing trend), each Microsoft part's loading indicator is on...
    assert harness.substate(root, MyServicesState).contracts
    assert harness.substate(root, MyServicesState).loading
    dashboard = harness.substate(root, DashboardState)
    assert not dashboard.loading and dashboard.trend and dashboard.renewals_loading
    # ...and Microsoft's parts are queued, one background event each. (Insight needs no
    # Microsoft read to know that Lakeside has not granted consent: it says so at once.)
    assert _names(emitted).count("fetch") == 1 and "load_renewals" in _names(emitted)
    insight = harness.substate(root, InsightState)
    assert insight.consent_needed and not insight.loading and "fetch_report" not in _names(emitted)


async def test_a_second_visit_paints_from_the_tenant_cache_without_a_background_event(cookies):
    """The list's fresh read fills the per-tenant cache: the next visit's renewals tile is in the
    page's first update (no background event, no second round on the tab's lock)."""
    from opkalla_portal.state.dashboard import DashboardState
    from opkalla_portal.state.my_services import MyServicesState
    from opkalla_portal.state.page_load import PageLoadState

    first = harness.build_root(cookies["dana"], "/my-services")
    await harness.call(first, PageLoadState.event_handlers["load"], "/my-services")
    await harness.call(first, MyServicesState.event_handlers["fetch"])  # Partner Center, into the cache
    second = harness.build_root(cookies["dana"], "/my-services")
    emitted = await harness.call(second, PageLoadState.event_handlers["load"], "/my-services")
    dashboard = harness.substate(second, DashboardState)
    assert not dashboard.renewals_loading and dashboard.error == "" and dashboard.monthly_count > 0
    assert "load_renewals" not in _names(emitted)
    assert _names(emitted).count("fetch") == 1  # the list itself is always read fresh


async def test_a_refused_visitor_gets_the_redirect_and_the_page_loads_nothing(cookies):
    from opkalla_portal.state.manage_licenses import LicensesState
    from opkalla_portal.state.my_services import MyServicesState
    from opkalla_portal.state.page_load import PageLoadState

    signed_out = harness.build_root(None, "/my-services")
    emitted = await harness.call(signed_out, PageLoadState.event_handlers["load"], "/my-services")
    assert "sign-in" in harness.describe(emitted) and len(emitted) == 1
    assert harness.substate(signed_out, MyServicesState).contracts == []

    finance = harness.build_root(cookies["priya"], "/manage-licenses")
    emitted = await harness.call(finance, PageLoadState.event_handlers["load"], "/manage-licenses")
    assert "not-allowed" in harness.describe(emitted) and len(emitted) == 1
    assert harness.substate(finance, LicensesState).consent_checked is False
