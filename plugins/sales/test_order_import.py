"""Importing an order feed over HTTP (``importOrders``): orders of several lines, the
defaults, a feed imported twice creating its orders once, a dry run, every refused row named
by its line and column, refused files, and who may import.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select

from core.plugin_api import FINANCE, SALES_REPRESENTATIVE, AuditEvent
from plugins.sales import models
from plugins.sales.test_orders import product
from plugins.sales.testing import create_customer, data, error_code
from schema.testkit import Api

IMPORT = """
mutation($input: ImportOrdersInput!) {
  importOrders(input: $input) {
    created skipped imported dryRun
    rowErrors { line field message code }
    errors { field message code }
  }
}"""
HEADER = (
    "external_ref,customer_number,ordered_at,currency,owner_email,"
    "sku,quantity,unit_price,discount_percent\n"
)
ORDERS = """
query {
  orders(filter: {source: "erp"}, first: 50) {
    totalCount
    edges { node { number externalRef source status orderedAt total { amount currency }
      owner { id } lines { product { sku } quantity unitPrice { amount } discountPercent } } }
  }
}"""


async def run(api: Api, csv: str, *, source: str = "erp", dry_run: bool = False) -> dict[str, Any]:
    body = await api.gql(IMPORT, {"input": {"csv": csv, "source": source, "dryRun": dry_run}})
    payload: dict[str, Any] = data(body)["importOrders"]
    return payload


async def customer_number(api: Api, name: str, owner_id: int | None = None) -> str:
    customer = await create_customer(api, name, owner_id)
    body = await api.gql(
        "query($id: ID!) { node(id: $id) { ... on Customer { number } } }", {"id": customer}
    )
    number: str = data(body)["node"]["number"]
    return number


async def stored_orders(api: Api) -> int:
    async with api.db.read() as session:
        count = await session.scalar(select(func.count()).select_from(models.Order))
    return int(count or 0)


async def test_a_feed_places_orders_of_several_lines_with_defaults(admin: Api) -> None:
    acme = await customer_number(admin, "Acme")
    await product(admin, "PEN", "12.50")
    await product(admin, "INK", "3.00")
    csv = HEADER + (
        f"ERP-1,{acme},2026-11-20T10:00:00+08:00,CNY,,PEN,2,,10\n"
        "ERP-1,,,,,INK,1,2.50,\n"
        f"ERP-2,{acme},2026-11-21,,admin@example.com,INK,4,,\n"
    )

    result = await run(admin, csv)

    assert result == {
        "created": 2,
        "skipped": 0,
        "imported": True,
        "dryRun": False,
        "rowErrors": [],
        "errors": [],
    }
    listed = data(await admin.gql(ORDERS))["orders"]
    orders = {edge["node"]["externalRef"]: edge["node"] for edge in listed["edges"]}
    first, second = orders["ERP-1"], orders["ERP-2"]
    assert first["source"] == "erp"
    assert first["status"] == "PLACED"
    assert dt.datetime.fromisoformat(first["orderedAt"]) == dt.datetime(
        2026, 11, 20, 2, tzinfo=dt.UTC
    )
    # 2 x 12.50 less 10% = 22.50, plus 1 x 2.50 (the given price wins over the list's).
    assert first["total"] == {"amount": "25.00", "currency": "CNY"}
    assert [(ln["product"]["sku"], ln["unitPrice"]["amount"]) for ln in first["lines"]] == [
        ("PEN", "12.50"),
        ("INK", "2.50"),
    ]
    # A date alone is midnight in the importer's zone (UTC here); the owner by email.
    assert dt.datetime.fromisoformat(second["orderedAt"]) == dt.datetime(
        2026, 11, 21, tzinfo=dt.UTC
    )
    assert second["total"] == {"amount": "12.00", "currency": "CNY"}
    assert second["owner"] is not None


async def test_a_feed_imported_twice_creates_its_orders_once(admin: Api) -> None:
    acme = await customer_number(admin, "Acme")
    await product(admin, "PEN", "12.50")
    csv = HEADER + f"A-1,{acme},,,,PEN,1,,\nA-2,{acme},,,,PEN,2,,\n"

    assert (await run(admin, csv))["created"] == 2
    again = await run(admin, csv + f"A-3,{acme},,,,PEN,3,,\n")

    assert (again["created"], again["skipped"], again["rowErrors"]) == (1, 2, [])
    assert await stored_orders(admin) == 3
    # The same reference from another source is another order.
    other = await run(admin, csv, source="shop")
    assert (other["created"], other["skipped"]) == (2, 0)
    assert await stored_orders(admin) == 5


async def test_a_dry_run_checks_every_row_and_keeps_nothing(admin: Api) -> None:
    acme = await customer_number(admin, "Acme")
    await product(admin, "PEN", "12.50")

    result = await run(admin, HEADER + f"D-1,{acme},,,,PEN,1,,\n", dry_run=True)

    assert (result["created"], result["imported"], result["dryRun"]) == (1, False, True)
    assert await stored_orders(admin) == 0
    # Nothing was kept, so the real import creates the order.
    assert (await run(admin, HEADER + f"D-1,{acme},,,,PEN,1,,\n"))["created"] == 1


async def test_bad_rows_are_named_by_line_and_column_and_nothing_is_kept(admin: Api) -> None:
    acme = await customer_number(admin, "Acme")
    await product(admin, "PEN", "12.50")
    await product(admin, "OLD", "1.00", active=False)
    csv = HEADER + (
        f"OK-1,{acme},,,,PEN,1,,\n"  # line 2: fine, yet not kept
        f"B-1,C999999,,,,PEN,1,,\n"  # line 3: no such customer
        f"B-2,{acme},yesterday,,,PEN,1,,\n"  # line 4: not a date
        f"B-3,{acme},,XYZ,,PEN,1,,\n"  # line 5: no such currency
        f"B-4,{acme},,,nobody@example.com,PEN,1,,\n"  # line 6: no such user
        f"B-5,{acme},,,,NOPE,1,,\n"  # line 7: no such product
        f"B-6,{acme},,,,PEN,many,,\n"  # line 8: not a number
        f"B-7,{acme},,,,PEN,1,,\n"  # line 9: fine, but its second line is not
        "B-7,,,,,OLD,0,,\n"  # line 10: inactive product, quantity 0
        f"B-8,{acme},,,,PEN,1,,\n"  # line 11
        "B-8,C000777,,,,PEN,1,,\n"  # line 12: another customer in the same order
        ",{acme},,,,PEN,1,,\n"  # line 13: no reference
        f"B-9,{acme},2099-01-01,,,PEN,1,,\n"  # line 14: in the future
        f"B-10,{acme},,,,PEN,1,,5,extra\n"  # line 15: one value too many
    )

    result = await run(admin, csv)

    assert result["imported"] is False
    found = {(e["line"], e["field"], e["code"]) for e in result["rowErrors"]}
    assert found == {
        (3, "customer_number", "INVALID"),
        (4, "ordered_at", "INVALID"),
        (5, "currency", "INVALID"),
        (6, "owner_email", "INVALID"),
        (7, "sku", "INVALID"),
        (8, "quantity", "INVALID"),
        (10, "sku", "BUSINESS_RULE"),
        (10, "quantity", "OUT_OF_RANGE"),
        (12, "customer_number", "INVALID"),
        (13, "external_ref", "REQUIRED"),
        (14, "ordered_at", "OUT_OF_RANGE"),
        (15, None, "INVALID"),
    }
    messages = {(e["line"], e["field"]): e["message"] for e in result["rowErrors"]}
    assert messages[(3, "customer_number")] == "no customer you may sell to has this number"
    assert messages[(7, "sku")] == "no product has this SKU"
    assert await stored_orders(admin) == 0


async def test_files_that_cannot_be_imported_are_refused_whole(admin: Api) -> None:
    missing = await run(admin, "external_ref,sku\nX,PEN\n")
    assert [(e["field"], e["code"]) for e in missing["errors"]] == [("csv", "INVALID")]
    assert "customer_number" in missing["errors"][0]["message"]

    unknown = await run(admin, HEADER.strip() + ",colour\n")
    assert "unknown columns: colour" in unknown["errors"][0]["message"]

    no_source = await run(admin, HEADER, source="  ")
    assert [(e["field"], e["code"]) for e in no_source["errors"]] == [("source", "REQUIRED")]


async def test_the_row_limit_is_the_synchronous_import_limit(admin: Api) -> None:
    limit = admin.settings.import_sync_max_rows
    acme = await customer_number(admin, "Acme")
    csv = HEADER + "".join(f"R-{n},{acme},,,,PEN,1,,\n" for n in range(limit + 1))

    result = await run(admin, csv)

    assert [(e["field"], e["code"]) for e in result["errors"]] == [("csv", "OUT_OF_RANGE")]


async def test_only_sellers_import_and_only_for_their_customers(api: Api, admin: Api) -> None:
    rep = await api.user("rep@example.com", [SALES_REPRESENTATIVE])
    finance = await api.user("finance@example.com", [FINANCE])
    theirs = await customer_number(admin, "Theirs")
    mine = await customer_number(admin, "Mine", rep.user_id)
    await product(admin, "PEN", "12.50")

    body = await finance.gql(IMPORT, {"input": {"csv": HEADER, "source": "erp"}})
    assert error_code(body) == "FORBIDDEN"

    refused = await run(rep, HEADER + f"T-1,{theirs},,,,PEN,1,,\n")
    assert [(e["line"], e["field"]) for e in refused["rowErrors"]] == [(2, "customer_number")]
    accepted = await run(rep, HEADER + f"M-1,{mine},,,,PEN,1,,\n")
    assert (accepted["created"], accepted["rowErrors"]) == (1, [])


async def test_imported_orders_are_audited_as_the_importer_placed_them(admin: Api) -> None:
    acme = await customer_number(admin, "Acme")
    await product(admin, "PEN", "12.50")
    await run(admin, HEADER + f"H-1,{acme},,,,PEN,1,,\n")
    await run(admin, HEADER + f"H-1,{acme},,,,PEN,1,,\n")  # skipped: no second event

    async with admin.db.read() as session:
        order_id = await session.scalar(
            select(models.Order.id).where(models.Order.external_ref == "H-1")
        )
        events = (
            await session.execute(
                select(AuditEvent.action, AuditEvent.entity_id, AuditEvent.actor_id).where(
                    AuditEvent.action.like("sales.order.%")
                )
            )
        ).all()
    assert events == [("sales.order.placed", str(order_id), admin.user_id)]


async def test_values_a_feed_may_spell_differently(admin: Api) -> None:
    acme = await customer_number(admin, "Acme")
    await product(admin, "PEN-1", "12.50")
    csv = HEADER + (
        f"V-1,{acme.lower()},,,,pen-1,1,,\n"  # case does not matter in numbers and SKUs
        f"V-2,{acme},0001-01-01T00:00:00+08:00,,,PEN-1,1,,\n"  # before the calendar starts
        f'V-3,{acme},,,,PEN-1,"2,5",,\n'  # a decimal comma, or a thousands separator?
    )

    result = await run(admin, csv)

    assert {(e["line"], e["field"], e["code"]) for e in result["rowErrors"]} == {
        (3, "ordered_at", "OUT_OF_RANGE"),
        (4, "quantity", "INVALID"),
    }
    ok = await run(admin, HEADER + f"V-1,{acme.lower()},,,,pen-1,1,,\n")
    assert (ok["created"], ok["rowErrors"]) == (1, [])
