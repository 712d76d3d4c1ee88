"""Opportunities and orders as CSV and XLSX downloads: the list's rows with its filter and
order, in the caller's scope and time zone, and every refused request."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from openpyxl import load_workbook

from core.plugin_api import FINANCE, SALES_REPRESENTATIVE, SUPPORT_REPRESENTATIVE
from plugins.sales.exports import OPPORTUNITY_COLUMNS, ORDER_COLUMNS, header
from plugins.sales.test_orders import line, place, product
from plugins.sales.testing import create_customer, gid, mutate_ok
from schema.testkit import Api


async def opportunity(api: Api, customer: str, title: str, **values: Any) -> dict[str, Any]:
    input = {"customerId": customer, "title": title, "amount": "1000.00"} | values
    payload = await mutate_ok(api, "createOpportunity", input, "opportunity { id number }")
    created: dict[str, Any] = payload["opportunity"]
    return created


async def download(api: Api, path: str, **params: Any) -> tuple[int, Any]:
    query = {k: json.dumps(v) if not isinstance(v, str) else v for k, v in params.items()}
    response = await api.client.get(path, headers=api.headers, params=query)
    if response.status_code != 200:
        return response.status_code, response.json()
    if path.endswith(".xlsx"):
        sheet = load_workbook(io.BytesIO(response.content)).active
        assert sheet is not None
        return 200, [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert response.headers["content-type"].startswith("text/csv")
    return 200, list(csv.reader(io.StringIO(response.text.lstrip("\ufeff"), newline="")))


async def test_opportunities_export_follows_the_lists_filter_and_order(admin: Api) -> None:
    acme = await create_customer(admin, "Acme")
    first = await opportunity(admin, acme, "=cmd|' /C calc'!A0", amount="2500.50")
    second = await opportunity(admin, acme, "Second deal", competitors=["Zenith", "Apex"])
    await opportunity(admin, await create_customer(admin, "Other"), "Elsewhere")

    status, rows = await download(
        admin,
        "/export/opportunities.csv",
        filter={"customerId": acme},
        orderBy={"field": "NUMBER", "direction": "DESC"},
    )

    assert status == 200
    assert rows[0] == header(OPPORTUNITY_COLUMNS, "UTC")
    assert "closed_at (UTC)" in rows[0]
    records = [dict(zip(OPPORTUNITY_COLUMNS, row, strict=True)) for row in rows[1:]]
    assert [r["number"] for r in records] == [second["number"], first["number"]]
    assert records[1]["title"] == "'=cmd|' /C calc'!A0"  # a formula stays text
    assert (records[1]["amount"], records[1]["currency"]) == ("2500.50", "CNY")
    assert (records[1]["stage"], records[1]["probability"]) == ("LEAD", "10")
    assert records[0]["competitors"] == "Zenith; Apex"
    assert records[0]["customer_name"] == "Acme"
    assert records[0]["owner_email"] == "admin@example.com"


async def test_orders_export_as_xlsx_with_lines(admin: Api) -> None:
    acme = await create_customer(admin, "Acme")
    pen = await product(admin, "PEN", "12.50")
    ink = await product(admin, "INK", "3.00")
    order = await place(admin, acme, [line(pen, "2"), line(ink, "1.5")])

    status, rows = await download(admin, "/export/orders.xlsx")

    assert status == 200
    assert rows[0] == header(ORDER_COLUMNS, "UTC")
    record = dict(zip(ORDER_COLUMNS, rows[1], strict=True))
    assert record["number"] == order["number"]
    assert record["lines"] == "PEN x 2; INK x 1.5"
    assert (record["status"], record["currency"], str(record["total"])) == ("PLACED", "CNY", "29.5")
    assert len(rows) == 2


async def test_exports_keep_to_the_callers_scope(api: Api, admin: Api) -> None:
    rep = await api.user("rep@example.com", [SALES_REPRESENTATIVE])
    finance = await api.user("finance@example.com", [FINANCE])
    support = await api.user("support@example.com", [SUPPORT_REPRESENTATIVE])
    mine = await create_customer(admin, "Mine", rep.user_id)
    theirs = await create_customer(admin, "Theirs")
    await opportunity(admin, mine, "Mine")
    await opportunity(admin, theirs, "Theirs")
    pen = await product(admin, "PEN", "1.00")
    await place(admin, mine, [line(pen)])
    await place(admin, theirs, [line(pen)])

    _, rows = await download(rep, "/export/opportunities.csv")
    assert [row[1] for row in rows[1:]] == ["Mine"]
    _, rows = await download(rep, "/export/orders.csv")
    assert [row[2] for row in rows[1:]] == ["Mine"]
    for reader in (finance, support):  # every order, no pipeline
        _, rows = await download(reader, "/export/orders.csv")
        assert sorted(row[2] for row in rows[1:]) == ["Mine", "Theirs"]
        status, body = await download(reader, "/export/opportunities.csv")
        assert status == 403
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_refused_export_requests_name_what_is_wrong(api: Api, admin: Api) -> None:
    status, body = await download(admin, "/export/opportunities.pdf")
    assert status == 404
    assert "opportunities.csv" in body["errors"][0]["message"]

    status, body = await download(admin, "/export/orders.csv", filter={"status": ["LOST"]})
    assert status == 400
    assert body["errors"][0]["extensions"]["argument"] == "filter"

    status, body = await download(
        admin, "/export/opportunities.csv", filter={"ownerId": gid("Customer", 1)}
    )
    assert status == 400
    assert body["errors"][0]["extensions"]["argument"] == "filter.ownerId"

    status, body = await download(admin, "/export/orders.csv", orderBy="{not json")
    assert status == 400
    assert body["errors"][0]["extensions"]["argument"] == "orderBy"

    response = await api.client.get("/export/orders.csv")
    assert response.status_code == 401


async def test_a_customer_out_of_reach_is_blank_in_an_export(api: Api, admin: Api) -> None:
    rep = await api.user("rep@example.com", [SALES_REPRESENTATIVE])
    colleagues = await create_customer(admin, "Colleague's Customer")
    await opportunity(admin, colleagues, "Shared deal", ownerId=gid("User", rep.user_id))

    _, rows = await download(rep, "/export/opportunities.csv")

    record = dict(zip(OPPORTUNITY_COLUMNS, rows[1], strict=True))
    assert record["title"] == "Shared deal"  # the rep owns the opportunity
    assert (record["customer_number"], record["customer_name"]) == ("", "")
