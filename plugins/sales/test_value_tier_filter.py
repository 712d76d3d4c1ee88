"""``customers(filter: {valueTier})``: customers by the tier stored in
``sales_customer_values`` (none stored is STANDARD), with core's filters, in the list and the
CSV export, for callers who see the pipeline or the purchase history only."""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import io
from typing import Any

from core.plugin_api import FINANCE, SYSTEM_ADMINISTRATOR
from plugins.sales.models import CustomerValue
from plugins.sales.testing import create_customer, data, db_id, mutate_ok
from schema.testkit import Api

CUSTOMERS = """
query($filter: CustomerFilter) {
  customers(filter: $filter, first: 50, orderBy: [{field: NAME}]) {
    totalCount edges { node { name } }
  }
}"""


async def names(api: Api, filter: dict[str, Any] | None) -> list[str]:
    connection = data(await api.gql(CUSTOMERS, {"filter": filter}))["customers"]
    assert connection["totalCount"] == len(connection["edges"])
    return [edge["node"]["name"] for edge in connection["edges"]]


async def store_tiers(api: Api, tiers: dict[str, str]) -> None:
    """``sales_customer_values`` rows for customers by global id (as order upkeep keeps)."""
    async with api.db.transaction() as session:
        for customer_id, tier in tiers.items():
            session.add(
                CustomerValue(
                    customer_id=db_id(customer_id),
                    spent_12m=decimal.Decimal("1000.00"),
                    tier=tier,
                    computed_on=dt.date(2026, 11, 23),
                )
            )


async def customers(admin: Api) -> dict[str, str]:
    """Acme HIGH, Bravo MEDIUM, Charlie stored STANDARD, Delta with no row (STANDARD), Echo
    MEDIUM and a NEW customer."""
    ids = {name: await create_customer(admin, name) for name in ("Acme", "Bravo", "Charlie")}
    ids["Delta"] = await create_customer(admin, "Delta")
    echo = await mutate_ok(
        admin, "createCustomer", {"name": "Echo", "stage": "NEW"}, "customer { id }"
    )
    ids["Echo"] = echo["customer"]["id"]
    await store_tiers(
        admin,
        {
            ids["Acme"]: "HIGH",
            ids["Bravo"]: "MEDIUM",
            ids["Charlie"]: "STANDARD",
            ids["Echo"]: "MEDIUM",
        },
    )
    return ids


async def test_customers_are_filtered_by_value_tier(admin: Api) -> None:
    await customers(admin)
    assert await names(admin, {"valueTier": ["HIGH"]}) == ["Acme"]
    assert await names(admin, {"valueTier": ["MEDIUM"]}) == ["Bravo", "Echo"]
    assert await names(admin, {"valueTier": ["HIGH", "MEDIUM"]}) == ["Acme", "Bravo", "Echo"]
    # A customer without a stored value is STANDARD.
    assert await names(admin, {"valueTier": ["STANDARD"]}) == ["Charlie", "Delta"]
    assert await names(admin, {"valueTier": ["STANDARD", "HIGH"]}) == ["Acme", "Charlie", "Delta"]
    every = ["Acme", "Bravo", "Charlie", "Delta", "Echo"]
    assert await names(admin, {"valueTier": ["STANDARD", "MEDIUM", "HIGH"]}) == every
    assert await names(admin, {"valueTier": []}) == every
    assert await names(admin, {"valueTier": None}) == every
    assert await names(admin, None) == every
    # With core's filters.
    assert await names(admin, {"valueTier": ["MEDIUM"], "stage": ["NEW"]}) == ["Echo"]
    assert await names(admin, {"valueTier": ["MEDIUM"], "search": "bra"}) == ["Bravo"]
    inline = await admin.gql("{ customers(filter: {valueTier: [HIGH]}) { totalCount } }")
    assert data(inline)["customers"]["totalCount"] == 1


async def test_an_unknown_tier_is_refused(admin: Api) -> None:
    body = await admin.gql("{ customers(filter: {valueTier: [GOLD]}) { totalCount } }")
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED", body
    body = await admin.gql(CUSTOMERS, {"filter": {"valueTier": ["GOLD"]}})
    assert "data" not in body or body["data"] is None, body
    assert "valueTier" in body["errors"][0]["message"], body
    response = await admin.client.get(
        "/export/customers.csv", headers=admin.headers, params={"filter": '{"valueTier": ["GOLD"]}'}
    )
    assert response.status_code == 400, response.text
    error = response.json()["errors"][0]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "argument": "filter"}
    assert error["message"].startswith("filter.valueTier"), error


async def test_the_export_applies_the_value_tier(admin: Api) -> None:
    await customers(admin)
    response = await admin.client.get(
        "/export/customers.csv",
        headers=admin.headers,
        params={"filter": '{"valueTier": ["MEDIUM", "HIGH"]}', "orderBy": '{"field": "NAME"}'},
    )
    assert response.status_code == 200, response.text
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    column = rows[0].index("name")
    assert [row[column] for row in rows[1:]] == ["Acme", "Bravo", "Echo"]


async def test_only_callers_who_see_sales_or_orders_filter_by_tier(admin: Api) -> None:
    ids = await customers(admin)
    finance = await admin.user("finance@example.com", [FINANCE])
    assert await names(finance, {"valueTier": ["HIGH"]}) == ["Acme"]

    sysadmin = await admin.user("sysadmin@example.com", [SYSTEM_ADMINISTRATOR])
    assert len(await names(sysadmin, None)) == len(ids)  # reads customers, not sales
    body = await sysadmin.gql(CUSTOMERS, {"filter": {"valueTier": ["HIGH"]}})
    assert body["data"]["customers"] is None, body
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", body
    grants = [
        {"permission": "customers:read", "scope": "ALL"},
        {"permission": "customers:export", "scope": "ALL"},
    ]
    await mutate_ok(
        admin,
        "createRole",
        {"name": "Exporter", "key": "EXPORTER", "grants": grants},
        "role { id }",
    )
    exporter = await admin.user("exporter@example.com", ["EXPORTER"])
    for fmt in ("csv", "xlsx"):
        response = await exporter.client.get(
            f"/export/customers.{fmt}",
            headers=exporter.headers,
            params={"filter": '{"valueTier": ["HIGH"]}'},
        )
        assert response.status_code == 403, response.text
        assert response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        response = await exporter.client.get(f"/export/customers.{fmt}", headers=exporter.headers)
        assert response.status_code == 200, response.text
