"""Who sees and changes which customers, on every path to them.

The organisation of every test: team North with two sales representatives (rep1, rep2) and
a customer manager; team South with one sales representative (rep3); a support
representative. Each representative and the manager own customers they created themselves,
each with a contact, an interaction and a task; rep2 also has an archived customer.

A sales representative reads and writes only their OWN customers; a customer manager their
TEAM's; support reads ALL and writes nothing. A customer out of reach is missing from lists,
``null`` by id, number, ``node`` and ``nodes``, absent behind nested fields, reported as
NOT_FOUND by every mutation (never revealed, never changed), and left out of exports.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import func, select
from strawberry import relay

from core.catalog import CUSTOMER_MANAGER, SALES_REPRESENTATIVE, SUPPORT_REPRESENTATIVE
from core.customers import models
from core.customers.declarations import policy_through_customer
from tests.support import Api

CREATE = """
mutation($input: CreateCustomerInput!) {
  createCustomer(input: $input) {
    customer { id number name version } errors { field message code }
  }
}"""
CREATE_CONTACT = """
mutation($input: CreateContactInput!) {
  createContact(input: $input) { contact { id name version } errors { field message code } }
}"""
LOG = """
mutation($input: LogInteractionInput!) {
  logInteraction(input: $input) { interaction { id } errors { field message code } }
}"""
CREATE_TASK = """
mutation($input: CreateTaskInput!) {
  createTask(input: $input) { task { id version } errors { field message code } }
}"""
ARCHIVE = """
mutation($id: ID!, $version: Int!) {
  archiveCustomer(input: {id: $id, version: $version}) {
    customer { id number version } errors { field message code }
  }
}"""
LIST = """
query($filter: CustomerFilter) {
  customers(filter: $filter, first: 100) { totalCount edges { node { name } } }
}"""
BY_ID = "query($id: ID!) { customer(id: $id) { name } }"
BY_NUMBER = "query($number: String!) { customer(number: $number) { name } }"
NODE = """
query($id: ID!) {
  node(id: $id) {
    id
    ... on Customer { name }
    ... on Contact { name customer { name } }
    ... on Interaction { summary customer { name } }
    ... on Task { title customer { name } }
  }
}"""
NODES = "query($ids: [ID!]!) { nodes(ids: $ids) { id } }"
CONTACTS = "{ contacts(first: 50) { edges { node { name customer { name } } } } }"
TASKS = "{ tasks(first: 50) { edges { node { title customer { name } } } } }"
SNAPSHOT = """
query($id: ID!) {
  customer(id: $id) {
    name number email version archivedAt owner { user { email } } tags { name } customFields
    contacts(first: 10) { totalCount edges { node { name primary version } } }
    interactions(first: 10) { totalCount edges { node { summary } } }
    tasks(first: 10) { totalCount edges { node { title done version } } }
    history(first: 20) { edges { node { action } } }
  }
}"""
IMPORT = """
mutation($csv: String!, $matchOn: [ImportMatch!]!) {
  importCustomers(input: {csv: $csv, matchOn: $matchOn}) {
    created updated imported rowErrors { line field code message } errors { field code }
  }
}"""

NOW = dt.datetime.now(dt.UTC)


@dataclass
class Owned:
    """A customer and the records hanging off it (global ids)."""

    id: str
    number: str
    name: str
    version: int
    contact: str
    contact_version: int
    interaction: str
    task: str

    @property
    def all_ids(self) -> list[str]:
        return [self.id, self.contact, self.interaction, self.task]


@dataclass
class Org:
    admin: Api
    rep1: Api
    rep2: Api
    rep3: Api
    manager: Api
    support: Api
    customers: dict[str, Owned] = field(default_factory=dict)
    archived: dict[str, Any] = field(default_factory=dict)


def gid(type_name: str, db_id: int | None) -> str:
    return relay.to_base64(type_name, db_id or 0)


def mutation(name: str, selection: str = "errors { field code }") -> str:
    """``name``'s mutation taking its input as ``$v``."""
    input_type = name[0].upper() + name[1:] + "Input"
    return f"mutation($v: {input_type}!) {{ {name}(input: $v) {{ {selection} }} }}"


def data(body: dict[str, Any]) -> dict[str, Any]:
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]
    return result


def ok(body: dict[str, Any], name: str) -> dict[str, Any]:
    payload: dict[str, Any] = data(body)[name]
    assert payload["errors"] == [], payload
    return payload


def refused(body: dict[str, Any], name: str) -> dict[str | None, str]:
    payload = data(body)[name]
    assert payload["errors"], payload
    return {error["field"]: error["code"] for error in payload["errors"]}


def not_found(body: dict[str, Any]) -> str:
    """The ``extensions.argument`` of a mutation refused at the top level with NOT_FOUND: a
    record out of the caller's reach is answered as one that does not exist."""
    assert body.get("errors"), body
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "NOT_FOUND", body
    assert body["data"] == {error["path"][0]: None}, body
    argument: str = error["extensions"]["argument"]
    assert error["message"].startswith(f"{argument}: "), body
    return argument


def forbidden(body: dict[str, Any]) -> None:
    """The one root field of ``body`` was refused: null, with its FORBIDDEN error."""
    assert body.get("errors"), body
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", body
    (name,) = body["data"]
    assert body["data"] == {name: None}, body
    assert body["errors"][0]["path"] == [name], body


async def own_customer(api: Api, name: str, email: str) -> Owned:
    customer = ok(
        await api.gql(
            CREATE,
            {"input": {"name": name, "email": email, "tags": ["shared"], "allowDuplicates": True}},
        ),
        "createCustomer",
    )["customer"]
    contact = ok(
        await api.gql(
            CREATE_CONTACT,
            {"input": {"customerId": customer["id"], "name": f"{name} Contact"}},
        ),
        "createContact",
    )["contact"]
    interaction = ok(
        await api.gql(
            LOG,
            {
                "input": {
                    "customerId": customer["id"],
                    "channel": "EMAIL",
                    "summary": f"Mail to {name}",
                }
            },
        ),
        "logInteraction",
    )["interaction"]
    task = ok(
        await api.gql(
            CREATE_TASK,
            {
                "input": {
                    "customerId": customer["id"],
                    "title": f"Call {name}",
                    "dueAt": (NOW + dt.timedelta(days=2)).isoformat(),
                }
            },
        ),
        "createTask",
    )["task"]
    return Owned(
        id=customer["id"],
        number=customer["number"],
        name=name,
        version=customer["version"],
        contact=contact["id"],
        contact_version=contact["version"],
        interaction=interaction["id"],
        task=task["id"],
    )


async def build_org(api: Api) -> Org:
    org = Org(
        admin=await api.user("admin@example.com", ["ADMINISTRATOR"]),
        rep1=await api.user("rep1@example.com", [SALES_REPRESENTATIVE], team="North"),
        rep2=await api.user("rep2@example.com", [SALES_REPRESENTATIVE], team="North"),
        rep3=await api.user("rep3@example.com", [SALES_REPRESENTATIVE], team="South"),
        manager=await api.user("manager@example.com", [CUSTOMER_MANAGER], team="North"),
        support=await api.user("support@example.com", [SUPPORT_REPRESENTATIVE], team="North"),
    )
    org.customers["Alpha"] = await own_customer(org.rep1, "Alpha", "alpha@example.com")
    org.customers["Bravo"] = await own_customer(org.rep2, "Bravo", "bravo@example.com")
    org.customers["Charlie"] = await own_customer(org.rep3, "Charlie", "charlie@example.com")
    org.customers["Delta"] = await own_customer(org.manager, "Delta", "delta@example.com")
    old = ok(
        await org.rep2.gql(
            CREATE,
            {"input": {"name": "Bravo Old", "email": "old@example.com", "allowDuplicates": True}},
        ),
        "createCustomer",
    )["customer"]
    org.archived = ok(
        await org.rep2.gql(ARCHIVE, {"id": old["id"], "version": old["version"]}),
        "archiveCustomer",
    )["customer"]
    return org


async def names(api: Api, filter: dict[str, Any] | None = None) -> list[str]:
    connection = data(await api.gql(LIST, {"filter": filter}))["customers"]
    result = [edge["node"]["name"] for edge in connection["edges"]]
    assert connection["totalCount"] == len(result)
    return result


async def snapshot(api: Api, customer_id: str) -> dict[str, Any]:
    customer: dict[str, Any] = data(await api.gql(SNAPSHOT, {"id": customer_id}))["customer"]
    assert customer is not None
    return customer


async def exported_numbers(api: Api, params: dict[str, str] | None = None) -> list[str]:
    response = await api.client.get("/export/customers.csv", headers=api.headers, params=params)
    assert response.status_code == 200, response.text
    rows = list(csv.DictReader(io.StringIO(response.text.lstrip("\ufeff"))))
    return [row["number"] for row in rows]


# ----------------------------------------------------------------------------- reading


async def test_a_sales_representative_sees_only_their_own_customers(api: Api) -> None:
    org = await build_org(api)
    alpha, bravo = org.customers["Alpha"], org.customers["Bravo"]
    rep1 = org.rep1

    assert await names(rep1) == ["Alpha"]
    assert await names(rep1, {"archived": True}) == []  # rep2's archived customer stays hidden
    assert await names(org.rep2, {"archived": True}) == ["Bravo Old"]
    for search in ("bravo", bravo.number, "bravo@example.com", "Bravo Contact"):
        assert await names(rep1, {"search": search}) == [], search
    assert await names(rep1, {"ownerId": gid("User", org.rep2.user_id)}) == []
    assert await names(rep1, {"tags": ["shared"]}) == ["Alpha"]

    assert data(await rep1.gql(BY_ID, {"id": alpha.id}))["customer"] == {"name": "Alpha"}
    assert data(await rep1.gql(BY_ID, {"id": bravo.id}))["customer"] is None
    assert data(await rep1.gql(BY_NUMBER, {"number": alpha.number}))["customer"] == {
        "name": "Alpha"
    }
    assert data(await rep1.gql(BY_NUMBER, {"number": bravo.number}))["customer"] is None
    archived_number = await rep1.gql(BY_NUMBER, {"number": org.archived["number"]})
    assert data(archived_number)["customer"] is None

    # node and nodes: the rep's own records resolve (with their customer), no one else's.
    contact = data(await rep1.gql(NODE, {"id": alpha.contact}))["node"]
    assert contact["customer"] == {"name": "Alpha"}
    interaction = data(await rep1.gql(NODE, {"id": alpha.interaction}))["node"]
    assert interaction == {
        "id": alpha.interaction,
        "summary": "Mail to Alpha",
        "customer": {"name": "Alpha"},
    }
    task = data(await rep1.gql(NODE, {"id": alpha.task}))["node"]
    assert task["customer"] == {"name": "Alpha"}
    for other in [*bravo.all_ids, org.archived["id"]]:
        assert data(await rep1.gql(NODE, {"id": other}))["node"] is None, other
    everything = [*alpha.all_ids, *bravo.all_ids, *org.customers["Charlie"].all_ids]
    resolved = data(await rep1.gql(NODES, {"ids": everything}))["nodes"]
    assert resolved == [{"id": i} for i in alpha.all_ids] + [None] * 8

    contacts = data(await rep1.gql(CONTACTS))["contacts"]["edges"]
    assert [e["node"] for e in contacts] == [
        {"name": "Alpha Contact", "customer": {"name": "Alpha"}}
    ]
    tasks = data(await rep1.gql(TASKS))["tasks"]["edges"]
    assert [e["node"] for e in tasks] == [{"title": "Call Alpha", "customer": {"name": "Alpha"}}]

    # Another owner's history and timeline are as invisible as the customer.
    assert data(await rep1.gql(SNAPSHOT, {"id": bravo.id}))["customer"] is None
    history = (await snapshot(rep1, alpha.id))["history"]["edges"]
    assert [e["node"]["action"] for e in history] == ["interaction.logged", "customer.created"]

    # Team North (manager) sees rep1, rep2 and its own; support sees everyone.
    assert await names(org.manager) == ["Alpha", "Bravo", "Delta"]
    assert await names(org.manager, {"archived": True}) == ["Bravo Old"]
    charlie = org.customers["Charlie"]
    assert data(await org.manager.gql(BY_ID, {"id": charlie.id}))["customer"] is None
    assert data(await org.manager.gql(NODE, {"id": charlie.contact}))["node"] is None
    manager_nodes = data(await org.manager.gql(NODES, {"ids": everything}))["nodes"]
    assert manager_nodes == [{"id": i} for i in alpha.all_ids + bravo.all_ids] + [None] * 4
    manager_contacts = data(await org.manager.gql(CONTACTS))["contacts"]["edges"]
    assert {e["node"]["name"] for e in manager_contacts} == {
        "Alpha Contact",
        "Bravo Contact",
        "Delta Contact",
    }
    assert await names(org.support) == ["Alpha", "Bravo", "Charlie", "Delta"]
    support_nodes = data(await org.support.gql(NODES, {"ids": everything}))["nodes"]
    assert support_nodes == [{"id": i} for i in everything]
    support_contacts = data(await org.support.gql(CONTACTS))["contacts"]["edges"]
    assert len(support_contacts) == 4


# ----------------------------------------------------------------------------- writing


async def test_a_sales_representative_cannot_change_another_reps_customer(api: Api) -> None:
    org = await build_org(api)
    alpha, bravo = org.customers["Alpha"], org.customers["Bravo"]
    rep1 = org.rep1
    before = await snapshot(org.admin, bravo.id)
    archived_before = await snapshot(org.admin, org.archived["id"])
    rep2_id = gid("User", org.rep2.user_id)
    rep1_id = gid("User", org.rep1.user_id)
    due = (NOW + dt.timedelta(days=1)).isoformat()

    attempts: list[tuple[str, dict[str, Any], str]] = [
        (
            "updateCustomer",
            {"id": bravo.id, "version": bravo.version, "name": "Hijacked"},
            "input.id",
        ),
        (
            "archiveCustomer",
            {"id": bravo.id, "version": bravo.version},
            "input.id",
        ),
        (
            "restoreCustomer",
            {"id": org.archived["id"], "version": org.archived["version"]},
            "input.id",
        ),
        (
            "mergeCustomers",
            {"sourceId": bravo.id, "targetId": alpha.id},
            "input.sourceId",
        ),
        (
            "mergeCustomers",
            {"sourceId": alpha.id, "targetId": bravo.id, "dryRun": True},
            "input.targetId",
        ),
        (
            "transferCustomers",
            {"customerIds": [bravo.id], "ownerId": rep1_id},
            "input.customerIds.0",
        ),
        (
            "transferCustomers",
            {"customerIds": [alpha.id], "ownerId": rep2_id},
            "input.ownerId",  # OWN scope: only to themself
        ),
        (
            "tagCustomers",
            {"customerIds": [alpha.id, bravo.id], "tags": ["stolen"]},
            "input.customerIds.1",
        ),
        (
            "untagCustomers",
            {"customerIds": [bravo.id], "tags": ["shared"]},
            "input.customerIds.0",
        ),
        (
            "createContact",
            {"customerId": bravo.id, "name": "Mole", "primary": True},
            "input.customerId",
        ),
        (
            "updateContact",
            {"id": bravo.contact, "version": bravo.contact_version, "name": "Renamed"},
            "input.id",
        ),
        (
            "archiveContact",
            {"id": bravo.contact, "version": bravo.contact_version},
            "input.id",
        ),
        (
            "setPrimaryContact",
            {"id": bravo.contact, "version": bravo.contact_version},
            "input.id",
        ),
        (
            "logInteraction",
            {"customerId": bravo.id, "channel": "PHONE", "summary": "Sneaky call"},
            "input.customerId",
        ),
        (
            "createTask",
            {"customerId": bravo.id, "title": "Sneaky", "dueAt": due},
            "input.customerId",
        ),
        (
            "createTask",
            {"title": "For rep2", "dueAt": due, "assigneeId": rep2_id},
            "input.assigneeId",
        ),
        (
            "completeTask",
            {"id": bravo.task, "version": 1},
            "input.id",
        ),
        (
            "createCustomer",
            {"name": "For rep2", "ownerId": rep2_id},
            "input.ownerId",
        ),
        (
            "updateCustomer",
            {"id": alpha.id, "version": alpha.version, "ownerId": rep2_id},
            "input.ownerId",
        ),
    ]
    for name, variables, expected in attempts:
        body = await rep1.gql(mutation(name), {"v": variables})
        assert not_found(body) == expected, (name, variables)

    # Erasing needs customers:delete, defining fields settings:manage: the request fails.
    erase = {"id": bravo.id, "version": bravo.version, "reason": "mine"}
    forbidden(await rep1.gql(mutation("eraseCustomer"), {"v": erase}))
    define = {"key": "mine", "label": "Mine", "type": "TEXT"}
    forbidden(await rep1.gql(mutation("defineCustomField"), {"v": define}))

    assert await snapshot(org.admin, bravo.id) == before
    assert await snapshot(org.admin, org.archived["id"]) == archived_before
    assert await names(org.rep2) == ["Bravo"]
    alpha_now = await snapshot(org.admin, alpha.id)
    assert alpha_now["owner"] == {"user": {"email": "rep1@example.com"}}
    assert [t["name"] for t in alpha_now["tags"]] == ["shared"]  # the refused batch left it
    async with org.admin.db.read() as session:
        assert await session.scalar(select(func.count()).select_from(models.Customer)) == 5
        assert await session.scalar(select(func.count()).select_from(models.Task)) == 4

    # A manager changes the team's customers, and only those.
    manager = org.manager
    renamed = ok(
        await manager.gql(
            mutation("updateCustomer", "customer { name } errors { field code }"),
            {"v": {"id": alpha.id, "version": alpha.version, "name": "Alpha Renamed"}},
        ),
        "updateCustomer",
    )
    assert renamed["customer"] == {"name": "Alpha Renamed"}
    charlie = org.customers["Charlie"]
    taken = {"id": charlie.id, "version": charlie.version, "name": "Taken"}
    body = await manager.gql(mutation("updateCustomer"), {"v": taken})
    assert not_found(body) == "input.id"
    transfer = mutation("transferCustomers")
    body = await manager.gql(
        transfer, {"v": {"customerIds": [alpha.id], "ownerId": gid("User", org.rep3.user_id)}}
    )
    assert not_found(body) == "input.ownerId"  # rep3 is in South
    ok(
        await manager.gql(transfer, {"v": {"customerIds": [alpha.id], "ownerId": rep2_id}}),
        "transferCustomers",
    )
    assert await names(org.rep1) == []  # the customer went with its new owner
    assert await names(org.rep2) == ["Alpha Renamed", "Bravo"]
    assert (await snapshot(org.admin, charlie.id))["name"] == "Charlie"

    # Support reads everything and may write nothing.
    support = org.support
    writes: list[tuple[str, dict[str, Any]]] = [
        (
            "createCustomer",
            {"name": "Support Co"},
        ),
        (
            "updateCustomer",
            {"id": charlie.id, "version": charlie.version, "name": "x"},
        ),
        (
            "archiveCustomer",
            {"id": charlie.id, "version": charlie.version},
        ),
        (
            "createContact",
            {"customerId": charlie.id, "name": "x"},
        ),
        (
            "logInteraction",
            {"customerId": charlie.id, "channel": "PHONE", "summary": "x"},
        ),
        (
            "createTask",
            {"customerId": charlie.id, "title": "x", "dueAt": due},
        ),
        (
            "tagCustomers",
            {"customerIds": [charlie.id], "tags": ["x"]},
        ),
        (
            "mergeCustomers",
            {"sourceId": charlie.id, "targetId": bravo.id, "dryRun": True},
        ),
        (
            "importCustomers",
            {"csv": "name\nSupport Co\n"},
        ),
    ]
    for name, variables in writes:
        forbidden(await support.gql(mutation(name), {"v": variables}))
    charlie_now = await snapshot(org.admin, charlie.id)
    assert charlie_now["name"] == "Charlie"
    assert charlie_now["version"] == charlie.version
    assert charlie_now["contacts"]["totalCount"] == 1
    assert await names(support) == ["Alpha Renamed", "Bravo", "Charlie", "Delta"]


# ----------------------------------------------------------------------------- exchange


async def test_exports_and_imports_keep_to_the_callers_scope(api: Api) -> None:
    org = await build_org(api)
    alpha, bravo = org.customers["Alpha"], org.customers["Bravo"]

    # Without customers:export the export is refused outright.
    for who in (org.rep1, org.support):
        for fmt in ("csv", "xlsx"):
            response = await api.client.get(f"/export/customers.{fmt}", headers=who.headers)
            assert response.status_code == 403, response.text
            body = response.json()
            assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
            assert "customers:export" in body["errors"][0]["message"]

    # With customers:export at OWN scope, a representative exports only their own rows.
    role = await org.admin.gql(
        """mutation {
          createRole(input: {name: "Own Exporter", key: "OWN_EXPORTER", grants: [
            {permission: "customers:export", scope: OWN}
          ]}) { role { key } errors { field code } }
        }"""
    )
    assert ok(role, "createRole")["role"] == {"key": "OWN_EXPORTER"}
    exporter = await api.user(
        "exporter@example.com", [SALES_REPRESENTATIVE, "OWN_EXPORTER"], team="North"
    )
    echo = await own_customer(exporter, "Echo", "echo@example.com")
    assert await exported_numbers(exporter) == [echo.number]
    assert await exported_numbers(exporter, {"filter": '{"search": "alpha"}'}) == []
    own_xlsx = await api.client.get("/export/customers.xlsx", headers=exporter.headers)
    assert own_xlsx.status_code == 200
    own_sheet = load_workbook(io.BytesIO(own_xlsx.content), read_only=True)["Customers"]
    assert [row[0] for row in own_sheet.iter_rows(values_only=True)] == ["number", echo.number]

    team = [*(org.customers[n].number for n in ("Alpha", "Bravo", "Delta")), echo.number]
    assert await exported_numbers(org.manager) == team
    archived = await exported_numbers(org.manager, {"filter": '{"archived": true}'})
    assert archived == [org.archived["number"]]
    assert org.customers["Charlie"].number not in await exported_numbers(
        org.manager, {"filter": '{"search": "charlie"}'}
    )
    everyone = await exported_numbers(org.admin)
    assert everyone == [
        *[org.customers[n].number for n in ("Alpha", "Bravo", "Charlie", "Delta")],
        echo.number,
    ]
    xlsx = await api.client.get("/export/customers.xlsx", headers=org.manager.headers)
    assert xlsx.status_code == 200
    rows = list(
        load_workbook(io.BytesIO(xlsx.content), read_only=True)["Customers"].iter_rows(
            values_only=True
        )
    )
    assert [row[0] for row in rows[1:]] == team

    # Importing cannot reach another representative's customer, by any key.
    before = await snapshot(org.admin, bravo.id)
    by_email = await org.rep1.gql(
        IMPORT, {"csv": "name,email\nBravo Hijacked,bravo@example.com\n", "matchOn": ["EMAIL"]}
    )
    result = data(by_email)["importCustomers"]
    assert (result["updated"], result["imported"]) == (0, False)
    assert [(e["line"], e["field"], e["code"]) for e in result["rowErrors"]] == [
        (2, "email", "DUPLICATE")
    ]
    by_number = await org.rep1.gql(
        IMPORT, {"csv": f"number,name\n{bravo.number},Bravo Hijacked\n", "matchOn": ["NUMBER"]}
    )
    assert data(by_number)["importCustomers"]["updated"] == 0
    by_rep3 = await org.rep3.gql(
        IMPORT, {"csv": "name,email\nAlpha Hijacked,alpha@example.com\n", "matchOn": ["EMAIL"]}
    )
    assert data(by_rep3)["importCustomers"]["updated"] == 0
    assert await snapshot(org.admin, bravo.id) == before
    assert (await snapshot(org.admin, alpha.id))["name"] == "Alpha"
    assert await names(org.rep2) == ["Bravo"]

    # A manager's import updates a team member's customer.
    by_manager = await org.manager.gql(
        IMPORT, {"csv": "name,email\nAlpha Updated,ALPHA@example.com\n", "matchOn": ["EMAIL"]}
    )
    result = data(by_manager)["importCustomers"]
    assert (result["created"], result["updated"], result["imported"]) == (0, 1, True)
    updated = await snapshot(org.admin, alpha.id)
    assert updated["name"] == "Alpha Updated"
    assert updated["owner"] == {"user": {"email": "rep1@example.com"}}
    assert updated["history"]["edges"][0]["node"]["action"] == "customer.updated"


# ------------------------------------------------------------ the plugin policy helper


async def test_a_policy_through_customer_reaches_the_records_of_the_callers_customers(
    api: Api,
) -> None:
    org = await build_org(api)
    policy = policy_through_customer("things", models.Customer.id)
    team_north = select(models.Customer.owner_id).where(
        models.Customer.owner_id.in_([org.rep1.user_id, org.rep2.user_id])
    )

    async def reached(ids: Any) -> set[str]:
        async with api.db.read() as session:
            rows = await session.scalars(select(models.Customer.name).where(policy.owned_by(ids)))
            return set(rows.all())

    assert policy.resource == "things"
    assert await reached([org.rep1.user_id]) == {"Alpha"}
    assert await reached([org.rep3.user_id]) == {"Charlie"}
    assert await reached(team_north) == {"Alpha", "Bravo", "Bravo Old"}
    assert await reached([]) == set()
