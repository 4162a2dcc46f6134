"""`cli doctor`: one line per check, the fix named when one fails, exit code 1 then."""

from __future__ import annotations

import dataclasses

from opkalla_portal import cli
from opkalla_portal.microsoft import MicrosoftClients
from opkalla_portal.services.doctor import run_checks
from tests.microsoft.conftest import BAYVIEW


async def test_every_check_passes_against_the_emulator(fresh, clients, seeded):
    from opkalla_portal.demo.partner_center import connect_demo_provider
    from opkalla_portal.services.microsoft_clients import use_clients

    use_clients(clients)
    assert await connect_demo_provider()
    checks = await run_checks(clients, BAYVIEW)
    assert [c.name for c in checks if not c.ok] == []
    assert {
        "App registration reachable",
        "Permission AuditLog.Read.All granted",
        "Permission PartnerBilling.Read.All granted",
        "Partner Center reachable (app-only)",
        "Graph reachable for a sample customer",
        "Reconciliation export permitted",
        "Chat deployment answering",
        "Partner Center connection valid and MFA-backed (App+User)",
    } <= {c.name for c in checks}


async def test_the_partner_center_connection_check_names_what_is_wrong(fresh, clients, seeded, store):
    from opkalla_portal.demo.partner_center import connect_demo_provider
    from opkalla_portal.services.microsoft_clients import use_clients
    from tests.microsoft.conftest import RILEY

    name = "Partner Center connection valid and MFA-backed (App+User)"
    checks = {c.name: c for c in await run_checks(clients, None)}
    assert not checks[name].ok and "No Partner Center connection" in checks[name].detail
    assert "Connect" in checks[name].fix
    use_clients(clients)
    assert await connect_demo_provider()
    assert {c.name: c for c in await run_checks(clients, None)}[name].ok
    store.revoke_refresh_tokens(RILEY.object_id)
    check = {c.name: c for c in await run_checks(clients, None)}[name]
    assert not check.ok and "reconnect" in check.detail


async def test_a_wrong_secret_and_a_missing_permission_are_named_with_their_fix(fresh, settings, store):
    with store.transaction() as tx:  # the customer granted consent without AuditLog.Read.All
        consent = tx.get("consent", BAYVIEW)
        tx.put(
            "consent",
            BAYVIEW,
            {**consent, "roles": ["User.Read.All", "LicenseAssignment.ReadWrite.All", "Directory.Read.All"]},
        )
    async with MicrosoftClients(settings) as clients:
        checks = {c.name: c for c in await run_checks(clients, BAYVIEW)}
    audit = checks["Permission AuditLog.Read.All granted"]
    assert not audit.ok and "AuditLog.Read.All" in audit.fix and "Fix:" in audit.line()
    assert checks["Permission User.Read.All granted"].ok
    async with MicrosoftClients(dataclasses.replace(settings, client_secret="wrong")) as clients:
        checks = {c.name: c for c in await run_checks(clients, BAYVIEW)}
    registration = checks["App registration reachable"]
    assert not registration.ok and "OPKALLA_MS_CLIENT_SECRET" in registration.fix


def test_cli_doctor_passes_in_demo_mode(monkeypatch, tmp_path, capsys, seeded):
    from opkalla_portal.microsoft.emulator import EmulatorStore

    store = EmulatorStore(str(tmp_path / "emulator.db"))
    monkeypatch.setattr(cli, "_demo_emulator_store", lambda: store)
    monkeypatch.setenv("OPKALLA_DEMO", "1")
    cli._connect_demo_partner_center()  # what `cli prepare` does for the demo
    assert cli.main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert "11 passed, 0 failed" in out and "[FAIL]" not in out
    assert "MFA-backed" in out
