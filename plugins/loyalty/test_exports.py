"""The ledger as CSV and XLSX downloads: the entries of the accounts the loyaltyAccounts
filter keeps, in the caller's scope, oldest first, and the refused requests."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

import pytest
from openpyxl import load_workbook
from starlette.routing import BaseRoute

from core.plugin_api import SALES_REPRESENTATIVE, SYSTEM_ADMINISTRATOR, CRMPluginManager, hookimpl
from plugins.loyalty import exports
from plugins.loyalty.testing_tiers import earn, member, reverse, spend
from schema.testkit import Api, FakeClock


class Routes:
    """The route as hooks.py hands it over (``crm_http_routes``)."""

    @hookimpl
    def crm_http_routes(self) -> Sequence[BaseRoute]:
        return [exports.ROUTE]


@pytest.fixture
def plugin_manager(plugin_manager: CRMPluginManager) -> CRMPluginManager:
    if not any(
        getattr(route, "path", "").startswith("/export/loyalty-ledger")
        for routes in plugin_manager.hook.crm_http_routes()
        for route in routes or []
    ):
        plugin_manager.register(Routes())
    return plugin_manager


async def download(api: Api, path: str, **params: Any) -> tuple[int, Any]:
    query = {k: json.dumps(v) for k, v in params.items()}
    response = await api.client.get(path, headers=api.headers, params=query)
    if response.status_code != 200:
        return response.status_code, response.json()
    if path.endswith(".xlsx"):
        sheet = load_workbook(io.BytesIO(response.content)).active
        assert sheet is not None
        return 200, [[cell.value for cell in row] for row in sheet.iter_rows()]
    return 200, list(csv.reader(io.StringIO(response.text.lstrip("\ufeff"), newline="")))


def records(rows: list[list[Any]]) -> list[dict[str, Any]]:
    header = [c.split(" (")[0] for c in rows[0]]
    return [dict(zip(header, row, strict=True)) for row in rows[1:]]


async def test_the_ledger_as_csv(admin: Api, clock: FakeClock) -> None:
    acme = await member(admin, clock, "Acme")
    first = await earn(admin, clock, acme, 500)
    clock.advance(hours=1)
    await spend(admin, clock, acme, 100, "REDEEM")
    clock.advance(hours=1)
    await reverse(admin, clock, acme, first)
    other = await member(admin, clock, "Other")
    await earn(admin, clock, other, 7)
    status, rows = await download(admin, "/export/loyalty-ledger.csv")
    assert status == 200
    assert rows[0][3] == "created_at (UTC)"
    found = records(rows)
    assert [(r["customer_name"], r["kind"], r["points"]) for r in found] == [
        ("Acme", "EARN", "500"),
        ("Acme", "REDEEM", "-100"),
        ("Acme", "REVERSE", "-400"),
        ("Other", "EARN", "7"),
    ]
    assert (found[2]["debt_points"], found[2]["reverses_entry"]) == ("100", str(first))
    assert found[0]["actor"] == "test"
    status, rows = await download(admin, "/export/loyalty-ledger.xlsx", filter={"minBalance": 5})
    assert status == 200
    assert [(r["customer_name"], r["points"]) for r in records(rows)] == [("Other", 7)]


async def test_the_ledger_export_keeps_to_the_callers_scope(admin: Api, clock: FakeClock) -> None:
    rep = await admin.as_role(SALES_REPRESENTATIVE, lasting=True)
    mine = await member(admin, clock, "Mine", owner_id=rep.user_id)
    await earn(admin, clock, mine, 10)
    await earn(admin, clock, await member(admin, clock, "Theirs"), 20)
    status, rows = await download(rep, "/export/loyalty-ledger.csv")
    assert status == 200
    assert [r["customer_name"] for r in records(rows)] == ["Mine"]


async def test_refused_ledger_exports(api: Api, admin: Api) -> None:
    status, _body = await download(api, "/export/loyalty-ledger.csv")
    assert status == 401
    sysadmin = await admin.as_role(SYSTEM_ADMINISTRATOR)
    status, _body = await download(sysadmin, "/export/loyalty-ledger.csv")
    assert status == 403
    status, body = await download(admin, "/export/loyalty-ledger.csv", filter={"minBalance": "x"})
    assert status == 400
    assert body["errors"][0]["extensions"]["argument"] == "filter"
    status, _body = await download(admin, "/export/loyalty-ledger.pdf")
    assert status == 404
