"""Customers in and out: CSV import (API and ``crm import customers``), CSV and XLSX export,
and the periodic jobs (``crm jobs run``).

API tests run against a fresh database on SQLite and PostgreSQL; the command-line tests run
``crm`` in-process (typer's CliRunner) against a database they migrate themselves.
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, insert, select, update
from strawberry import relay
from typer.testing import CliRunner

from core.audit import AuditEvent
from core.catalog import SALES_REPRESENTATIVE
from core.customers import models
from core.customers.exchange import COLUMNS, export_header
from core.db import Database, utcnow
from schema.cli import cli
from schema.testkit_tools import make_user
from tests.support import DEFAULT_PASSWORD, Api

IMPORT = """
mutation($csv: String!, $matchOn: [ImportMatch!], $dryRun: Boolean) {
  importCustomers(input: {csv: $csv, matchOn: $matchOn, dryRun: $dryRun}) {
    created updated imported dryRun
    rowErrors { line field message code }
    errors { field message code }
  }
}"""
IMPORT_DEFAULTS = """
mutation($csv: String!) {
  importCustomers(input: {csv: $csv}) { created updated imported errors { field code } }
}"""
CUSTOMERS = """
query($filter: CustomerFilter) {
  customers(filter: $filter, first: 100) {
    totalCount
    edges {
      node {
        id number name kind industry stage grade source phone email website
        address { line1 line2 city region postalCode country }
        owner { user { email } } tags { name } customFields version createdAt lastInteractionAt
      }
    }
  }
}"""
CREATE = """
mutation($input: CreateCustomerInput!) {
  createCustomer(input: $input) { customer { id number version createdAt } errors { code } }
}"""
HISTORY = """
query($id: ID!) {
  customer(id: $id) { history(first: 10) { edges { node { action actorLabel } } } }
}"""

runner = CliRunner()


def data(body: dict[str, Any]) -> dict[str, Any]:
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]
    return result


async def import_csv(
    api: Api, text: str, match_on: list[str] | None = None, *, dry_run: bool = False
) -> dict[str, Any]:
    variables = {"csv": text, "matchOn": match_on or ["EMAIL"], "dryRun": dry_run}
    result: dict[str, Any] = data(await api.gql(IMPORT, variables))["importCustomers"]
    return result


async def customers(api: Api, filter: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """The customers by name."""
    connection = data(await api.gql(CUSTOMERS, {"filter": filter}))["customers"]
    return {edge["node"]["name"]: edge["node"] for edge in connection["edges"]}


async def create(api: Api, **fields: Any) -> dict[str, Any]:
    payload = data(await api.gql(CREATE, {"input": fields}))["createCustomer"]
    assert payload["errors"] == [], payload
    customer: dict[str, Any] = payload["customer"]
    return customer


def row_errors(result: dict[str, Any]) -> list[tuple[int, str | None, str]]:
    return [(e["line"], e["field"], e["code"]) for e in result["rowErrors"]]


# ----------------------------------------------------------------------------- import


async def test_import_creates_and_updates_by_each_match_key(admin: Api) -> None:
    await make_user(admin.db, admin.settings, "rep@example.com", [SALES_REPRESENTATIVE])
    defined = await admin.gql(
        """mutation { defineCustomField(input: {key: "employees", label: "Employees",
        type: NUMBER}) { errors { code } } }"""
    )
    assert data(defined)["defineCustomField"]["errors"] == []

    first = (
        "name,kind,industry,stage,grade,source,phone,email,website,address_line1,address_line2,"
        "city,region,postal_code,country,owner_email,tags,custom:employees\n"
        "Acme Ltd,company,Manufacturing,active,Gold,REFERRAL,(212) 555-0100,Info@Acme.example,"
        'acme.example,1 Main St,"Suite 2, Floor 3",Springfield,IL,62701,us,REP@example.com,'
        "vip; Key Account ,250\n"
        "Bravo,,,,,,,bravo@example.com,,,,,,,,,,\n"
    )
    result = await import_csv(admin, first)
    assert result == {
        "created": 2,
        "updated": 0,
        "imported": True,
        "dryRun": False,
        "rowErrors": [],
        "errors": [],
    }
    found = await customers(admin)
    acme, bravo = found["Acme Ltd"], found["Bravo"]
    assert (acme["kind"], acme["stage"], acme["grade"], acme["source"]) == (
        "COMPANY",
        "ACTIVE",
        "GOLD",
        "REFERRAL",
    )
    assert (acme["industry"], acme["phone"], acme["email"], acme["website"]) == (
        "Manufacturing",
        "+12125550100",
        "info@acme.example",
        "https://acme.example",
    )
    assert acme["address"] == {
        "line1": "1 Main St",
        "line2": "Suite 2, Floor 3",
        "city": "Springfield",
        "region": "IL",
        "postalCode": "62701",
        "country": "US",
    }
    assert acme["owner"] == {"user": {"email": "rep@example.com"}}
    assert [t["name"] for t in acme["tags"]] == ["Key Account", "vip"]
    assert acme["customFields"] == {"employees": 250}
    assert (bravo["kind"], bravo["stage"], bravo["grade"], bravo["source"]) == (
        "COMPANY",
        "POTENTIAL",
        "STANDARD",
        None,
    )
    # the importing user by default
    assert bravo["owner"] == {"user": {"email": "admin@example.com"}}
    events = data(await admin.gql(HISTORY, {"id": acme["id"]}))["customer"]["history"]["edges"]
    assert [(e["node"]["action"], e["node"]["actorLabel"]) for e in events] == [
        ("customer.created", "admin@example.com")
    ]

    # EMAIL (the default key) finds Acme whatever the case; a new email creates.
    by_email = await admin.gql(
        IMPORT_DEFAULTS,
        {
            "csv": "email,name,stage,tags\nINFO@acme.example,Acme Group,,partner\n"
            "charlie@example.com,Charlie,new,\n"
        },
    )
    assert data(by_email)["importCustomers"] == {
        "created": 1,
        "updated": 1,
        "imported": True,
        "errors": [],
    }
    found = await customers(admin)
    assert found["Acme Group"]["id"] == acme["id"]
    assert found["Acme Group"]["stage"] == "ACTIVE"  # an empty cell of a choice keeps it
    assert found["Acme Group"]["version"] == acme["version"] + 1
    assert [t["name"] for t in found["Acme Group"]["tags"]] == ["Key Account", "partner", "vip"]
    assert found["Charlie"]["stage"] == "NEW"

    # PHONE in any format; NUMBER in any case; keys tried in order until one has a value.
    by_phone = await import_csv(admin, "phone,name\n212.555.0100,Acme Phone\n", ["PHONE"])
    assert (by_phone["created"], by_phone["updated"]) == (0, 1)
    by_number = await import_csv(
        admin, f"number,name\n{bravo['number'].lower()},Bravo Renamed\n", ["NUMBER"]
    )
    assert (by_number["created"], by_number["updated"]) == (0, 1)
    either = await import_csv(
        admin,
        f"number,email,industry\n,charlie@example.com,Retail\n{bravo['number']},,Energy\n",
        ["NUMBER", "EMAIL"],
    )
    assert (either["created"], either["updated"], either["rowErrors"]) == (0, 2, [])
    found = await customers(admin)
    assert set(found) == {"Acme Phone", "Bravo Renamed", "Charlie"}
    assert found["Acme Phone"]["id"] == acme["id"]
    assert found["Bravo Renamed"]["id"] == bravo["id"]
    assert found["Bravo Renamed"]["industry"] == "Energy"
    assert found["Charlie"]["industry"] == "Retail"

    # A dry run checks and counts every row, and keeps nothing.
    before = await customers(admin)
    dry = await import_csv(
        admin,
        "name,email\nDelta,delta@example.com\nEcho,echo@example.com\nCharles,charlie@example.com\n",
        dry_run=True,
    )
    assert dry == {
        "created": 2,
        "updated": 1,
        "imported": False,
        "dryRun": True,
        "rowErrors": [],
        "errors": [],
    }
    assert await customers(admin) == before


async def test_import_reports_every_bad_row_by_line_and_keeps_nothing(admin: Api) -> None:
    await admin.gql(
        """mutation { defineCustomField(input: {key: "employees", label: "Employees",
        type: NUMBER}) { errors { code } } }"""
    )
    existing = await create(admin, name="Existing", phone="+12125550100")
    text = (
        "name,email,phone,stage,owner_email,custom:employees\n"  # line 1
        "Good One,good1@example.com,,,,\n"  # 2
        ",not-an-email,,LATE,nobody@example.com,many\n"  # 3
        "Good Two,good2@example.com,,,,12\n"  # 4
        "\n"  # 5: blank, skipped
        "Copycat,copy@example.com,212-555-0100,,,\n"  # 6
        "Too,many,values,,,,,\n"  # 7
        '"Multi\nline",multi@example.com,,,,\n'  # 8-9
        "Last,last@example.com,,,,-\n"  # 10
    )
    result = await import_csv(admin, text)
    assert (result["created"], result["updated"]) == (3, 0)  # the good rows, had they stayed
    assert result["imported"] is False
    assert result["errors"] == []
    assert row_errors(result) == [
        (3, "stage", "INVALID"),
        (3, "owner_email", "INVALID"),
        (3, "name", "REQUIRED"),
        (3, "email", "INVALID"),
        (3, "customFields.employees", "INVALID"),
        (6, "phone", "DUPLICATE"),
        (7, None, "INVALID"),
        (10, "customFields.employees", "INVALID"),
    ]
    messages = {(e["line"], e["field"]): e["message"] for e in result["rowErrors"]}
    assert existing["number"] in messages[(6, "phone")]
    assert "POTENTIAL" in messages[(3, "stage")]  # the allowed values are listed
    assert list(await customers(admin)) == ["Existing"]  # all or nothing

    for text, field, words in [
        ("name,colour\nX,red\n", "csv", "colour"),
        ("", "csv", "header"),
    ]:
        result = await import_csv(admin, text)
        assert [(e["field"], e["code"]) for e in result["errors"]] == [(field, "INVALID")]
        assert words in result["errors"][0]["message"]
        assert result["imported"] is False
        assert result["rowErrors"] == []
    result = await import_csv(admin, "name,email\nX,x@example.com\n", ["PHONE"])
    assert [(e["field"], e["code"]) for e in result["errors"]] == [("matchOn", "INVALID")]
    assert "phone" in result["errors"][0]["message"]
    assert list(await customers(admin)) == ["Existing"]


# ----------------------------------------------------------------------------- export


def csv_rows(text: str) -> list[list[str]]:
    assert text.startswith("\ufeff")  # spreadsheet programs then read UTF-8
    return list(csv.reader(io.StringIO(text[1:])))


async def test_export_csv_and_xlsx_with_filter_and_order(admin: Api) -> None:
    rep = await make_user(admin.db, admin.settings, "rep@example.com", [SALES_REPRESENTATIVE])
    rep_id = relay.to_base64("User", rep)
    acme = await create(
        admin,
        name="Acme, Ltd",
        industry="Manufacturing",
        stage="ACTIVE",
        grade="GOLD",
        source="REFERRAL",
        phone="+12125550100",
        email="info@acme.example",
        website="acme.example",
        address={
            "line1": "1 Main St",
            "city": "Springfield",
            "region": "IL",
            "postalCode": "62701",
            "country": "US",
        },
        tags=["vip", "Key Account"],
        ownerId=rep_id,
    )
    bravo = await create(admin, name="Bravo \u00e9t\u00e9", stage="NEW", kind="PERSON")
    gone = await create(admin, name="Charlie")
    archived = await admin.gql(
        "mutation($id: ID!) { archiveCustomer(input: {id: $id, version: 1}) { errors { code } } }",
        {"id": gone["id"]},
    )
    assert data(archived)["archiveCustomer"]["errors"] == []
    logged = await admin.gql(
        """mutation($id: ID!) { logInteraction(input: {customerId: $id, channel: PHONE,
        summary: "Call"}) { interaction { occurredAt } errors { code } } }""",
        {"id": acme["id"]},
    )
    occurred = data(logged)["logInteraction"]["interaction"]["occurredAt"]

    response = await admin.client.get("/export/customers.csv", headers=admin.headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    disposition = response.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="customers-')
    assert disposition.endswith('.csv"')
    rows = csv_rows(response.text)
    assert rows[0] == export_header("UTC")
    assert len(rows) == 3  # archived customers are not exported unless asked for
    exported = dict(zip(COLUMNS, rows[1], strict=True))
    assert exported == {
        "number": acme["number"],
        "name": "Acme, Ltd",
        "kind": "COMPANY",
        "industry": "Manufacturing",
        "stage": "ACTIVE",
        "grade": "GOLD",
        "source": "REFERRAL",
        "phone": "+12125550100",
        "email": "info@acme.example",
        "website": "https://acme.example",
        "address_line1": "1 Main St",
        "address_line2": "",
        "city": "Springfield",
        "region": "IL",
        "postal_code": "62701",
        "country": "US",
        "owner_email": "rep@example.com",
        "tags": "Key Account;vip",
        "created_at": exported["created_at"],
        "last_interaction_at": exported["last_interaction_at"],
    }
    assert dt.datetime.fromisoformat(exported["created_at"]) == dt.datetime.fromisoformat(
        acme["createdAt"]
    )
    assert dt.datetime.fromisoformat(exported["last_interaction_at"]) == (
        dt.datetime.fromisoformat(occurred)
    )
    assert rows[2][:5] == [bravo["number"], "Bravo \u00e9t\u00e9", "PERSON", "", "NEW"]
    assert rows[2][16:] == ["admin@example.com", "", rows[2][18], ""]

    async def numbers(**params: str) -> list[str]:
        got = await admin.client.get("/export/customers.csv", headers=admin.headers, params=params)
        assert got.status_code == 200, got.text
        return [row[0] for row in csv_rows(got.text)[1:]]

    assert await numbers(filter='{"stage": ["NEW"]}') == [bravo["number"]]
    assert await numbers(filter='{"search": "acme", "tags": ["VIP"]}') == [acme["number"]]
    assert await numbers(filter='{"archived": true}') == [gone["number"]]
    assert await numbers(orderBy='{"field": "NAME", "direction": "DESC"}') == [
        bravo["number"],
        acme["number"],
    ]
    assert await numbers(
        filter=json.dumps({"ownerId": rep_id}), orderBy='{"field": "LAST_INTERACTION_AT"}'
    ) == [acme["number"]]
    assert await numbers(filter=" ", orderBy="") == [acme["number"], bravo["number"]]

    # XLSX: the same rows, read back by openpyxl.
    response = await admin.client.get(
        "/export/customers.xlsx",
        headers=admin.headers,
        params={"orderBy": '{"field": "NUMBER", "direction": "DESC"}'},
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert response.headers["content-disposition"].endswith('.xlsx"')
    workbook = load_workbook(io.BytesIO(response.content), read_only=True)
    assert workbook.sheetnames == ["Customers"]
    sheet = workbook["Customers"]
    table = list(sheet.iter_rows(values_only=True))
    assert list(table[0]) == export_header("UTC")
    assert [row[0] for row in table[1:]] == [bravo["number"], acme["number"]]
    acme_row = dict(zip(COLUMNS, table[2], strict=True))  # every cell filled
    assert {
        k: v for k, v in acme_row.items() if k not in ("created_at", "last_interaction_at")
    } == {
        k: (v or None)
        for k, v in exported.items()
        if k not in ("created_at", "last_interaction_at")
    }
    created = dt.datetime.fromisoformat(acme["createdAt"]).replace(tzinfo=None)
    assert isinstance(acme_row["created_at"], dt.datetime)
    assert abs(acme_row["created_at"] - created) < dt.timedelta(milliseconds=1)
    assert len(table[1]) < len(COLUMNS) or table[1][-1] is None  # no last interaction


async def test_export_refuses_bad_parameters_and_anonymous_callers(admin: Api) -> None:
    await create(admin, name="Acme")
    for params, argument in [
        ({"filter": "{not json"}, "filter"),
        ({"filter": '{"stage": ["NOPE"]}'}, "filter"),
        ({"filter": '{"colour": "red"}'}, "filter"),
        ({"filter": "[1, 2]"}, "filter"),
        ({"filter": '{"ownerId": 5}'}, "filter"),
        ({"orderBy": "NAME"}, "orderBy"),
        ({"orderBy": '{"field": "SIZE"}'}, "orderBy"),
        ({"orderBy": '{"field": "NAME", "direction": "UP"}'}, "orderBy"),
        (
            {"filter": '{"customFields": [{"key": "k", "equals": [1]}]}'},
            "filter.customFields.0.key",  # no custom field k is defined
        ),
    ]:
        for fmt in ("csv", "xlsx"):
            response = await admin.client.get(
                f"/export/customers.{fmt}", headers=admin.headers, params=params
            )
            assert response.status_code == 400, (params, response.text)
            error = response.json()["errors"][0]
            assert error["extensions"] == {"code": "BAD_USER_INPUT", "argument": argument}, params
            assert error["message"].startswith(argument), error

    for headers in ({}, {"Authorization": "Bearer not-a-token"}):
        for fmt in ("csv", "xlsx"):
            response = await admin.client.get(f"/export/customers.{fmt}", headers=headers)
            assert response.status_code == 401, response.text
            assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    response = await admin.client.get("/export/customers.pdf", headers=admin.headers)
    assert response.status_code == 404


async def test_a_large_export_streams_every_row_across_batches(admin: Api) -> None:
    """More rows than one read batch (1,000) and one CSV chunk (500): nothing lost or doubled,
    tags and owners right in every batch."""
    size = 1_250
    now = utcnow()
    async with admin.db.transaction() as session:
        await session.execute(
            insert(models.Tag), [{"id": 1, "name": "Even", "name_key": "even", "created_at": now}]
        )
        await session.execute(
            insert(models.Customer),
            [
                {
                    "id": n,
                    "number": f"C{n:06d}",
                    "name": f"Customer {n:05d}",
                    "kind": "COMPANY",
                    "stage": "ACTIVE",
                    "grade": "STANDARD",
                    "owner_id": admin.user_id,
                    "custom_fields": {},
                    "created_at": now,
                    "updated_at": now,
                    "version": 1,
                }
                for n in range(1, size + 1)
            ],
        )
        await session.execute(
            insert(models.CustomerTag),
            [{"customer_id": n, "tag_id": 1} for n in range(2, size + 1, 2)],
        )

    response = await admin.client.get("/export/customers.csv", headers=admin.headers)
    assert response.status_code == 200
    rows = csv_rows(response.text)[1:]
    assert [row[0] for row in rows] == [f"C{n:06d}" for n in range(1, size + 1)]
    assert all(row[16] == "admin@example.com" for row in rows)
    assert [row[17] for row in rows] == ["Even" if n % 2 == 0 else "" for n in range(1, size + 1)]

    response = await admin.client.get("/export/customers.xlsx", headers=admin.headers)
    sheet = load_workbook(io.BytesIO(response.content), read_only=True)["Customers"]
    table = list(sheet.iter_rows(values_only=True))[1:]
    assert [row[0] for row in table] == [row[0] for row in rows]
    assert table[-1][17] == "Even"


# ----------------------------------------------------------------------------- command line


@pytest.fixture
def crm_env(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """``crm`` configured for this test's database (core only), migrated."""
    monkeypatch.setenv("CRM_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CRM_DATABASE_URL", database_url)
    monkeypatch.setenv("CRM_PLUGINS", "")
    monkeypatch.setenv("CRM_DORMANT_DAYS", "30")
    result = runner.invoke(cli, ["migrate"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        cli,
        [
            "createuser",
            "--email",
            "rep@example.com",
            "--name",
            "Rep",
            "--password",
            DEFAULT_PASSWORD,
            "--role",
            SALES_REPRESENTATIVE,
        ],
    )
    assert result.exit_code == 0, result.output
    return database_url


def run_sql(url: str, work: Any) -> Any:
    """Run ``await work(session)`` in a transaction on the database at ``url``."""

    async def main() -> Any:
        database = Database(url)
        try:
            async with database.transaction() as session:
                return await work(session)
        finally:
            await database.dispose()

    return asyncio.run(main())


def count(url: str, model: Any, *conditions: Any) -> int:
    async def work(session: Any) -> int:
        return int(await session.scalar(select(func.count()).select_from(model).where(*conditions)))

    result: int = run_sql(url, work)
    return result


def test_cli_import_customers(crm_env: str, tmp_path: Path) -> None:
    url = crm_env
    good = tmp_path / "good.csv"
    good.write_text(
        "\ufeffname,email,phone,stage\n"
        "Acme,info@acme.example,(212) 555-0100,ACTIVE\n"
        "Bravo,bravo@example.com,,\n",
        encoding="utf-8",
    )
    dry = runner.invoke(
        cli, ["import", "customers", str(good), "--as", "rep@example.com", "--dry-run"]
    )
    assert dry.exit_code == 0, dry.output
    assert "would create 2, would update 0; 0 rows with errors (nothing imported)" in dry.output
    assert count(url, models.Customer) == 0

    done = runner.invoke(cli, ["import", "customers", str(good), "--as", "REP@example.com"])
    assert done.exit_code == 0, done.output
    assert "created 2, updated 0; 0 rows with errors" in done.output
    assert "nothing imported" not in done.output
    assert count(url, models.Customer) == 2
    assert count(url, models.Customer, models.Customer.phone == "+12125550100") == 1

    again = tmp_path / "again.csv"
    again.write_text("phone,name\n212 555 0100,Acme Renamed\n", encoding="utf-8")
    by_phone = runner.invoke(
        cli, ["import", "customers", str(again), "--as", "rep@example.com", "--match-on", "phone"]
    )
    assert by_phone.exit_code == 0, by_phone.output
    assert "created 0, updated 1" in by_phone.output
    assert count(url, models.Customer, models.Customer.name == "Acme Renamed") == 1

    bad = tmp_path / "bad.csv"
    bad.write_text("name,email\nGood,good@example.com\nBad,not-an-email\n", encoding="utf-8")
    refused = runner.invoke(cli, ["import", "customers", str(bad), "--as", "rep@example.com"])
    assert refused.exit_code == 1, refused.output
    assert "line 3: email: is not a valid email address" in refused.output
    assert "would create 1, would update 0; 1 rows with errors (nothing imported)" in refused.output
    assert count(url, models.Customer) == 2

    for args, words in [
        (["--as", "nobody@example.com"], "--as: no active user"),
        (["--as", "rep@example.com", "--match-on", "SIZE"], "--match-on: SIZE"),
    ]:
        result = runner.invoke(cli, ["import", "customers", str(good), *args])
        assert result.exit_code == 2, result.output
        assert words in result.output
    unknown = tmp_path / "unknown.csv"
    unknown.write_text("name,colour\nX,red\n", encoding="utf-8")
    result = runner.invoke(cli, ["import", "customers", str(unknown), "--as", "rep@example.com"])
    assert result.exit_code == 2, result.output
    assert "unknown columns: colour" in result.output
    assert count(url, models.Customer) == 2


def test_cli_import_reads_gb18030_files(crm_env: str, tmp_path: Path) -> None:
    url = crm_env
    gbk = tmp_path / "gbk.csv"  # as Excel on Chinese Windows saves "CSV"
    gbk.write_bytes(
        "name,email,city,tags\n"
        "北京远航科技有限公司,info@yuanhang.example,北京,重点客户\n"
        "张伟,zhangwei@example.com,上海,个人\n".encode("gb18030")
    )
    wrong = runner.invoke(
        cli, ["import", "customers", str(gbk), "--as", "rep@example.com", "--encoding", "UTF-8"]
    )
    assert wrong.exit_code == 2, wrong.output
    assert "is not UTF-8 text (byte" in wrong.output
    assert "name its encoding with the encoding option" in wrong.output
    assert "Traceback" not in wrong.output
    unknown = runner.invoke(
        cli, ["import", "customers", str(gbk), "--as", "rep@example.com", "--encoding", "latin1"]
    )
    assert unknown.exit_code == 2, unknown.output
    assert "--encoding: must be AUTO, UTF_8 or GB18030" in unknown.output
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes("name,email\nMüller GmbH,info@mueller.example\n".encode("latin-1"))
    refused = runner.invoke(cli, ["import", "customers", str(latin1), "--as", "rep@example.com"])
    assert refused.exit_code == 2, refused.output
    assert "line 2, column name: looks mis-decoded" in refused.output
    assert count(url, models.Customer) == 0

    for args in ([], ["--encoding", "GB18030"]):
        done = runner.invoke(
            cli, ["import", "customers", str(gbk), "--as", "rep@example.com", "--dry-run", *args]
        )
        assert done.exit_code == 0, done.output
        assert "would create 2" in done.output
    done = runner.invoke(cli, ["import", "customers", str(gbk), "--as", "rep@example.com"])
    assert done.exit_code == 0, done.output
    assert "created 2, updated 0; 0 rows with errors" in done.output
    assert "Traceback" not in done.output

    async def names(session: Any) -> list[tuple[str, str | None]]:
        rows = await session.execute(
            select(models.Customer.name, models.Customer.city).order_by(models.Customer.id)
        )
        return [tuple(row) for row in rows.all()]

    assert run_sql(url, names) == [("北京远航科技有限公司", "北京"), ("张伟", "上海")]


def test_cli_jobs_run_is_idempotent(crm_env: str, tmp_path: Path) -> None:
    url = crm_env
    source = tmp_path / "customers.csv"
    source.write_text(
        "name,email,stage\n"
        "Quiet,quiet@example.com,ACTIVE\n"
        "Busy,busy@example.com,ACTIVE\n"
        "Prospect,prospect@example.com,POTENTIAL\n"
        "Recent,recent@example.com,ACTIVE\n",
        encoding="utf-8",
    )
    result = runner.invoke(cli, ["import", "customers", str(source), "--as", "rep@example.com"])
    assert result.exit_code == 0, result.output

    now = utcnow()
    soon = (now + dt.timedelta(days=3)).date()
    later = (now + dt.timedelta(days=10)).date()

    async def age(session: Any) -> None:
        long_ago = now - dt.timedelta(days=60)
        c = models.Customer
        await session.execute(update(c).values(created_at=long_ago, updated_at=long_ago))
        # Busy talked to us 10 days ago (less than CRM_DORMANT_DAYS=30); Recent is new.
        await session.execute(
            update(c)
            .where(c.name == "Busy")
            .values(last_interaction_at=now - dt.timedelta(days=10))
        )
        await session.execute(update(c).where(c.name == "Recent").values(created_at=now))
        ids = {row.name: row.id for row in (await session.execute(select(c.id, c.name))).all()}
        for customer, name, birthday, archived_at in [
            ("Prospect", "Birthday Soon", soon, None),
            ("Prospect", "Birthday Later", later, None),
            ("Busy", "Archived Soon", soon, now),
        ]:
            session.add(
                models.Contact(
                    customer_id=ids[customer],
                    name=name,
                    birthday=birthday.replace(year=1988),  # a leap year: 29 February exists
                    archived_at=archived_at,
                    is_primary=False,
                    created_at=now,
                    updated_at=now,
                )
            )

    run_sql(url, age)
    audits_before = count(url, AuditEvent)

    first = runner.invoke(cli, ["jobs", "run"])
    assert first.exit_code == 0, first.output
    assert "customers marked dormant: 1" in first.output
    assert "birthday reminders created: 1" in first.output

    async def state(session: Any) -> dict[str, Any]:
        c = models.Customer
        stages = dict((await session.execute(select(c.name, c.stage))).all())
        versions = dict((await session.execute(select(c.name, c.version))).all())
        tasks = (await session.scalars(select(models.Task).order_by(models.Task.id))).all()
        return {
            "stages": stages,
            "versions": versions,
            "tasks": [(t.title, t.due_at, t.assignee_id, t.customer_id) for t in tasks],
        }

    after_first = run_sql(url, state)
    assert after_first["stages"] == {
        "Quiet": "DORMANT",
        "Busy": "ACTIVE",
        "Prospect": "POTENTIAL",
        "Recent": "ACTIVE",
    }
    assert after_first["versions"]["Quiet"] == 2  # a change clients see as a new version
    titles = sorted(title for title, *_ in after_first["tasks"])
    since = (now - dt.timedelta(days=60)).date().isoformat()
    assert titles == [
        f"Birthday of Birthday Soon on {soon.isoformat()}",
        f"Re-engage Quiet (dormant since {since})",
    ]

    async def owner(session: Any) -> int:
        return int(await session.scalar(select(models.Customer.owner_id).limit(1)))

    rep_id = run_sql(url, owner)
    assert {assignee for _, _, assignee, _ in after_first["tasks"]} == {rep_id}
    birthday_due = next(due for title, due, *_ in after_first["tasks"] if "Birthday" in title)
    assert birthday_due == dt.datetime.combine(soon, dt.time(9), tzinfo=dt.UTC)
    assert count(url, AuditEvent) == audits_before + 2  # the stage change and the reminders

    second = runner.invoke(cli, ["jobs", "run"])
    assert second.exit_code == 0, second.output
    assert "customers marked dormant: 0" in second.output
    assert "birthday reminders created: 0" in second.output
    assert run_sql(url, state) == after_first  # nothing new, nothing changed
    assert count(url, AuditEvent) == audits_before + 2
