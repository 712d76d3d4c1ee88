"""Exports are data, not formulas (formula injection): text that would start a
formula in a spreadsheet program is written with a leading quote, in CSV and in XLSX (where
the cell is a string cell too), and the import drops that quote again, so an export read
back by the import changes nothing."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import update

from core.customers import models
from core.customers.exchange import COLUMNS, export_header
from tests.support import Api

EVIL = '=HYPERLINK("http://evil.example","x")'
CREATE = """
mutation($input: CreateCustomerInput!) {
  createCustomer(input: $input) { customer { id number version } errors { field code } }
}"""
IMPORT = """
mutation($csv: String!) {
  importCustomers(input: {csv: $csv, matchOn: [NUMBER]}) {
    created updated imported rowErrors { line field message code } errors { field code }
  }
}"""
CUSTOMERS = """
{ customers(first: 10) { edges { node {
    number name industry phone address { line1 line2 } tags { name }
} } } }"""
# The cells each test customer's formula-like text lands in, and what the export writes.
QUOTED = {
    "name": "'" + EVIL,
    "industry": "'@SUM(A1:A9)",
    "address_line1": "'-2+3",
    "tags": "'+vip",
    "region": "'\t=1+2",
    "address_line2": "'\r=3+4",
}


def data(body: dict[str, Any]) -> dict[str, Any]:
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]
    return result


async def create(api: Api, **fields: Any) -> dict[str, Any]:
    payload = data(await api.gql(CREATE, {"input": fields}))["createCustomer"]
    assert payload["errors"] == [], payload
    customer: dict[str, Any] = payload["customer"]
    return customer


async def formula_customer(admin: Api) -> dict[str, Any]:
    """A customer whose text cells would each start a formula (one per trigger character)."""
    customer = await create(
        admin,
        name=EVIL,
        industry="@SUM(A1:A9)",
        phone="+12125550100",
        address={"line1": "-2+3", "city": "Springfield"},
        tags=["+vip"],
    )
    # The API strips a leading tab or carriage return; older rows may still hold one.
    async with admin.db.transaction() as session:
        await session.execute(
            update(models.Customer)
            .where(models.Customer.number == customer["number"])
            .values(region="\t=1+2", address_line2="\r=3+4")
        )
    return customer


async def test_csv_export_quotes_text_that_would_start_a_formula(admin: Api) -> None:
    customer = await formula_customer(admin)

    response = await admin.client.get("/export/customers.csv", headers=admin.headers)
    assert response.status_code == 200, response.text
    rows = list(csv.reader(io.StringIO(response.text.lstrip("\ufeff"), newline="")))
    assert rows[0] == export_header("UTC")
    row = dict(zip(COLUMNS, rows[1], strict=True))
    assert {key: row[key] for key in QUOTED} == QUOTED
    # Text that holds no formula is written as it is: a number, a phone, a date.
    assert row["number"] == customer["number"]
    assert row["phone"] == "+12125550100"
    assert row["city"] == "Springfield"
    assert dt.datetime.fromisoformat(row["created_at"])


async def test_xlsx_export_writes_formula_like_text_as_quoted_string_cells(admin: Api) -> None:
    customer = await formula_customer(admin)
    await create(admin, name="#N/A")  # Excel's error value, as a customer's name

    response = await admin.client.get(
        "/export/customers.xlsx", headers=admin.headers, params={"orderBy": '{"field": "NUMBER"}'}
    )
    assert response.status_code == 200, response.text
    sheet = load_workbook(io.BytesIO(response.content))["Customers"]
    header, first, second = list(sheet.iter_rows())
    assert [cell.value for cell in header] == export_header("UTC")
    cells = dict(zip(COLUMNS, first, strict=False))
    for key, expected in QUOTED.items():
        assert cells[key].data_type == "s", key
        value = cells[key].value
        assert isinstance(value, str), key
        assert value.startswith("'"), key
        # XML reads a bare carriage return back as a line feed; the quote is what matters.
        assert value.replace("\n", "\r") == expected, key
    assert (cells["number"].data_type, cells["number"].value) == ("s", customer["number"])
    assert cells["phone"].value == "+12125550100"
    assert isinstance(cells["created_at"].value, dt.datetime)
    assert (second[1].data_type, second[1].value) == ("s", "#N/A")


async def test_an_exported_csv_reads_back_unchanged(admin: Api) -> None:
    """Export, then import the file (without the two read-only columns): the quotes the
    export added come off again, and a quote that was part of the value stays."""
    evil = await create(
        admin,
        name=EVIL,
        industry="@SUM(A1:A9)",
        phone="+12125550100",
        address={"line1": "-2+3", "line2": "'=kept quote"},
        tags=["+vip"],
    )
    plain = await create(admin, name="'=already quoted", industry="'plain")
    before = data(await admin.gql(CUSTOMERS))["customers"]

    response = await admin.client.get(
        "/export/customers.csv", headers=admin.headers, params={"orderBy": '{"field": "NUMBER"}'}
    )
    assert response.status_code == 200, response.text
    rows = list(csv.DictReader(io.StringIO(response.text.lstrip("\ufeff"), newline="")))
    assert [(row["number"], row["name"]) for row in rows] == [
        (evil["number"], "'" + EVIL),
        (plain["number"], "''=already quoted"),
    ]
    assert rows[0]["address_line2"] == "''=kept quote"
    assert rows[1]["industry"] == "'plain"

    columns = [c for c in COLUMNS if c not in ("created_at", "last_interaction_at")]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, columns, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    result = data(await admin.gql(IMPORT, {"csv": buffer.getvalue()}))["importCustomers"]
    assert (result["updated"], result["imported"], result["rowErrors"]) == (2, True, [])
    assert data(await admin.gql(CUSTOMERS))["customers"] == before
    names = {edge["node"]["name"] for edge in before["edges"]}
    assert names == {EVIL, "'=already quoted"}


async def test_the_import_drops_one_quote_before_a_formula_character(admin: Api) -> None:
    text = "number,name,industry\n,'=SUM(1),'plain\n,'@home,''+twice\n"
    result = data(await admin.gql(IMPORT, {"csv": text}))["importCustomers"]
    assert (result["created"], result["imported"], result["rowErrors"]) == (2, True, [])
    got = data(await admin.gql(CUSTOMERS))["customers"]["edges"]
    assert sorted((e["node"]["name"], e["node"]["industry"]) for e in got) == [
        ("=SUM(1)", "'plain"),
        ("@home", "'+twice"),
    ]
