"""My Invoices: totals from the lines to the cent, tabs, search, sort, scope, PDF, usage CSV, downloads."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
from datetime import date, timedelta
from decimal import Decimal

import httpx
import pytest
from sqlmodel import select
from starlette.applications import Starlette

from opkalla_portal.demo.demo_data import _add_months
from opkalla_portal.services.access import PermissionDenied
from opkalla_portal.services.invoices import InvoiceNotFound, get_invoice, invoice_usage_rows, list_invoices, usage_csv
from tests.conftest import TODAY
from tests.demo_invoices import demo_invoice_ids
from tests.money.conftest import ADMIN, FINANCE, OTHER_ADMIN, SUBSCRIPTION_MANAGER, call

# The seed dates each invoice on the first of a month, the newest this month: one per billing
# contract, numbered by the contract's place among Lakeside's (1 annual commitment, 2 monthly,
# 3 Azure consumption).
MONTH = f"{TODAY:%Y%m}"
PREVIOUS_MONTH = f"{_add_months(TODAY.replace(day=1), -1):%Y%m}"
NEWEST = f"LDP-INV-{MONTH}-1"
NEWEST_AZURE = f"LDP-INV-{MONTH}-3"
EIGHT_MONTHS_AGO = _add_months(TODAY.replace(day=1), -8)
LAKESIDE_INVOICES = demo_invoice_ids(TODAY, "lakeside")
PAID = len(LAKESIDE_INVOICES) - 6  # all but the two newest months' three


def test_every_invoice_adds_up_to_the_cent(identity_of):
    from opkalla_portal.db import session_scope
    from opkalla_portal.models import InvoiceLine

    for email in (FINANCE, OTHER_ADMIN):
        identity = identity_of(email)
        summaries = list_invoices(identity, tab="open", today=TODAY) + list_invoices(identity, tab="paid", today=TODAY)
        customer = "lakeside" if email == FINANCE else "bayview"
        assert sorted(s.invoice_id for s in summaries) == sorted(demo_invoice_ids(TODAY, customer))
        for summary in summaries:
            detail = get_invoice(identity, summary.invoice_id, today=TODAY)
            assert all(isinstance(line.amount, Decimal) for line in detail.lines)
            assert detail.subtotal == sum(line.amount for line in detail.lines)
            assert detail.tax == sum(line.tax_amount for line in detail.lines)
            assert detail.subtotal + detail.tax == summary.total
            assert summary.total == summary.total.quantize(Decimal("0.01"))
            with session_scope() as db:  # independently, from the stored rows
                stored = db.exec(select(InvoiceLine).where(InvoiceLine.invoice_id == summary.invoice_id)).all()
            assert sum(Decimal(line.amount) + Decimal(line.tax_amount) for line in stored) == summary.total
            for line in detail.lines:
                if line.kind == "license":  # amount = unit price x quantity x proration, to the cent
                    expected = (line.unit_price * line.quantity * line.proration).quantize(Decimal("0.01"))
                    assert abs(expected - line.amount) <= Decimal("0.01") * line.quantity


def test_open_and_paid_tabs_and_status(identity_of):
    identity = identity_of(FINANCE)
    open_ = list_invoices(identity, tab="open", today=TODAY)
    assert [s.invoice_id for s in open_] == [
        f"LDP-INV-{month}-{n}" for month in (MONTH, PREVIOUS_MONTH) for n in (3, 2, 1)
    ]
    assert [s.status for s in open_] == ["Open"] * 3 + ["Overdue"] * 3  # due at the end of each invoice's month
    assert all(s.balance == s.total for s in open_)
    paid = list_invoices(identity, tab="paid", today=TODAY)
    assert len(paid) == PAID and all(s.status == "Paid" and s.balance == 0 for s in paid)


def test_search_and_sort(identity_of):
    identity = identity_of(FINANCE)
    assert [
        s.invoice_id for s in list_invoices(identity, tab="paid", search=f"{EIGHT_MONTHS_AGO:%Y%m}", today=TODAY)
    ] == [i for i in sorted(LAKESIDE_INVOICES, reverse=True) if LAKESIDE_INVOICES[i] == EIGHT_MONTHS_AGO]
    by_amount = list_invoices(identity, tab="paid", sort="total", descending=False, today=TODAY)
    assert [s.total for s in by_amount] == sorted(s.total for s in by_amount)
    assert list_invoices(identity, tab="paid", search="nothing like this", today=TODAY) == []
    # Unknown sort keys and tabs fall back instead of failing.
    assert list_invoices(identity, tab="bogus", sort="__class__", today=TODAY)[0].invoice_id == NEWEST_AZURE


def test_subscription_manager_is_refused_invoices(identity_of):
    with pytest.raises(PermissionDenied):
        list_invoices(identity_of(SUBSCRIPTION_MANAGER))
    with pytest.raises(PermissionDenied):
        get_invoice(identity_of(SUBSCRIPTION_MANAGER), NEWEST)


def test_another_customers_invoice_is_not_found(identity_of):
    bayview = identity_of(OTHER_ADMIN)
    for invoice_id in (NEWEST, "", None, 5, "x" * 500):
        with pytest.raises(InvoiceNotFound):
            get_invoice(bayview, invoice_id)


def test_invoice_state_handlers_refuse_a_subscription_manager(identity_of, state_of):
    from opkalla_portal.state.my_invoices import InvoicesState

    state = state_of(InvoicesState, identity_of(SUBSCRIPTION_MANAGER))
    call(state, "load")
    call(state, "set_tab", "Paid Invoices")
    assert state.rows == []
    state = state_of(InvoicesState, identity_of(FINANCE))
    call(state, "load")
    assert [row["invoice_id"] for row in state.rows][:3] == [NEWEST_AZURE, f"LDP-INV-{MONTH}-2", NEWEST]
    assert state.rows[0]["total"].startswith("$")


def test_invoice_pdf_renders_like_an_invoice(identity_of, tmp_path):
    from opkalla_portal.services.invoice_pdf import render_invoice_pdf

    detail = get_invoice(identity_of(FINANCE), NEWEST, today=TODAY)
    pdf = render_invoice_pdf(detail)
    assert pdf.startswith(b"%PDF") and len(pdf) > 2000
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    (tmp_path / "invoice.pdf").write_bytes(pdf)
    text = subprocess.run(
        ["pdftotext", "-layout", str(tmp_path / "invoice.pdf"), "-"], capture_output=True, text=True, check=True
    ).stdout
    for expected in (
        "INVOICE",
        NEWEST,
        "BILL TO",
        "Lakeside Dental Partners",
        "Microsoft 365 Business Premium",
        "Subtotal",
        "Balance due",
        f"${detail.summary.total:,.2f}",
        f"${detail.tax:,.2f}",
    ):
        assert expected in text, expected


async def test_download_usage_is_what_the_azure_line_billed_and_usage_data_shows(identity_of, microsoft, monkeypatch):
    """The usage CSV is the billed usage rows the run priced for the invoice's Azure line: they
    add up to the line to the cent, and to the month Usage Data shows for the subscription."""
    from opkalla_portal.services import usage

    identity = identity_of(FINANCE)
    detail = get_invoice(identity, NEWEST_AZURE, today=TODAY)
    [azure] = [line for line in detail.lines if line.kind == "azure_usage"]
    assert detail.contract_name == "Azure Consumption"
    rows = invoice_usage_rows(identity, NEWEST_AZURE)
    parsed = list(csv.DictReader(io.StringIO(usage_csv(rows))))
    billed_month = _add_months(TODAY.replace(day=1), -1)
    days = (TODAY.replace(day=1) - billed_month).days
    assert len(parsed) == len(rows) == days * 8  # every day of last month, 8 Lakeside resources, one meter each
    assert {r["Date"][:7] for r in parsed} == {f"{billed_month:%Y-%m}"}
    assert {r["Subscription ID"] for r in parsed} == {azure.subscription_id}
    assert sum(Decimal(r["Cost"]) for r in parsed) == azure.amount > 0

    # Usage Data (Microsoft's export, read live) shows the same month to the cent.
    report = await usage.usage_report(identity_of(ADMIN), azure.subscription_id, 3, today=TODAY)
    assert report.month_total(f"{billed_month:%Y-%m}") == azure.amount
    shown = sorted((r.day, r.resource, r.meter, r.cost) for r in report.rows if r.day[:7] == f"{billed_month:%Y-%m}")
    assert shown == sorted((r.day, r.resource, r.meter, r.cost) for r in rows)  # row for row

    # Read from what the run wrote, not from Microsoft: the CSV stands with Microsoft unreachable.
    from opkalla_portal.services import microsoft_clients

    def unreachable():
        raise AssertionError("Download Usage asked Microsoft")

    monkeypatch.setattr(microsoft_clients, "microsoft", unreachable)
    assert invoice_usage_rows(identity, NEWEST_AZURE) == rows
    assert invoice_usage_rows(identity, NEWEST) == []  # no Azure on the annual commitment's invoice
    with pytest.raises(InvoiceNotFound):
        invoice_usage_rows(identity_of(OTHER_ADMIN), NEWEST_AZURE)


def _client(email_or_none, identity_of) -> httpx.AsyncClient:
    from opkalla_portal.routes import downloads
    from opkalla_portal.services.sessions import SESSION_COOKIE

    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=Starlette(routes=downloads.ROUTES)), base_url="http://portal.test"
    )
    if email_or_none:
        from opkalla_portal.db import session_scope
        from opkalla_portal.models import PortalUser
        from opkalla_portal.services.sessions import create_session

        with session_scope() as db:
            user = db.exec(select(PortalUser).where(PortalUser.email == email_or_none)).one()
            client.cookies.set(SESSION_COOKIE, create_session(db, user))
    return client


async def test_download_routes_check_session_role_and_customer(seeded, identity_of):
    pdf = f"/downloads/invoices/{NEWEST}/invoice.pdf"
    response = await _client(None, identity_of).get(pdf)
    assert response.status_code == 303 and response.headers["location"].startswith("/sign-in?next=")
    assert (await _client(SUBSCRIPTION_MANAGER, identity_of).get(pdf)).status_code == 403
    assert (await _client(OTHER_ADMIN, identity_of).get(pdf)).status_code == 404
    assert (
        await _client(OTHER_ADMIN, identity_of).get(f"/downloads/invoices/{NEWEST_AZURE}/usage.csv")
    ).status_code == 404
    usage_csv_response = await _client(FINANCE, identity_of).get(f"/downloads/invoices/{NEWEST_AZURE}/usage.csv")
    assert usage_csv_response.status_code == 200 and usage_csv_response.text.startswith("Date,")
    response = await _client(FINANCE, identity_of).get(pdf)
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    assert response.headers["content-disposition"] == f'attachment; filename="{NEWEST}.pdf"'
    assert "no-store" in response.headers["cache-control"]
    usage = await _client(FINANCE, identity_of).get("/downloads/usage-data.csv?subscription=x&months=3")
    assert usage.status_code == 403  # a Finance Manager is refused Usage Data


def test_status_rules():
    from opkalla_portal.services.invoices import invoice_status

    assert invoice_status(Decimal("0.00"), date(2026, 1, 1), TODAY) == "Paid"
    assert invoice_status(Decimal("0.01"), TODAY, TODAY) == "Open"
    assert invoice_status(Decimal("0.01"), TODAY - timedelta(days=1), TODAY) == "Overdue"


def test_list_is_paged_server_side(identity_of, state_of, monkeypatch):
    from opkalla_portal.state import my_invoices as invoices_state

    monkeypatch.setattr(invoices_state, "PAGE_SIZE", 4)
    state = state_of(invoices_state.InvoicesState, identity_of(FINANCE))
    call(state, "set_tab", "Paid Invoices")
    last = -(-PAID // 4) - 1
    assert (len(state.rows), state.page_count, state.match_count) == (4, last + 1, PAID)
    first_page = [row["invoice_id"] for row in state.rows]
    call(state, "go_to_page", last)
    assert len(state.rows) == PAID - 4 * last and state.rows[0]["invoice_id"] not in first_page
    call(state, "go_to_page", 99)  # clamped, not an error
    assert state.page == last
    call(state, "go_to_page", "1; drop")  # a forged argument changes nothing
    assert state.page == last
    call(state, "set_search", str(TODAY.year))
    assert state.page == 0
