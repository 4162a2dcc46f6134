"""Command line: `python -m opkalla_portal.cli prepare | migrate | reset-demo | doctor`.

A composition root like the app module: in demo mode it installs the demo's deployment
profile and drives the demo package (seed, emulator, Partner Center connection).
"""

from __future__ import annotations

import argparse
import sys

from opkalla_portal.settings import ConfigError, load_settings


def prepare() -> None:
    """Migrate the database and, in demo mode, load the demo when the database is empty."""
    from opkalla_portal.db import migrate, session_scope
    from opkalla_portal.demo import seed

    settings = load_settings()
    migrate(settings.database_url)
    if settings.demo_mode:
        with session_scope() as db:
            if seed.is_empty(db):
                seed.seed_demo(db)
                print("Loaded the demo data (Lakeside Dental Partners, Bayview Logistics).")
        _prepare_emulator(reset=False)
        _connect_demo_partner_center()


def reset_demo() -> None:
    """Put the demo back as it was first seeded: the portal's data and the emulator's."""
    from opkalla_portal.db import migrate, session_scope
    from opkalla_portal.demo import seed

    migrate()
    with session_scope() as db:
        seed.clear_all(db)
        seed.seed_demo(db)
    _prepare_emulator(reset=True)
    _connect_demo_partner_center()
    print("The demo has been reset.")


def _prepare_emulator(*, reset: bool) -> None:
    try:
        from opkalla_portal.demo.emulator import emulator_store
    except ImportError:  # emulator not installed in this build
        return
    store = emulator_store()
    if reset:
        store.reset()
    from opkalla_portal.demo.emulator import passcode_notice

    print(passcode_notice())


def _connect_demo_partner_center() -> None:
    """Demo: the provider's administrator connects Partner Center (App+User, MFA) through the
    real sign-in flow against the emulator, served on a loopback port for the moment, so My
    Agreements works from the first visit."""
    import asyncio

    try:
        from opkalla_portal.microsoft.emulator.serve import serve_in_thread
    except ImportError:  # emulator not installed in this build
        return
    from opkalla_portal.demo.partner_center import connect_demo_provider
    from opkalla_portal.microsoft import MicrosoftClients
    from opkalla_portal.microsoft.emulator.settings import emulator_settings
    from opkalla_portal.services.microsoft_clients import use_clients

    async def connect(url: str) -> bool:
        async with MicrosoftClients(emulator_settings(url)) as clients:
            use_clients(clients)
            return await connect_demo_provider()

    with serve_in_thread(_demo_emulator_store()) as url:
        if asyncio.run(connect(url)):
            print("Connected Partner Center as the provider's administrator (demo, MFA-backed).")


def doctor(customer: str | None) -> int:
    """Check the Microsoft configuration one line per check; 1 when any check fails.

    In demo mode the checks run against the emulator, started on a free local port for the run.
    """
    import asyncio

    from opkalla_portal.microsoft import MicrosoftClients, MicrosoftSettings
    from opkalla_portal.services.doctor import run_checks

    settings = load_settings()

    async def run(ms_settings: MicrosoftSettings, tenant: str | None) -> list:
        async with MicrosoftClients(ms_settings) as clients:
            return await run_checks(clients, tenant)

    if settings.demo_mode:
        from opkalla_portal.demo import demo_data
        from opkalla_portal.microsoft.emulator.serve import serve_in_thread
        from opkalla_portal.microsoft.emulator.settings import emulator_settings

        with serve_in_thread(_demo_emulator_store()) as url:
            print(f"Demo mode: checking against the emulator at {url}")
            tenant = customer or next(c.tenant_id for c in demo_data.CUSTOMERS.values() if c.consented)
            checks = asyncio.run(run(emulator_settings(url), tenant))
    else:
        checks = asyncio.run(run(MicrosoftSettings.from_env(), customer))
    for check in checks:
        print(check.line())
    failed = [c for c in checks if not c.ok]
    print(f"{len(checks) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


def billing_run() -> int:
    """Bill every closed month Microsoft has invoiced and the portal has not: each becomes a
    draft run for the provider's administrators to review and issue on Billing Runs. Safe to
    repeat, and to run on several workers: issued months are left alone, an interrupted run
    resumes, a run another worker holds is skipped."""
    import asyncio

    from opkalla_portal.microsoft import MicrosoftClients, MicrosoftSettings
    from opkalla_portal.services import billing_run as billing

    settings = load_settings()

    async def run(ms_settings: MicrosoftSettings) -> None:
        async with MicrosoftClients(ms_settings) as clients:
            for invoice in await clients.partner_center.list_invoices():
                run_id = await billing.bill_microsoft_invoice(clients, invoice)
                summary = billing.summarize(run_id)
                print(
                    f"{summary.period_start:%B %Y} ({invoice['id']}): {summary.state}, "
                    f"{len(summary.customers)} invoices, {len(summary.open_exceptions)} open exceptions, "
                    f"{'ties out' if summary.ties_out else 'does not tie out'}"
                )

    if settings.demo_mode:
        from opkalla_portal.microsoft.emulator.serve import serve_in_thread
        from opkalla_portal.microsoft.emulator.settings import emulator_settings

        with serve_in_thread(_demo_emulator_store()) as url:
            asyncio.run(run(emulator_settings(url)))
    else:
        asyncio.run(run(MicrosoftSettings.from_env()))
    return 0


def _demo_emulator_store():
    from opkalla_portal.demo.emulator import emulator_store

    return emulator_store()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="opkalla-portal", description=__doc__)
    parser.add_argument("command", choices=["prepare", "migrate", "reset-demo", "doctor", "billing-run"])
    parser.add_argument("--customer", help="doctor: a customer tenant id that has granted consent")
    args = parser.parse_args(argv)
    try:
        if load_settings().demo_mode:
            from opkalla_portal.demo.wiring import install

            install()
        if args.command == "doctor":
            return doctor(args.customer)
        if args.command == "billing-run":
            return billing_run()
        if args.command == "prepare":
            prepare()
        elif args.command == "migrate":
            from opkalla_portal.db import migrate

            migrate()
        else:
            reset_demo()
    except ConfigError as error:
        print(f"Configuration error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
