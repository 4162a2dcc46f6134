"""Graph carried a license change out but its answer was lost (a timeout): the audit records
what Microsoft holds, read back, not the lost answer."""

from __future__ import annotations

from sqlmodel import select

from opkalla_portal.db import session_scope
from opkalla_portal.microsoft.errors import UnavailableError
from opkalla_portal.microsoft.graph import GraphClient
from opkalla_portal.models import LicenseChange
from opkalla_portal.services import licenses
from tests.licenses.conftest import TOM, identity_for

BUSINESS_PREMIUM = "f245ecc8-75af-4f8e-b61f-27d8114de5f3"


async def test_changes_whose_answer_was_lost_are_audited_as_microsoft_holds_them(portal, ms, monkeypatch):
    tom = identity_for(TOM)
    users = {u.id: u for u in await licenses.list_directory(tom)}
    holder = next(u for u in users.values() if u.holds(BUSINESS_PREMIUM))
    newcomer = next(u for u in users.values() if not u.holds(BUSINESS_PREMIUM) and u.usage_location)
    real = GraphClient.request

    async def carried_out_then_lost(self, method, path, **kwargs):
        response = await real(self, method, path, **kwargs)
        if path.endswith("$batch"):
            raise UnavailableError("Microsoft did not answer in time. Please try again.")
        return response

    with monkeypatch.context() as patched:
        patched.setattr(GraphClient, "request", carried_out_then_lost)
        outcome = await licenses.apply_changes(
            tom, sku_id=BUSINESS_PREMIUM, users=users, pending={holder.id: False, newcomer.id: True}
        )
    assert (outcome.assigned, outcome.unassigned, outcome.failures) == (1, 1, [])
    with session_scope() as db:
        audit = {(e.target_user_id, e.action, e.result) for e in db.exec(select(LicenseChange)).all()}
    assert audit == {(holder.id, "unassign", "succeeded"), (newcomer.id, "assign", "succeeded")}


async def test_changes_microsoft_never_received_stay_failed(portal, ms, monkeypatch):
    tom = identity_for(TOM)
    users = {u.id: u for u in await licenses.list_directory(tom)}
    newcomer = next(u for u in users.values() if not u.holds(BUSINESS_PREMIUM) and u.usage_location)
    real = GraphClient.request

    async def lost_on_the_way(self, method, path, **kwargs):
        if path.endswith("$batch"):
            raise UnavailableError("Microsoft did not answer in time. Please try again.")
        return await real(self, method, path, **kwargs)

    with monkeypatch.context() as patched:
        patched.setattr(GraphClient, "request", lost_on_the_way)
        outcome = await licenses.apply_changes(tom, sku_id=BUSINESS_PREMIUM, users=users, pending={newcomer.id: True})
    assert outcome.assigned == 0
    assert [(f.user_id, f.reason) for f in outcome.failures] == [
        (newcomer.id, "Microsoft did not answer in time. Please try again.")
    ]
    with session_scope() as db:
        assert [(e.action, e.result) for e in db.exec(select(LicenseChange)).all()] == [("assign", "failed")]


async def test_an_outage_stops_the_read_back_instead_of_waiting_on_every_user(portal, ms, monkeypatch):
    from opkalla_portal.services.read_back import ROUNDS

    tom = identity_for(TOM)
    users = {u.id: u for u in await licenses.list_directory(tom)}
    holders = [u for u in users.values() if u.holds(BUSINESS_PREMIUM)][:20]
    real = GraphClient.request
    reads = []

    async def down(self, method, path, **kwargs):
        if path.endswith("$batch") or "/users/" in path:
            reads.append(path) if "/users/" in path else None
            raise UnavailableError("Microsoft did not answer in time. Please try again.")
        return await real(self, method, path, **kwargs)

    with monkeypatch.context() as patched:
        patched.setattr(GraphClient, "request", down)
        outcome = await licenses.apply_changes(
            tom, sku_id=BUSINESS_PREMIUM, users=users, pending={u.id: False for u in holders}
        )
    assert outcome.unassigned == 0 and len(outcome.failures) == len(holders) == 20
    assert len(reads) < len(holders) * ROUNDS  # stopped once Microsoft could not tell about one user
