"""The warranty plugin, tested as any plugin's author would: through the installed test kit."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import inspect

from core.plugin_api import CRMPluginManager, Database, Settings
from schema.testkit import (
    Api,
    CommandLine,
    assert_catalog_complete,
    migrate_down,
    model_drift,
    non_null_roots,
)

CREATE_CUSTOMER = """
mutation($name: String!) {
  createCustomer(input: {name: $name}) { customer { id version } errors { field code } }
}"""
REGISTER = """
mutation($input: RegisterWarrantyInput!) {
  registerWarranty(input: $input) {
    warranty { id product serial startsOn endsOn customer { id } }
    errors { field message code }
  }
}"""
CUSTOMER_WARRANTIES = """
query($id: ID!) {
  node(id: $id) {
    ... on Customer { warranties(first: 10) { totalCount edges { node { serial } } } }
  }
}"""
WARRANTIES = "{ warranties(first: 10) { totalCount edges { node { id serial } } } }"
NODE = "query($id: ID!) { node(id: $id) { ... on Warranty { serial } } }"
MERGE = """
mutation($source: ID!, $target: ID!, $dryRun: Boolean!) {
  mergeCustomers(input: {sourceId: $source, targetId: $target, dryRun: $dryRun}) {
    moved { kind count } errors { field code }
  }
}"""
ERASE = """
mutation($id: ID!, $version: Int!) {
  eraseCustomer(input: {id: $id, version: $version, reason: "request 17"}) {
    errors { field code }
  }
}"""
VERSION = "query($id: ID!) { node(id: $id) { ... on Customer { version } } }"
TODAY = dt.datetime.now(dt.UTC).date()  # the date the command reads (CRM_TIME_ZONE: UTC)


async def customer(client: Api, name: str) -> dict[str, Any]:
    body = await client.gql(CREATE_CUSTOMER, {"name": name})
    payload: dict[str, Any] = body["data"]["createCustomer"]
    assert payload["errors"] == [], payload
    return dict(payload["customer"])


def warranty_input(customer_id: str, serial: str, **changes: Any) -> dict[str, Any]:
    values = {
        "customerId": customer_id,
        "product": "Espresso machine",
        "serial": serial,
        "startsOn": TODAY.isoformat(),
        "endsOn": (TODAY + dt.timedelta(days=365)).isoformat(),
    }
    return {"input": {**values, **changes}}


async def register(client: Api, customer_id: str, serial: str, **changes: Any) -> dict[str, Any]:
    body = await client.gql(REGISTER, warranty_input(customer_id, serial, **changes))
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["registerWarranty"]
    return payload


def serials(body: dict[str, Any], *path: str) -> list[str]:
    connection = body["data"]
    for key in path:
        connection = connection[key]
    return [edge["node"]["serial"] for edge in connection["edges"]]


async def test_a_registered_warranty_reads_back_everywhere(admin: Api) -> None:
    acme = await customer(admin, "Acme")
    payload = await register(admin, acme["id"], " SN-1 ")

    assert payload["errors"] == []
    warranty = payload["warranty"]
    assert warranty["serial"] == "SN-1"  # trimmed
    assert warranty["customer"] == {"id": acme["id"]}
    assert serials(await admin.gql(WARRANTIES), "warranties") == ["SN-1"]
    by_customer = await admin.gql(CUSTOMER_WARRANTIES, {"id": acme["id"]})
    assert by_customer["data"]["node"]["warranties"]["totalCount"] == 1
    assert serials(by_customer, "node", "warranties") == ["SN-1"]
    node = await admin.gql(NODE, {"id": warranty["id"]})
    assert node["data"]["node"] == {"serial": "SN-1"}


async def test_bad_input_is_refused_field_by_field_and_nothing_is_kept(admin: Api) -> None:
    acme = await customer(admin, "Acme")
    assert (await register(admin, acme["id"], "SN-1"))["errors"] == []
    cases = {
        "product": {"product": "  "},
        "serial": {"serial": "x" * 65},  # longer than 64
        "endsOn": {"endsOn": (TODAY - dt.timedelta(days=1)).isoformat()},
    }
    for field, changes in cases.items():
        body = await admin.gql(
            REGISTER, {"input": {**warranty_input(acme["id"], "SN-2")["input"], **changes}}
        )
        payload = body["data"]["registerWarranty"]
        assert [e["field"] for e in payload["errors"]] == [field], payload
        assert payload["warranty"] is None
    duplicate = await register(admin, acme["id"], "SN-1")
    assert [(e["field"], e["code"]) for e in duplicate["errors"]] == [("serial", "DUPLICATE")]
    chinese = await admin.gql(
        REGISTER, warranty_input(acme["id"], "SN-1"), headers={"Accept-Language": "zh-CN"}
    )
    assert chinese["data"]["registerWarranty"]["errors"] == [
        {**duplicate["errors"][0], "message": "已存在此序列号的保修"}
    ]
    unknown = await admin.gql(REGISTER, warranty_input("Q3VzdG9tZXI6OTk5", "SN-3"))  # Customer:999
    assert unknown["data"] == {"registerWarranty": None}
    assert [e["extensions"] for e in unknown["errors"]] == [
        {"code": "NOT_FOUND", "argument": "input.customerId"}
    ]
    assert (await admin.gql(WARRANTIES))["data"]["warranties"]["totalCount"] == 1


async def test_grants_follow_the_customer(api: Api) -> None:
    alice = await api.as_role("SALES_REPRESENTATIVE")
    bob = await api.as_role("SALES_REPRESENTATIVE")
    support = await api.as_role("SUPPORT_REPRESENTATIVE")
    alices = await customer(alice, "Alice's customer")

    assert (await register(alice, alices["id"], "SN-A"))["errors"] == []
    # Bob owns nothing of Alice's: he can neither see nor add to her customer's warranties.
    refused = await bob.gql(REGISTER, warranty_input(alices["id"], "SN-B"))
    # The same answer as for a customer that does not exist.
    assert refused["data"] == {"registerWarranty": None}
    assert [e["extensions"] for e in refused["errors"]] == [
        {"code": "NOT_FOUND", "argument": "input.customerId"}
    ]
    assert serials(await bob.gql(WARRANTIES), "warranties") == []
    # Support reads every warranty but registers none.
    assert serials(await support.gql(WARRANTIES), "warranties") == ["SN-A"]
    forbidden = await support.gql(REGISTER, warranty_input(alices["id"], "SN-C"))
    assert forbidden["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_warranties_move_with_a_merge_and_go_with_an_erasure(admin: Api) -> None:
    source, target = await customer(admin, "Old Acme"), await customer(admin, "Acme")
    await register(admin, source["id"], "SN-1")
    await register(admin, source["id"], "SN-2")
    variables = {"source": source["id"], "target": target["id"]}

    for dry_run in (True, False):
        body = await admin.gql(MERGE, {**variables, "dryRun": dry_run})
        payload = body["data"]["mergeCustomers"]
        assert payload["errors"] == []
        assert {"kind": "warranties", "count": 2} in payload["moved"]
    moved = await admin.gql(CUSTOMER_WARRANTIES, {"id": target["id"]})
    assert serials(moved, "node", "warranties") == ["SN-1", "SN-2"]

    version = (await admin.gql(VERSION, {"id": target["id"]}))["data"]["node"]["version"]
    erased = await admin.gql(ERASE, {"id": target["id"], "version": version})
    assert erased["data"]["eraseCustomer"]["errors"] == []
    assert (await admin.gql(WARRANTIES))["data"]["warranties"]["totalCount"] == 0


async def test_the_expiring_command_lists_what_ends_soon(admin: Api, crm_cli: CommandLine) -> None:
    acme = await customer(admin, "Acme")
    soon = (TODAY + dt.timedelta(days=10)).isoformat()
    await register(admin, acme["id"], "SN-SOON", endsOn=soon)
    await register(admin, acme["id"], "SN-LATER")

    result = await crm_cli("warranty", "expiring", "--days", "30")

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [f"{soon}  SN-SOON  Espresso machine"]
    refused = await crm_cli("warranty", "expiring", "--days", "-1")
    assert refused.exit_code == 2


async def test_migrations_match_the_model_and_undo_cleanly(
    migrated_db: Database, plugin_manager: CRMPluginManager
) -> None:
    async def tables() -> set[str]:
        async with migrated_db.engine.connect() as connection:
            return set(await connection.run_sync(lambda c: inspect(c).get_table_names()))

    assert await model_drift(migrated_db, plugin_manager) == []
    assert {"warranties", "customers"} <= await tables()
    await migrate_down(migrated_db, plugin_manager, "warranty@base")
    assert "warranties" not in await tables()
    assert "customers" in await tables()


def test_every_message_is_translated() -> None:
    assert_catalog_complete("crm_warranty")


def test_root_fields_are_nullable(plugin_manager: CRMPluginManager, settings: Settings) -> None:
    assert non_null_roots(plugin_manager, settings) == []
