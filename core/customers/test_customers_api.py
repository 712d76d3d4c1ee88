"""The customer graph end to end over HTTP: every query and mutation, every refusal.

Each test runs against a fresh database on SQLite and (with ``CRM_TEST_POSTGRES_URL``)
PostgreSQL, signed in as an ADMINISTRATOR unless it says otherwise. Refusals are checked by
the field they name and their code; a refused write is checked to have changed nothing.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from strawberry import relay

from core.audit import AuditEvent
from core.catalog import CUSTOMER_MANAGER, SALES_REPRESENTATIVE
from core.config import Settings
from core.customers import models
from core.customers import queries as customer_queries
from core.db import Database
from schema.testkit_tools import make_user
from tests.support import Api, FakeClock, running_app

FIELDS = """
fragment CustomerFields on Customer {
  id number name kind industry stage grade source phone email website
  address { line1 line2 city region postalCode country }
  owner { user { email } } tags { name } customFields
  createdAt updatedAt archivedAt erasedAt lastInteractionAt version
}
"""
CREATE = (
    FIELDS
    + """
mutation($input: CreateCustomerInput!) {
  createCustomer(input: $input) {
    customer { ...CustomerFields } errors { field message code }
  }
}"""
)
UPDATE = (
    FIELDS
    + """
mutation($input: UpdateCustomerInput!) {
  updateCustomer(input: $input) {
    customer { ...CustomerFields } errors { field message code }
  }
}"""
)
ARCHIVE = (
    FIELDS
    + """
mutation($id: ID!, $version: Int!) {
  archiveCustomer(input: {id: $id, version: $version}) {
    customer { ...CustomerFields } errors { field message code }
  }
}"""
)
RESTORE = (
    FIELDS
    + """
mutation($id: ID!, $version: Int!) {
  restoreCustomer(input: {id: $id, version: $version}) {
    customer { ...CustomerFields } errors { field message code }
  }
}"""
)
ERASE = (
    FIELDS
    + """
mutation($id: ID!, $version: Int!, $reason: String!) {
  eraseCustomer(input: {id: $id, version: $version, reason: $reason}) {
    customer { ...CustomerFields } errors { field message code }
  }
}"""
)
MERGE = """
mutation($source: ID!, $target: ID!, $dryRun: Boolean!) {
  mergeCustomers(input: {sourceId: $source, targetId: $target, dryRun: $dryRun}) {
    target { id number version lastInteractionAt tags { name } }
    moved { kind count } dryRun errors { field message code }
  }
}"""
TRANSFER = """
mutation($ids: [ID!]!, $owner: ID!) {
  transferCustomers(input: {customerIds: $ids, ownerId: $owner}) {
    customers { id owner { user { email } } version } errors { field message code }
  }
}"""
TAG = """
mutation($ids: [ID!]!, $tags: [String!]!) {
  tagCustomers(input: {customerIds: $ids, tags: $tags}) {
    customers { id tags { name } } errors { field message code }
  }
}"""
UNTAG = """
mutation($ids: [ID!]!, $tags: [String!]!) {
  untagCustomers(input: {customerIds: $ids, tags: $tags}) {
    customers { id tags { name } } errors { field message code }
  }
}"""
RENAME_TAG = """
mutation($id: ID!, $name: String!) {
  renameTag(input: {id: $id, name: $name}) { tag { id name } errors { field message code } }
}"""
TAGS = "{ tags { id name } }"
GET = FIELDS + "query($id: ID!) { customer(id: $id) { ...CustomerFields } }"
BY_NUMBER = "query($number: String!) { customer(number: $number) { id number } }"
LIST = """
query($filter: CustomerFilter, $orderBy: [CustomerOrder!], $first: Int, $after: String,
      $last: Int, $before: String) {
  customers(filter: $filter, orderBy: $orderBy, first: $first, after: $after, last: $last,
            before: $before) {
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id number name } }
  }
}"""
COUNT = "query($filter: CustomerFilter) { customers(filter: $filter) { totalCount } }"
HISTORY = """
query($id: ID!) {
  customer(id: $id) {
    history(first: 50) {
      edges { node { action actorLabel entityId changes { field before after } } }
    }
  }
}"""
CONTACT = """
fragment ContactFields on Contact {
  id name title phone mobile email birthday primary notes archivedAt version
}
"""
CREATE_CONTACT = (
    CONTACT
    + """
mutation($input: CreateContactInput!) {
  createContact(input: $input) {
    contact { ...ContactFields customer { id } } errors { field message code }
  }
}"""
)
UPDATE_CONTACT = (
    CONTACT
    + """
mutation($input: UpdateContactInput!) {
  updateContact(input: $input) { contact { ...ContactFields } errors { field message code } }
}"""
)
ARCHIVE_CONTACT = (
    CONTACT
    + """
mutation($id: ID!, $version: Int!) {
  archiveContact(input: {id: $id, version: $version}) {
    contact { ...ContactFields } errors { field message code }
  }
}"""
)
SET_PRIMARY = (
    CONTACT
    + """
mutation($id: ID!, $version: Int!) {
  setPrimaryContact(input: {id: $id, version: $version}) {
    contact { ...ContactFields } errors { field message code }
  }
}"""
)
CONTACTS_OF = """
query($id: ID!) {
  customer(id: $id) {
    primaryContact { id name }
    contacts(first: 20) { totalCount edges { node { id name primary version } } }
  }
}"""
LOG = """
mutation($input: LogInteractionInput!) {
  logInteraction(input: $input) {
    interaction {
      id channel summary occurredAt nextFollowUpAt
      author { user { email } } participants { user { email } } contact { name } customer { id }
    }
    errors { field message code }
  }
}"""
TIMELINE = """
query($id: ID!) {
  customer(id: $id) {
    lastInteractionAt version
    interactions(first: 10) { totalCount edges { node { summary occurredAt } } }
    tasks(first: 10) { totalCount edges { node { id title dueAt done version } } }
  }
}"""
CREATE_TASK = """
mutation($input: CreateTaskInput!) {
  createTask(input: $input) {
    task { id title dueAt remindAt done doneAt version customer { id } assignee { user { email } } }
    errors { field message code }
  }
}"""
COMPLETE_TASK = """
mutation($id: ID!, $version: Int!) {
  completeTask(input: {id: $id, version: $version}) {
    task { id done doneAt version } errors { field message code }
  }
}"""
TASKS = """
query($filter: TaskFilter) {
  tasks(filter: $filter, first: 50) { totalCount edges { node { title done customer { id } } } }
}"""
DEFINE = """
mutation($input: DefineCustomFieldInput!) {
  defineCustomField(input: $input) {
    definition { id entity key label type options required version }
    errors { field message code }
  }
}"""
DEFINITIONS = """
query($entity: CustomFieldEntity) {
  customFieldDefinitions(entity: $entity) { entity key type options required }
}"""


# ----------------------------------------------------------------------------- helpers


def gid(type_name: str, db_id: int | None) -> str:
    return relay.to_base64(type_name, db_id if db_id is not None else 0)


def db_id(global_id: str) -> int:
    return int(relay.from_base64(global_id)[1])


def ok(body: dict[str, Any], name: str) -> dict[str, Any]:
    """The payload of mutation ``name``, which must have succeeded."""
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"][name]
    assert payload["errors"] == [], payload
    return payload


def refused(body: dict[str, Any], name: str) -> dict[str | None, str]:
    """The ``{field: code}`` of the user errors of mutation ``name``, which must have failed."""
    assert "errors" not in body, body
    payload = body["data"][name]
    assert payload["errors"], payload
    # A refused mutation returns no record, but a stale version's CONFLICT returns the record
    # as it now is, for the client to merge and retry.
    stale = any(e["code"] == "CONFLICT" and e["field"] == "version" for e in payload["errors"])
    for key, value in payload.items():
        if key not in ("errors", "moved", "dryRun", "customers"):
            assert (value is not None) is stale, payload
    return {error["field"]: error["code"] for error in payload["errors"]}


def messages(body: dict[str, Any], name: str) -> dict[str | None, str]:
    return {error["field"]: error["message"] for error in body["data"][name]["errors"]}


def answer(body: dict[str, Any], name: str) -> dict[str | None, str] | tuple[str, str | None]:
    """How mutation ``name`` was refused: ``(code, argument)`` of a top-level error (a record
    not found, a permission missing), or the ``{field: code}`` of its payload's errors."""
    return api_error(body) if body.get("errors") else refused(body, name)


def api_error(body: dict[str, Any]) -> tuple[str, str | None]:
    """``(extensions.code, extensions.argument)`` of a request refused with a GraphQL error."""
    assert body.get("errors"), body
    extensions = body["errors"][0]["extensions"]
    return extensions["code"], extensions.get("argument")


def when(value: str | None) -> dt.datetime:
    assert value is not None
    return dt.datetime.fromisoformat(value)


async def create(api: Api, **fields: Any) -> dict[str, Any]:
    """A new customer (alike names allowed: likely duplicates have tests of their own)."""
    input = {"allowDuplicates": True, **fields}
    customer: dict[str, Any] = ok(await api.gql(CREATE, {"input": input}), "createCustomer")[
        "customer"
    ]
    return customer


async def update(api: Api, customer: dict[str, Any], **fields: Any) -> dict[str, Any]:
    body = await api.gql(
        UPDATE, {"input": {"id": customer["id"], "version": customer["version"], **fields}}
    )
    result: dict[str, Any] = ok(body, "updateCustomer")["customer"]
    return result


async def get(api: Api, customer_id: str) -> dict[str, Any]:
    body = await api.gql(GET, {"id": customer_id})
    assert "errors" not in body, body
    customer: dict[str, Any] = body["data"]["customer"]
    return customer


async def listed(api: Api, **variables: Any) -> list[str]:
    """Names of the customers a ``customers`` query returns."""
    body = await api.gql(LIST, {"first": 100, **variables})
    assert "errors" not in body, body
    return [edge["node"]["name"] for edge in body["data"]["customers"]["edges"]]


async def total(api: Api, filter: dict[str, Any] | None = None) -> int:
    body = await api.gql(COUNT, {"filter": filter})
    assert "errors" not in body, body
    count: int = body["data"]["customers"]["totalCount"]
    return count


async def history(api: Api, customer_id: str) -> list[dict[str, Any]]:
    body = await api.gql(HISTORY, {"id": customer_id})
    assert "errors" not in body, body
    return [edge["node"] for edge in body["data"]["customer"]["history"]["edges"]]


def changes_of(event: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    return {c["field"]: (c["before"], c["after"]) for c in event["changes"]}


async def add_contact(api: Api, customer_id: str, name: str, **fields: Any) -> dict[str, Any]:
    body = await api.gql(
        CREATE_CONTACT, {"input": {"customerId": customer_id, "name": name, **fields}}
    )
    contact: dict[str, Any] = ok(body, "createContact")["contact"]
    return contact


async def log(api: Api, customer_id: str, summary: str, **fields: Any) -> dict[str, Any]:
    body = await api.gql(
        LOG,
        {"input": {"customerId": customer_id, "channel": "PHONE", "summary": summary, **fields}},
    )
    interaction: dict[str, Any] = ok(body, "logInteraction")["interaction"]
    return interaction


def iso(value: dt.datetime) -> str:
    return value.isoformat()


NOW = dt.datetime.now(dt.UTC)


# ----------------------------------------------------------------------------- create & read


async def test_create_assigns_a_number_and_normalises_every_field(admin: Api) -> None:
    acme = await create(
        admin,
        name="  Acme Ltd ",
        kind="COMPANY",
        industry="Manufacturing",
        stage="NEW",
        grade="GOLD",
        source="REFERRAL",
        phone="(212) 555-0100",
        email="Info@ACME.example",
        website="acme.example",
        address={
            "line1": "1 Main St",
            "line2": "Suite 2",
            "city": "Springfield",
            "region": "IL",
            "postalCode": "62701",
            "country": "us",
        },
        tags=["VIP", " vip", "Key   Account"],
    )
    assert re.fullmatch(r"C\d{6}", acme["number"]), acme["number"]
    assert acme["name"] == "Acme Ltd"
    assert (acme["kind"], acme["stage"], acme["grade"], acme["source"]) == (
        "COMPANY",
        "NEW",
        "GOLD",
        "REFERRAL",
    )
    assert acme["industry"] == "Manufacturing"
    assert acme["phone"] == "+12125550100"  # E.164, national numbers read as US by default
    assert acme["email"] == "info@acme.example"
    assert acme["website"] == "https://acme.example"
    assert acme["address"] == {
        "line1": "1 Main St",
        "line2": "Suite 2",
        "city": "Springfield",
        "region": "IL",
        "postalCode": "62701",
        "country": "US",
    }
    assert [t["name"] for t in acme["tags"]] == ["Key Account", "VIP"]  # one per name, any case
    assert acme["owner"] == {"user": {"email": "admin@example.com"}}  # the caller by default
    assert acme["version"] == 1
    assert acme["customFields"] == {}
    assert acme["archivedAt"] is None
    assert acme["erasedAt"] is None
    assert acme["lastInteractionAt"] is None
    assert when(acme["createdAt"]) == when(acme["updatedAt"])
    assert abs(when(acme["createdAt"]) - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)

    person = await create(admin, name="Jane Roe", kind="PERSON")
    assert (person["kind"], person["stage"], person["grade"], person["source"]) == (
        "PERSON",
        "POTENTIAL",
        "STANDARD",
        None,
    )
    assert int(person["number"][1:]) == int(acme["number"][1:]) + 1

    # Read back by id, by number (any case, padded), and not at all for an unknown number.
    assert await get(admin, acme["id"]) == acme
    body = await admin.gql(BY_NUMBER, {"number": f" {acme['number'].lower()} "})
    assert body["data"]["customer"] == {"id": acme["id"], "number": acme["number"]}
    assert (await admin.gql(BY_NUMBER, {"number": "C999999"}))["data"]["customer"] is None
    both = await admin.gql(
        'query($id: ID!) { customer(id: $id, number: "C000001") { id } }', {"id": acme["id"]}
    )
    assert api_error(both) == ("BAD_USER_INPUT", "id")
    assert api_error(await admin.gql("{ customer { id } }")) == ("BAD_USER_INPUT", "id")
    node = await admin.gql(
        "query($id: ID!) { node(id: $id) { id ... on Customer { number } } }", {"id": acme["id"]}
    )
    assert node["data"]["node"] == {"id": acme["id"], "number": acme["number"]}

    tags = (await admin.gql(TAGS))["data"]["tags"]
    assert [t["name"] for t in tags] == ["Key Account", "VIP"]

    created = (await history(admin, acme["id"]))[-1]
    assert created["action"] == "customer.created"
    assert created["actorLabel"] == "admin@example.com"
    assert changes_of(created)["email"] == (None, "info@acme.example")
    assert changes_of(created)["number"] == (None, acme["number"])


async def insert_customer(db: Database, number: str) -> None:
    async with db.transaction() as session:
        session.add(
            models.Customer(
                number=number,
                name="Copy",
                kind="COMPANY",
                stage="POTENTIAL",
                grade="STANDARD",
                custom_fields={},
            )
        )


async def test_numbers_are_unique_in_the_database_even_under_concurrent_creates(
    admin: Api, database_url: str, request: pytest.FixtureRequest
) -> None:
    acme = await create(admin, name="Acme")
    with pytest.raises(IntegrityError):
        await insert_customer(admin.db, acme["number"])
    assert await total(admin) == 1
    racing = await asyncio.gather(*(create(admin, name=f"Racer {n}") for n in range(6)))
    numbers = [c["number"] for c in racing] + [acme["number"]]
    assert len(set(numbers)) == len(numbers)
    assert await total(admin) == 7


async def test_every_invalid_field_is_named_with_its_code(
    admin: Api, make_settings: Callable[..., Settings]
) -> None:
    body = await admin.gql(
        CREATE,
        {
            "input": {
                "name": "   ",
                "industry": "x" * 101,
                "phone": "12",
                "email": "not-an-email",
                "website": "ftp://files.example",
                "address": {
                    "line1": "x" * 201,
                    "line2": "y" * 201,
                    "city": "c" * 101,
                    "region": "r" * 101,
                    "postalCode": "1" * 21,
                    "country": "XX",
                },
                "tags": ["t" * 51, " "],
                "ownerId": gid("Customer", 1),
            }
        },
    )
    assert refused(body, "createCustomer") == {
        "name": "REQUIRED",
        "industry": "TOO_LONG",
        "phone": "INVALID",
        "email": "INVALID",
        "website": "INVALID",
        "address.line1": "TOO_LONG",
        "address.line2": "TOO_LONG",
        "address.city": "TOO_LONG",
        "address.region": "TOO_LONG",
        "address.postalCode": "TOO_LONG",
        "address.country": "INVALID",
        "tags.0": "TOO_LONG",
        "tags.1": "REQUIRED",
        "ownerId": "INVALID",
    }
    assert "US" in messages(body, "createCustomer")["phone"]  # the region national numbers use

    more = [
        ({"name": "n" * 201}, "name", "TOO_LONG"),
        ({"name": "Ok", "website": "not a url"}, "website", "INVALID"),
        ({"name": "Ok", "website": "https://localhost"}, "website", "INVALID"),
        # addresses the URL parser itself refuses: an unclosed IPv6 bracket, a port past
        # 65535, a host NFKC normalisation would change
        ({"name": "Ok", "website": "http://[::1"}, "website", "INVALID"),
        ({"name": "Ok", "website": "https://example.com:99999999"}, "website", "INVALID"),
        ({"name": "Ok", "website": "https://a\u2100b.com"}, "website", "INVALID"),
        ({"name": "Ok", "address": {"country": "U" * 101}}, "address.country", "TOO_LONG"),
        ({"name": "Ok", "email": "two@@example.com"}, "email", "INVALID"),
        ({"name": "Ok", "phone": "+1 555"}, "phone", "INVALID"),
    ]
    for fields, field, code in more:
        body = await admin.gql(CREATE, {"input": fields})
        assert refused(body, "createCustomer") == {field: code}, fields
    nobody = await admin.gql(CREATE, {"input": {"name": "Ok", "ownerId": gid("User", 999)}})
    assert api_error(nobody) == ("NOT_FOUND", "input.ownerId")  # top level, with its path
    assert nobody["errors"][0]["message"].startswith("input.ownerId: ")
    assert await total(admin) == 0  # nothing was created by any refused input

    acme = await create(admin, name="Acme")
    updates: list[tuple[dict[str, Any], str, str]] = [
        ({"name": None}, "name", "REQUIRED"),
        ({"name": ""}, "name", "REQUIRED"),
        ({"kind": None}, "kind", "REQUIRED"),
        ({"stage": None}, "stage", "REQUIRED"),
        ({"grade": None}, "grade", "REQUIRED"),
        ({"ownerId": None}, "ownerId", "REQUIRED"),
        ({"email": "nope"}, "email", "INVALID"),
        ({"address": {"postalCode": "9" * 21}}, "address.postalCode", "TOO_LONG"),
    ]
    for fields, field, code in updates:
        body = await admin.gql(
            UPDATE, {"input": {"id": acme["id"], "version": acme["version"], **fields}}
        )
        assert refused(body, "updateCustomer") == {field: code}, fields
    body = await admin.gql(UPDATE, {"input": {"id": gid("Contact", 1), "version": 1}})
    assert refused(body, "updateCustomer") == {"id": "INVALID"}
    body = await admin.gql(UPDATE, {"input": {"id": gid("Customer", 999), "version": 1}})
    assert api_error(body) == ("NOT_FOUND", "input.id")
    assert await get(admin, acme["id"]) == acme  # untouched by every refused update

    # Optional fields clear with null; source may be null.
    cleared = await update(admin, acme, source="INBOUND", industry="Retail")
    cleared = await update(admin, cleared, source=None, industry=None, address=None)
    assert (cleared["source"], cleared["industry"], cleared["address"]["country"]) == (
        None,
        None,
        None,
    )

    # With CRM_DEFAULT_REGION=DE national numbers are German.
    async with running_app(make_settings(default_region="DE")) as german_app:
        german = await german_app.login("admin@example.com")
        berlin = await create(german, name="Berlin GmbH", phone="030 901820")
        assert berlin["phone"] == "+4930901820"
        body = await german.gql(CREATE, {"input": {"name": "X", "phone": "12"}})
        assert "DE" in messages(body, "createCustomer")["phone"]
        assert refused(body, "createCustomer") == {"phone": "INVALID"}
        # Numbers with a country code are read as written, whatever the region.
        assert (await create(german, name="NY Inc", phone="+1 212 555 0123"))["phone"] == (
            "+12125550123"
        )


async def test_duplicate_email_or_phone_names_the_existing_customer(admin: Api) -> None:
    acme = await create(admin, name="Acme", email="info@acme.example", phone="+12125550100")

    body = await admin.gql(CREATE, {"input": {"name": "Acme 2", "email": "INFO@acme.example"}})
    assert refused(body, "createCustomer") == {"email": "DUPLICATE"}
    assert acme["number"] in messages(body, "createCustomer")["email"]
    body = await admin.gql(CREATE, {"input": {"name": "Acme 3", "phone": "212-555-0100"}})
    assert refused(body, "createCustomer") == {"phone": "DUPLICATE"}
    assert acme["number"] in messages(body, "createCustomer")["phone"]
    body = await admin.gql(
        CREATE, {"input": {"name": "A4", "phone": "(212) 555 0100", "email": "info@acme.example"}}
    )
    assert refused(body, "createCustomer") == {"email": "DUPLICATE", "phone": "DUPLICATE"}

    other = await create(admin, name="Other", email="other@example.com")
    body = await admin.gql(
        UPDATE, {"input": {"id": other["id"], "version": 1, "email": "info@acme.example"}}
    )
    assert refused(body, "updateCustomer") == {"email": "DUPLICATE"}
    assert acme["number"] in messages(body, "updateCustomer")["email"]
    # A customer keeps its own email without clashing with itself.
    same = await update(admin, acme, email="Info@Acme.example", name="Acme Ltd")
    assert same["email"] == "info@acme.example"

    # An archived customer's email is free again; restoring it then clashes.
    archived = ok(
        await admin.gql(ARCHIVE, {"id": same["id"], "version": same["version"]}), "archiveCustomer"
    )["customer"]
    successor = await create(admin, name="Acme New", email="info@acme.example")
    body = await admin.gql(RESTORE, {"id": archived["id"], "version": archived["version"]})
    assert refused(body, "restoreCustomer") == {"email": "DUPLICATE"}
    assert successor["number"] in messages(body, "restoreCustomer")["email"]
    assert (await get(admin, archived["id"]))["archivedAt"] is not None


async def test_updates_are_versioned_and_each_change_is_in_the_history(admin: Api) -> None:
    manager = await make_user(admin.db, admin.settings, "manager@example.com", [CUSTOMER_MANAGER])
    acme = await create(admin, name="Acme", stage="POTENTIAL")

    active = await update(admin, acme, stage="ACTIVE", grade="SILVER")
    assert (active["stage"], active["grade"], active["version"]) == ("ACTIVE", "SILVER", 2)
    assert when(active["updatedAt"]) > when(acme["updatedAt"])

    stale = await admin.gql(
        UPDATE, {"input": {"id": acme["id"], "version": 1, "name": "Overwritten"}}
    )
    assert refused(stale, "updateCustomer") == {"version": "CONFLICT"}
    assert "version 2" in messages(stale, "updateCustomer")["version"]
    assert await get(admin, acme["id"]) == active

    # A write that changes nothing keeps the version and writes no event.
    unchanged = await update(admin, active, stage="ACTIVE", name="Acme")
    assert unchanged["version"] == 2

    moved = await update(admin, unchanged, ownerId=gid("User", manager))
    assert moved["owner"] == {"user": {"email": "manager@example.com"}}
    assert moved["version"] == 3

    events = await history(admin, acme["id"])
    assert [e["action"] for e in events] == [
        "customer.updated",
        "customer.updated",
        "customer.created",
    ]
    assert changes_of(events[1]) == {
        "stage": ("POTENTIAL", "ACTIVE"),
        "grade": ("STANDARD", "SILVER"),
    }
    assert changes_of(events[0]) == {
        "ownerId": (gid("User", admin.user_id), gid("User", manager)),
    }
    assert {e["entityId"] for e in events} == {acme["id"]}
    assert all(e["actorLabel"] == "admin@example.com" for e in events)


async def test_archive_hides_and_restore_brings_back(admin: Api) -> None:
    acme = await create(admin, name="Acme")
    await create(admin, name="Bravo")

    archived = ok(await admin.gql(ARCHIVE, {"id": acme["id"], "version": 1}), "archiveCustomer")[
        "customer"
    ]
    assert archived["archivedAt"] is not None
    assert archived["version"] == 2
    assert await listed(admin) == ["Bravo"]
    assert await listed(admin, filter={"archived": True}) == ["Acme"]
    assert await total(admin, {"archived": True}) == 1
    assert (await get(admin, acme["id"]))["archivedAt"] is not None  # still readable by id

    again = await admin.gql(ARCHIVE, {"id": acme["id"], "version": 2})
    assert refused(again, "archiveCustomer") == {"id": "CONFLICT"}
    edit = await admin.gql(UPDATE, {"input": {"id": acme["id"], "version": 2, "name": "X"}})
    assert refused(edit, "updateCustomer") == {"id": "CONFLICT"}
    contact = await admin.gql(CREATE_CONTACT, {"input": {"customerId": acme["id"], "name": "J"}})
    assert refused(contact, "createContact") == {"customerId": "CONFLICT"}

    stale = await admin.gql(RESTORE, {"id": acme["id"], "version": 1})
    assert refused(stale, "restoreCustomer") == {"version": "CONFLICT"}
    restored = ok(await admin.gql(RESTORE, {"id": acme["id"], "version": 2}), "restoreCustomer")[
        "customer"
    ]
    assert restored["archivedAt"] is None
    assert restored["version"] == 3
    assert await listed(admin) == ["Acme", "Bravo"]
    not_archived = await admin.gql(RESTORE, {"id": acme["id"], "version": 3})
    assert refused(not_archived, "restoreCustomer") == {"id": "CONFLICT"}
    stale = await admin.gql(ARCHIVE, {"id": acme["id"], "version": 2})
    assert refused(stale, "archiveCustomer") == {"version": "CONFLICT"}

    actions = [e["action"] for e in await history(admin, acme["id"])]
    assert actions == ["customer.restored", "customer.archived", "customer.created"]


async def test_erase_removes_personal_data_and_keeps_an_audit_record(admin: Api) -> None:
    manager = await admin.user("manager@example.com", [CUSTOMER_MANAGER])
    ok(
        await admin.gql(DEFINE, {"input": {"key": "vat_id", "label": "VAT id", "type": "TEXT"}}),
        "defineCustomField",
    )
    acme = await create(
        admin,
        name="Jane Personal",
        kind="PERSON",
        industry="Retail",
        phone="+12125550111",
        email="jane.personal@example.com",
        website="jane.example",
        address={"line1": "7 Private Rd", "city": "Hometown", "postalCode": "12345"},
        customFields={"vat_id": "DE123456789"},
        tags=["vip"],
    )
    contact = await add_contact(
        admin, acme["id"], "Jack Personal", email="jack@example.com", birthday="1980-05-06"
    )
    await log(admin, acme["id"], "Talked about Jane's private matters")
    task = ok(
        await admin.gql(
            CREATE_TASK,
            {
                "input": {
                    "customerId": acme["id"],
                    "title": "Call Jane at home",
                    "dueAt": iso(NOW + dt.timedelta(days=2)),
                }
            },
        ),
        "createTask",
    )["task"]

    forbidden = await manager.gql(ERASE, {"id": acme["id"], "version": 1, "reason": "GDPR"})
    assert api_error(forbidden)[0] == "FORBIDDEN"  # customers:delete is needed
    no_reason = await admin.gql(ERASE, {"id": acme["id"], "version": 1, "reason": "  "})
    assert refused(no_reason, "eraseCustomer") == {"reason": "REQUIRED"}
    stale = await admin.gql(ERASE, {"id": acme["id"], "version": 9, "reason": "GDPR"})
    assert refused(stale, "eraseCustomer") == {"version": "CONFLICT"}

    body = await admin.gql(ERASE, {"id": acme["id"], "version": 1, "reason": "Request #4711"})
    erased = ok(body, "eraseCustomer")["customer"]
    assert erased["name"] == f"Erased customer {acme['number']}"
    assert erased["number"] == acme["number"]
    for field in ("industry", "phone", "email", "website"):
        assert erased[field] is None, field
    assert set(erased["address"].values()) == {None}
    assert erased["customFields"] == {}
    assert erased["erasedAt"] is not None
    assert erased["archivedAt"] is not None

    body = await admin.gql(
        CONTACTS_OF.replace("primaryContact { id name }", "primaryContact { id }"),
        {"id": acme["id"]},
    )
    assert body["data"]["customer"]["contacts"]["totalCount"] == 0
    assert body["data"]["customer"]["primaryContact"] is None
    gone = await admin.gql("query($id: ID!) { node(id: $id) { id } }", {"id": contact["id"]})
    assert gone["data"]["node"] is None
    timeline = (await admin.gql(TIMELINE, {"id": acme["id"]}))["data"]["customer"]
    assert [e["node"]["summary"] for e in timeline["interactions"]["edges"]] == ["[erased]"]
    assert [e["node"]["title"] for e in timeline["tasks"]["edges"]] == ["[erased]"]
    assert timeline["tasks"]["edges"][0]["node"]["id"] == task["id"]
    assert await listed(admin) == []
    assert await listed(admin, filter={"archived": True}) == [erased["name"]]
    assert await listed(admin, filter={"archived": True, "search": "Jane"}) == []

    events = await history(admin, acme["id"])
    assert events[0]["action"] == "customer.erased"
    record = changes_of(events[0])
    assert record["reason"] == (None, "Request #4711")
    assert record["contactsDeleted"] == (None, 1)
    assert record["interactionsBlanked"] == (None, 1)
    erased_fields = record["erasedFields"][1]
    assert {"name", "email", "phone", "website", "customFields", "address.city"} <= set(
        erased_fields
    )
    # The erase event names what went, never the values.
    text = json.dumps(events[0]).lower()
    for personal in (
        "jane",
        "jack",
        "personal",
        "2125550111",
        "jane.personal@example.com",
        "jack@example.com",
        "1980-05-06",
        "jane.example",
        "private rd",
        "hometown",
        "12345",
        "de123456789",
        "retail",
    ):
        assert personal not in text, personal

    # An erased customer is gone for every write, archived or not.
    again = await admin.gql(ERASE, {"id": acme["id"], "version": erased["version"], "reason": "x"})
    assert api_error(again) == ("NOT_FOUND", "input.id")
    restore = await admin.gql(RESTORE, {"id": acme["id"], "version": erased["version"]})
    assert api_error(restore) == ("NOT_FOUND", "input.id")
    # The row survives (for its number and the audit trail), its contacts do not.
    async with admin.db.read() as session:
        assert await session.scalar(select(func.count()).select_from(models.Contact)) == 0
        assert (
            await session.scalar(select(func.count()).where(AuditEvent.action == "customer.erased"))
            == 1
        )


# ----------------------------------------------------------------------------- merge & transfer


async def test_merge_moves_everything_and_dry_run_changes_nothing(admin: Api) -> None:
    source = await create(admin, name="Acme Old", tags=["vip", "partner"])
    target = await create(admin, name="Acme", tags=["VIP"])
    target_primary = await add_contact(admin, target["id"], "Tina Target")
    await add_contact(admin, source["id"], "Sam Source")  # primary of the source
    await add_contact(admin, source["id"], "Sue Source")
    early = NOW - dt.timedelta(days=10)
    late = NOW - dt.timedelta(hours=1)
    await log(admin, target["id"], "Target call", occurredAt=iso(early))
    await log(
        admin,
        source["id"],
        "Source call",
        occurredAt=iso(late),
        nextFollowUpAt=iso(NOW + dt.timedelta(days=1)),  # also a task
    )
    ok(
        await admin.gql(
            CREATE_TASK,
            {
                "input": {
                    "customerId": source["id"],
                    "title": "Send quote",
                    "dueAt": iso(NOW + dt.timedelta(days=3)),
                }
            },
        ),
        "createTask",
    )
    source = await get(admin, source["id"])
    target = await get(admin, target["id"])

    variables = {"source": source["id"], "target": target["id"]}
    dry = ok(await admin.gql(MERGE, {**variables, "dryRun": True}), "mergeCustomers")
    expected = [
        {"kind": "attachments", "count": 0},
        {"kind": "contacts", "count": 2},
        {"kind": "interactions", "count": 1},
        {"kind": "tags", "count": 1},  # "vip" is on both
        {"kind": "tasks", "count": 2},
    ]
    assert dry["dryRun"] is True
    assert dry["moved"] == expected
    assert dry["target"]["id"] == target["id"]
    assert await get(admin, source["id"]) == source  # nothing changed
    assert await get(admin, target["id"]) == target
    source_contacts = (await admin.gql(CONTACTS_OF, {"id": source["id"]}))["data"]["customer"]
    assert source_contacts["contacts"]["totalCount"] == 2

    merged = ok(await admin.gql(MERGE, {**variables, "dryRun": False}), "mergeCustomers")
    assert merged["dryRun"] is False
    assert merged["moved"] == expected
    assert merged["target"]["version"] > target["version"]
    assert when(merged["target"]["lastInteractionAt"]) == late
    assert [t["name"] for t in merged["target"]["tags"]] == ["partner", "vip"]

    after = (await admin.gql(CONTACTS_OF, {"id": target["id"]}))["data"]["customer"]
    names = sorted(e["node"]["name"] for e in after["contacts"]["edges"])
    assert names == ["Sam Source", "Sue Source", "Tina Target"]
    assert [e["node"]["name"] for e in after["contacts"]["edges"] if e["node"]["primary"]] == [
        "Tina Target"
    ]
    assert after["primaryContact"]["id"] == target_primary["id"]
    timeline = (await admin.gql(TIMELINE, {"id": target["id"]}))["data"]["customer"]
    assert [e["node"]["summary"] for e in timeline["interactions"]["edges"]] == [
        "Source call",
        "Target call",
    ]
    assert timeline["tasks"]["totalCount"] == 2
    old = (await admin.gql(TIMELINE, {"id": source["id"]}))["data"]["customer"]
    assert old["interactions"]["totalCount"] == 0
    assert old["tasks"]["totalCount"] == 0
    old_source = await get(admin, source["id"])
    assert old_source["archivedAt"] is not None
    assert old_source["tags"] == []
    assert await listed(admin) == ["Acme"]

    restore = await admin.gql(RESTORE, {"id": source["id"], "version": old_source["version"]})
    assert refused(restore, "restoreCustomer") == {"id": "BUSINESS_RULE"}
    into_archived = await admin.gql(
        MERGE, {"source": target["id"], "target": source["id"], "dryRun": True}
    )
    assert refused(into_archived, "mergeCustomers") == {"targetId": "CONFLICT"}
    itself = await admin.gql(
        MERGE, {"source": target["id"], "target": target["id"], "dryRun": False}
    )
    assert refused(itself, "mergeCustomers") == {"targetId": "INVALID"}
    unknown = await admin.gql(
        MERGE, {"source": gid("Customer", 999), "target": target["id"], "dryRun": False}
    )
    assert api_error(unknown) == ("NOT_FOUND", "input.sourceId")
    wrong_type = await admin.gql(
        MERGE, {"source": gid("Tag", 1), "target": target["id"], "dryRun": False}
    )
    assert refused(wrong_type, "mergeCustomers") == {"sourceId": "INVALID"}

    assert (await history(admin, target["id"]))[0]["action"] == "customer.merged"
    into = (await history(admin, source["id"]))[0]
    assert into["action"] == "customer.merged_into"
    assert changes_of(into)["targetNumber"] == (None, target["number"])


async def test_transfer_gives_customers_to_another_owner(admin: Api) -> None:
    rep = await make_user(admin.db, admin.settings, "rep@example.com", [SALES_REPRESENTATIVE])
    idle = await make_user(admin.db, admin.settings, "idle@example.com", [], team=None)
    async with admin.db.transaction() as session:
        from core.identity.models import User

        user = await session.get(User, idle)
        assert user is not None
        user.is_active = False
    acme = await create(admin, name="Acme")
    bravo = await create(admin, name="Bravo")

    body = await admin.gql(TRANSFER, {"ids": [acme["id"], bravo["id"]], "owner": gid("User", rep)})
    customers = ok(body, "transferCustomers")["customers"]
    assert [c["owner"] for c in customers] == [{"user": {"email": "rep@example.com"}}] * 2
    assert [c["version"] for c in customers] == [2, 2]
    event = (await history(admin, acme["id"]))[0]
    assert event["action"] == "customer.transferred"
    assert changes_of(event) == {"ownerId": (gid("User", admin.user_id), gid("User", rep))}

    transfers: list[tuple[list[str], str, dict[str | None, str] | tuple[str, str]]] = [
        ([], gid("User", rep), {"customerIds": "REQUIRED"}),
        ([acme["id"]], gid("User", idle), ("NOT_FOUND", "input.ownerId")),  # inactive
        ([acme["id"]], gid("Customer", 1), {"ownerId": "INVALID"}),
        (
            [acme["id"], gid("Customer", 999)],
            gid("User", admin.user_id),
            ("NOT_FOUND", "input.customerIds.1"),
        ),
    ]
    for ids, owner, expected in transfers:
        assert answer(
            await admin.gql(TRANSFER, {"ids": ids, "owner": owner}), "transferCustomers"
        ) == (expected), ids
    # The refused batch changed none of its customers.
    assert (await get(admin, acme["id"]))["owner"] == {"user": {"email": "rep@example.com"}}


# ----------------------------------------------------------------------------- contacts


async def make_primary(db: Database, contact_id: int) -> None:
    """Mark a contact primary behind the service's back."""
    async with db.transaction() as session:
        row = await session.get(models.Contact, contact_id)
        assert row is not None
        row.is_primary = True


async def test_contacts_have_at_most_one_primary(admin: Api) -> None:
    acme = await create(admin, name="Acme")
    first = await add_contact(
        admin,
        acme["id"],
        " Ann Able ",
        title="CEO",
        phone="212 555 0142",
        mobile="+44 7911 123456",
        email="Ann@Acme.example",
        birthday="1980-02-29",
        notes="Prefers mornings",
    )
    assert first["primary"] is True  # the first contact becomes primary
    assert (first["name"], first["phone"], first["mobile"], first["email"]) == (
        "Ann Able",
        "+12125550142",
        "+447911123456",
        "ann@acme.example",
    )
    assert first["birthday"] == "1980-02-29"
    assert first["version"] == 1
    second = await add_contact(admin, acme["id"], "Bob Baker")
    assert second["primary"] is False
    third = await add_contact(admin, acme["id"], "Cy Carter", primary=True)
    assert third["primary"] is True

    async def primaries() -> list[str]:
        data = (await admin.gql(CONTACTS_OF, {"id": acme["id"]}))["data"]["customer"]
        names = [e["node"]["name"] for e in data["contacts"]["edges"] if e["node"]["primary"]]
        assert [data["primaryContact"]["name"]] == names
        return names

    assert await primaries() == ["Cy Carter"]
    body = await admin.gql(SET_PRIMARY, {"id": second["id"], "version": second["version"]})
    second = ok(body, "setPrimaryContact")["contact"]
    assert second["primary"] is True
    assert await primaries() == ["Bob Baker"]

    # The database itself refuses a second primary.
    with pytest.raises(IntegrityError):
        await make_primary(admin.db, db_id(first["id"]))
    assert await primaries() == ["Bob Baker"]

    updated = ok(
        await admin.gql(
            UPDATE_CONTACT,
            {"input": {"id": first["id"], "version": 1, "title": "Chair", "phone": None}},
        ),
        "updateContact",
    )["contact"]
    assert (updated["title"], updated["phone"], updated["version"]) == ("Chair", None, 2)
    stale = await admin.gql(UPDATE_CONTACT, {"input": {"id": first["id"], "version": 1}})
    assert refused(stale, "updateContact") == {"version": "CONFLICT"}

    future = (dt.date.today() + dt.timedelta(days=2)).isoformat()
    bad = await admin.gql(
        CREATE_CONTACT,
        {
            "input": {
                "customerId": acme["id"],
                "name": " ",
                "title": "t" * 101,
                "phone": "abc",
                "mobile": "123",
                "email": "no",
                "birthday": future,
                "notes": "n" * 5001,
            }
        },
    )
    assert refused(bad, "createContact") == {
        "name": "REQUIRED",
        "title": "TOO_LONG",
        "phone": "INVALID",
        "mobile": "INVALID",
        "email": "INVALID",
        "birthday": "OUT_OF_RANGE",
        "notes": "TOO_LONG",
    }
    old = await admin.gql(
        CREATE_CONTACT,
        {"input": {"customerId": acme["id"], "name": "Old", "birthday": "1899-12-31"}},
    )
    assert refused(old, "createContact") == {"birthday": "OUT_OF_RANGE"}
    nowhere = await admin.gql(
        CREATE_CONTACT, {"input": {"customerId": gid("Customer", 999), "name": "X"}}
    )
    assert api_error(nowhere) == ("NOT_FOUND", "input.customerId")
    missing = await admin.gql(UPDATE_CONTACT, {"input": {"id": gid("Contact", 999), "version": 1}})
    assert api_error(missing) == ("NOT_FOUND", "input.id")
    renamed = await admin.gql(
        UPDATE_CONTACT, {"input": {"id": second["id"], "version": second["version"], "name": ""}}
    )
    assert refused(renamed, "updateContact") == {"name": "REQUIRED"}

    # Archiving the primary leaves no primary; an archived contact cannot become primary.
    current = (await admin.gql(CONTACTS_OF, {"id": acme["id"]}))["data"]["customer"]
    bob = next(e["node"] for e in current["contacts"]["edges"] if e["node"]["name"] == "Bob Baker")
    stale = await admin.gql(ARCHIVE_CONTACT, {"id": bob["id"], "version": bob["version"] - 1})
    assert refused(stale, "archiveContact") == {"version": "CONFLICT"}
    archived = ok(
        await admin.gql(ARCHIVE_CONTACT, {"id": bob["id"], "version": bob["version"]}),
        "archiveContact",
    )["contact"]
    assert archived["archivedAt"] is not None
    assert archived["primary"] is False
    data = (await admin.gql(CONTACTS_OF, {"id": acme["id"]}))["data"]["customer"]
    assert data["primaryContact"] is None
    assert sorted(e["node"]["name"] for e in data["contacts"]["edges"]) == ["Ann Able", "Cy Carter"]
    assert data["contacts"]["totalCount"] == 2
    body = await admin.gql(SET_PRIMARY, {"id": bob["id"], "version": archived["version"]})
    assert refused(body, "setPrimaryContact") == {"id": "BUSINESS_RULE"}
    stale = await admin.gql(SET_PRIMARY, {"id": third["id"], "version": 99})
    assert refused(stale, "setPrimaryContact") == {"version": "CONFLICT"}

    # The contacts list searches names and emails of contacts not archived.
    search = """
    query($filter: ContactFilter) {
      contacts(filter: $filter, first: 10) { edges { node { name customer { id } } } }
    }"""
    body = await admin.gql(search, {"filter": {"search": "acme.EXAMPLE"}})
    assert [e["node"]["name"] for e in body["data"]["contacts"]["edges"]] == ["Ann Able"]
    assert body["data"]["contacts"]["edges"][0]["node"]["customer"]["id"] == acme["id"]
    body = await admin.gql(search, {"filter": {"search": "bob"}})
    assert body["data"]["contacts"]["edges"] == []
    body = await admin.gql(search, {"filter": {"customerId": acme["id"]}})
    assert [e["node"]["name"] for e in body["data"]["contacts"]["edges"]] == [
        "Ann Able",
        "Cy Carter",
    ]
    body = await admin.gql(search, {"filter": {"customerId": gid("Tag", 1)}})
    assert api_error(body) == ("BAD_USER_INPUT", "filter.customerId")


# ----------------------------------------------------------------------------- timeline


async def test_logging_an_interaction_moves_last_interaction_at(admin: Api) -> None:
    colleague = await make_user(
        admin.db, admin.settings, "colleague@example.com", [SALES_REPRESENTATIVE]
    )
    acme = await create(admin, name="Acme")
    other = await create(admin, name="Other")
    ann = await add_contact(admin, acme["id"], "Ann")
    stranger = await add_contact(admin, other["id"], "Stranger")

    two_days_ago = NOW - dt.timedelta(days=2)
    first = await log(
        admin,
        acme["id"],
        " Intro call ",
        occurredAt=iso(two_days_ago),
        contactId=ann["id"],
        participantIds=[gid("User", colleague)],
    )
    assert first["summary"] == "Intro call"
    assert first["channel"] == "PHONE"
    assert first["author"] == {"user": {"email": "admin@example.com"}}
    assert first["participants"] == [{"user": {"email": "colleague@example.com"}}]
    assert first["contact"] == {"name": "Ann"}
    assert first["customer"] == {"id": acme["id"]}
    customer = await get(admin, acme["id"])
    assert when(customer["lastInteractionAt"]) == two_days_ago
    assert customer["version"] == acme["version"]  # derived: the version clients hold stays

    await log(admin, acme["id"], "Older email", occurredAt=iso(NOW - dt.timedelta(days=30)))
    assert when((await get(admin, acme["id"]))["lastInteractionAt"]) == two_days_ago
    latest = await log(admin, acme["id"], "Visit")  # occurredAt defaults to now
    assert when((await get(admin, acme["id"]))["lastInteractionAt"]) == when(latest["occurredAt"])
    assert (await get(admin, other["id"]))["lastInteractionAt"] is None

    timeline = (await admin.gql(TIMELINE, {"id": acme["id"]}))["data"]["customer"]
    assert [e["node"]["summary"] for e in timeline["interactions"]["edges"]] == [
        "Visit",
        "Intro call",
        "Older email",
    ]
    assert timeline["interactions"]["totalCount"] == 3
    assert (await history(admin, acme["id"]))[0]["action"] == "interaction.logged"

    bad = await admin.gql(
        LOG,
        {
            "input": {
                "customerId": acme["id"],
                "contactId": stranger["id"],
                "channel": "VISIT",
                "summary": "",
                "occurredAt": iso(NOW + dt.timedelta(hours=1)),
                "participantIds": [gid("User", 999)],
                "nextFollowUpAt": iso(NOW - dt.timedelta(hours=1)),
            }
        },
    )
    assert api_error(bad) == ("NOT_FOUND", "input.participantIds.0")  # before the values
    bad = await admin.gql(
        LOG,
        {
            "input": {
                "customerId": acme["id"],
                "contactId": stranger["id"],
                "channel": "VISIT",
                "summary": "",
                "occurredAt": iso(NOW + dt.timedelta(hours=1)),
                "participantIds": [],
                "nextFollowUpAt": iso(NOW - dt.timedelta(hours=1)),
            }
        },
    )
    assert refused(bad, "logInteraction") == {
        "summary": "REQUIRED",
        "occurredAt": "OUT_OF_RANGE",
        "nextFollowUpAt": "OUT_OF_RANGE",
        "contactId": "INVALID",
    }
    naive = await admin.gql(
        LOG,
        {
            "input": {
                "customerId": acme["id"],
                "channel": "EMAIL",
                "summary": "x",
                "occurredAt": "2024-01-01T10:00:00",
            }
        },
    )
    # A time without an offset is refused while reading the variables, naming the field.
    assert naive.get("data") is None
    assert "occurredAt" in naive["errors"][0]["message"]
    assert "no UTC offset" in naive["errors"][0]["message"]
    nowhere = await admin.gql(
        LOG, {"input": {"customerId": gid("Customer", 999), "channel": "EMAIL", "summary": "x"}}
    )
    assert api_error(nowhere) == ("NOT_FOUND", "input.customerId")
    too_long = await admin.gql(
        LOG, {"input": {"customerId": acme["id"], "channel": "EMAIL", "summary": "s" * 10_001}}
    )
    assert refused(too_long, "logInteraction") == {"summary": "TOO_LONG"}
    assert (await admin.gql(TIMELINE, {"id": acme["id"]}))["data"]["customer"]["interactions"][
        "totalCount"
    ] == 3

    # A follow-up date also creates a task for the author, due then.
    follow_up = NOW + dt.timedelta(days=5)
    await log(admin, other["id"], "Asked for a quote", nextFollowUpAt=iso(follow_up))
    tasks = (await admin.gql(TIMELINE, {"id": other["id"]}))["data"]["customer"]["tasks"]
    assert [(e["node"]["title"], when(e["node"]["dueAt"])) for e in tasks["edges"]] == [
        ("Follow up: Asked for a quote", follow_up)
    ]


async def test_tasks_are_created_listed_and_completed(admin: Api) -> None:
    rep = await make_user(admin.db, admin.settings, "rep@example.com", [SALES_REPRESENTATIVE])
    acme = await create(admin, name="Acme")
    due = NOW + dt.timedelta(days=3)
    body = await admin.gql(
        CREATE_TASK,
        {
            "input": {
                "customerId": acme["id"],
                "title": " Send the contract ",
                "dueAt": iso(due),
                "remindAt": iso(due - dt.timedelta(days=1)),
            }
        },
    )
    task = ok(body, "createTask")["task"]
    assert task["title"] == "Send the contract"
    assert when(task["dueAt"]) == due
    assert task["customer"] == {"id": acme["id"]}
    assert task["assignee"] == {"user": {"email": "admin@example.com"}}
    assert (task["done"], task["doneAt"], task["version"]) == (False, None, 1)
    loose = ok(
        await admin.gql(
            CREATE_TASK,
            {"input": {"title": "Tidy the pipeline", "dueAt": iso(NOW + dt.timedelta(days=1))}},
        ),
        "createTask",
    )["task"]
    assert loose["customer"] is None

    tasks: list[tuple[dict[str, Any], dict[str | None, str] | tuple[str, str]]] = [
        ({"title": "", "dueAt": iso(due)}, {"title": "REQUIRED"}),
        ({"title": "t" * 201, "dueAt": iso(due)}, {"title": "TOO_LONG"}),
        (
            {"title": "x", "dueAt": iso(due), "remindAt": iso(due + dt.timedelta(minutes=1))},
            {"remindAt": "OUT_OF_RANGE"},
        ),
        (
            {"title": "x", "dueAt": iso(due), "assigneeId": gid("User", 999)},
            ("NOT_FOUND", "input.assigneeId"),
        ),
        (
            {"title": "x", "dueAt": iso(due), "customerId": gid("Customer", 999)},
            ("NOT_FOUND", "input.customerId"),
        ),
    ]
    for fields, expected in tasks:
        assert answer(await admin.gql(CREATE_TASK, {"input": fields}), "createTask") == expected
    for_rep = ok(
        await admin.gql(
            CREATE_TASK,
            {"input": {"title": "Rep's job", "dueAt": iso(due), "assigneeId": gid("User", rep)}},
        ),
        "createTask",
    )["task"]
    assert for_rep["assignee"] == {"user": {"email": "rep@example.com"}}

    listing = (await admin.gql(TASKS, {"filter": None}))["data"]["tasks"]
    assert [e["node"]["title"] for e in listing["edges"]] == [
        "Tidy the pipeline",
        "Send the contract",
        "Rep's job",
    ]  # soonest due first, then by id
    by_customer = await admin.gql(TASKS, {"filter": {"customerId": acme["id"]}})
    assert [e["node"]["title"] for e in by_customer["data"]["tasks"]["edges"]] == [
        "Send the contract"
    ]
    by_assignee = await admin.gql(TASKS, {"filter": {"assigneeId": gid("User", rep)}})
    assert by_assignee["data"]["tasks"]["totalCount"] == 1
    window = {"from": iso(NOW + dt.timedelta(days=2)), "to": iso(NOW + dt.timedelta(days=4))}
    by_due = await admin.gql(TASKS, {"filter": {"due": window}})
    assert by_due["data"]["tasks"]["totalCount"] == 2

    stale = await admin.gql(COMPLETE_TASK, {"id": task["id"], "version": 7})
    assert refused(stale, "completeTask") == {"version": "CONFLICT"}
    done = ok(await admin.gql(COMPLETE_TASK, {"id": task["id"], "version": 1}), "completeTask")[
        "task"
    ]
    assert done["done"] is True
    assert done["doneAt"] is not None
    assert done["version"] == 2
    twice = ok(await admin.gql(COMPLETE_TASK, {"id": task["id"], "version": 2}), "completeTask")[
        "task"
    ]
    assert twice["doneAt"] == done["doneAt"]
    assert twice["version"] == 2
    missing = await admin.gql(COMPLETE_TASK, {"id": gid("Task", 999), "version": 1})
    assert api_error(missing) == ("NOT_FOUND", "input.id")

    assert (await admin.gql(TASKS, {"filter": {"done": True}}))["data"]["tasks"]["totalCount"] == 1
    open_tasks = await admin.gql(TASKS, {"filter": {"done": False}})
    assert open_tasks["data"]["tasks"]["totalCount"] == 2


# ----------------------------------------------------------------------------- custom fields


async def test_custom_fields_are_defined_validated_and_filtered(admin: Api) -> None:
    rep = await admin.user("rep@example.com", [SALES_REPRESENTATIVE])
    definitions: list[dict[str, Any]] = [
        {"key": "notes_text", "label": "Notes", "type": "TEXT"},
        {"key": "employees", "label": "Employees", "type": "NUMBER"},
        {"key": "founded", "label": "Founded", "type": "DATE"},
        {"key": "reseller", "label": "Reseller", "type": "BOOLEAN"},
        {
            "key": "segment",
            "label": "Segment",
            "type": "SELECT",
            "options": ["SMB", " Enterprise "],
        },
        {"key": "account_code", "label": "Account code", "type": "TEXT", "required": True},
        {"entity": "CONTACT", "key": "linkedin", "label": "LinkedIn", "type": "TEXT"},
    ]
    for definition in definitions:
        defined = ok(await admin.gql(DEFINE, {"input": definition}), "defineCustomField")
        assert defined["definition"]["key"] == definition["key"]
        assert defined["definition"]["entity"] == definition.get("entity", "CUSTOMER")
    listing = (await admin.gql(DEFINITIONS, {"entity": "CUSTOMER"}))["data"][
        "customFieldDefinitions"
    ]
    assert [d["key"] for d in listing] == [
        "account_code",
        "employees",
        "founded",
        "notes_text",
        "reseller",
        "segment",
    ]
    segment = next(d for d in listing if d["key"] == "segment")
    assert segment["options"] == ["SMB", "Enterprise"]
    assert segment["required"] is False
    everything = (await admin.gql(DEFINITIONS, {"entity": None}))["data"]["customFieldDefinitions"]
    assert len(everything) == 7

    bad_definitions: list[tuple[dict[str, Any], dict[str | None, str]]] = [
        ({"key": "Bad Key", "label": "X", "type": "TEXT"}, {"key": "INVALID"}),
        ({"key": "1st", "label": "X", "type": "TEXT"}, {"key": "INVALID"}),
        ({"key": "fine", "label": " ", "type": "TEXT"}, {"label": "REQUIRED"}),
        ({"key": "fine", "label": "X", "type": "SELECT"}, {"options": "REQUIRED"}),
        (
            {"key": "fine", "label": "X", "type": "SELECT", "options": ["a", "a"]},
            {"options": "DUPLICATE"},
        ),
        ({"key": "fine", "label": "X", "type": "NUMBER", "options": ["a"]}, {"options": "INVALID"}),
        ({"key": "employees", "label": "Again", "type": "NUMBER"}, {"key": "DUPLICATE"}),
    ]
    for bad_definition, expected in bad_definitions:
        body = await admin.gql(DEFINE, {"input": bad_definition})
        assert refused(body, "defineCustomField") == expected, bad_definition
    forbidden = await rep.gql(DEFINE, {"input": {"key": "mine", "label": "Mine", "type": "TEXT"}})
    assert api_error(forbidden)[0] == "FORBIDDEN"  # settings:manage

    body = await admin.gql(
        CREATE,
        {
            "input": {
                "name": "Bad values",
                "customFields": {
                    "notes_text": 5,
                    "employees": "many",
                    "founded": "2024-02-30",
                    "reseller": "yes",
                    "segment": "Giant",
                    "colour": "red",
                },
            }
        },
    )
    assert refused(body, "createCustomer") == {
        "customFields.notes_text": "INVALID",
        "customFields.employees": "INVALID",
        "customFields.founded": "INVALID",
        "customFields.reseller": "INVALID",
        "customFields.segment": "INVALID",
        "customFields.colour": "INVALID",
        "customFields.account_code": "REQUIRED",
    }
    assert "SMB, Enterprise" in messages(body, "createCustomer")["customFields.segment"]
    bad_values: list[tuple[dict[str, Any], str]] = [
        ({"employees": True}, "customFields.employees"),
        ({"employees": "NaN"}, "customFields.employees"),
        ({"notes_text": "x" * 1001}, "customFields.notes_text"),
        ({"founded": 2024}, "customFields.founded"),
        ({"reseller": 1}, "customFields.reseller"),
    ]
    for values, field in bad_values:
        body = await admin.gql(
            CREATE, {"input": {"name": "X", "customFields": {"account_code": "A-1", **values}}}
        )
        assert refused(body, "createCustomer") == {field: "INVALID"}, values
    not_an_object = await admin.gql(CREATE, {"input": {"name": "X", "customFields": ["a"]}})
    assert refused(not_an_object, "createCustomer") == {"customFields": "INVALID"}
    blank = await admin.gql(
        CREATE, {"input": {"name": "X", "customFields": {"account_code": "  "}}}
    )
    assert refused(blank, "createCustomer") == {"customFields.account_code": "REQUIRED"}
    assert await total(admin) == 0

    acme = await create(
        admin,
        name="Acme",
        customFields={
            "account_code": " A-100 ",
            "notes_text": "Big one",
            "employees": "250",
            "founded": "1999-12-31",
            "reseller": True,
            "segment": "Enterprise",
        },
    )
    assert acme["customFields"] == {
        "account_code": "A-100",
        "notes_text": "Big one",
        "employees": 250,
        "founded": "1999-12-31",
        "reseller": True,
        "segment": "Enterprise",
    }
    small = await create(
        admin,
        name="Small",
        customFields={"account_code": "S-1", "employees": 2.5, "reseller": False, "segment": "SMB"},
    )
    assert small["customFields"]["employees"] == 2.5
    await create(admin, name="Plain", customFields={"account_code": "P-1"})

    # Updates: keys given replace, null removes, the others stay; required stays required.
    changed = await update(admin, acme, customFields={"employees": 300, "notes_text": None})
    assert changed["customFields"] == {
        "account_code": "A-100",
        "employees": 300,
        "founded": "1999-12-31",
        "reseller": True,
        "segment": "Enterprise",
    }
    body = await admin.gql(
        UPDATE,
        {
            "input": {
                "id": acme["id"],
                "version": changed["version"],
                "customFields": {"account_code": None},
            }
        },
    )
    assert refused(body, "updateCustomer") == {"customFields.account_code": "REQUIRED"}
    body = await admin.gql(
        UPDATE,
        {
            "input": {
                "id": acme["id"],
                "version": changed["version"],
                "customFields": {"segment": "X"},
            }
        },
    )
    assert refused(body, "updateCustomer") == {"customFields.segment": "INVALID"}
    event = (await history(admin, acme["id"]))[0]
    assert changes_of(event)["customFields"][1]["employees"] == 300

    async def named(key: str, value: Any) -> list[str]:
        return await listed(admin, filter={"customFields": [{"key": key, "equals": value}]})

    assert await named("employees", 300) == ["Acme"]
    assert await named("employees", 2.5) == ["Small"]
    assert await named("reseller", True) == ["Acme"]
    assert await named("reseller", False) == ["Small"]
    assert await named("segment", "SMB") == ["Small"]
    assert await named("founded", "1999-12-31") == ["Acme"]
    assert await named("account_code", "P-1") == ["Plain"]
    assert await named("account_code", "nope") == []
    both = await listed(
        admin,
        filter={
            "customFields": [
                {"key": "segment", "equals": "Enterprise"},
                {"key": "reseller", "equals": True},
            ]
        },
    )
    assert both == ["Acme"]
    body = await admin.gql(
        LIST, {"filter": {"customFields": [{"key": "segment", "equals": ["SMB"]}]}}
    )
    assert api_error(body) == ("BAD_USER_INPUT", "filter.customFields.0.equals")


async def test_filtering_a_custom_field_by_a_value_of_another_type_is_refused(
    admin: Api,
) -> None:
    await admin.gql(DEFINE, {"input": {"key": "code", "label": "Code", "type": "TEXT"}})
    await create(admin, name="Acme", customFields={"code": "A-1"})
    for value in (5, True):
        body = await admin.gql(
            LIST, {"filter": {"customFields": [{"key": "code", "equals": value}]}}
        )
        assert api_error(body) == ("BAD_USER_INPUT", "filter.customFields.0.equals")
    body = await admin.gql(LIST, {"filter": {"customFields": [{"key": "nope", "equals": "x"}]}})
    assert api_error(body) == ("BAD_USER_INPUT", "filter.customFields.0.key")


# ----------------------------------------------------------------------------- tags


async def test_tags_attach_filter_rename_and_merge(admin: Api) -> None:
    rep = await admin.user("rep@example.com", [SALES_REPRESENTATIVE])
    acme = await create(admin, name="Acme", tags=["VIP", "partner"])
    bravo = await create(admin, name="Bravo", tags=["vip"])
    charlie = await create(admin, name="Charlie")

    tagged = ok(
        await admin.gql(
            TAG, {"ids": [bravo["id"], charlie["id"]], "tags": ["Partner", "Newsletter"]}
        ),
        "tagCustomers",
    )["customers"]
    assert [[t["name"] for t in c["tags"]] for c in tagged] == [
        ["Newsletter", "partner", "VIP"],
        ["Newsletter", "partner"],
    ]
    tags = (await admin.gql(TAGS))["data"]["tags"]
    assert [t["name"] for t in tags] == ["Newsletter", "partner", "VIP"]  # created on first use

    assert await listed(admin, filter={"tags": ["vip"]}) == ["Acme", "Bravo"]
    assert await listed(admin, filter={"tags": ["VIP", "newsletter"]}) == [
        "Acme",
        "Bravo",
        "Charlie",
    ]
    assert await listed(admin, filter={"tags": ["vip", "NEWSLETTER"], "tagMatch": "ALL"}) == [
        "Bravo"
    ]
    assert await listed(admin, filter={"tags": ["vip", "partner"], "tagMatch": "ALL"}) == [
        "Acme",
        "Bravo",
    ]
    assert await listed(admin, filter={"tags": ["unknown"]}) == []

    untagged = ok(
        await admin.gql(UNTAG, {"ids": [bravo["id"]], "tags": ["NEWSLETTER"]}), "untagCustomers"
    )
    assert [t["name"] for t in untagged["customers"][0]["tags"]] == ["partner", "VIP"]
    actions = [e["action"] for e in await history(admin, bravo["id"])]
    assert actions[:2] == ["customer.untagged", "customer.tagged"]
    ok(await admin.gql(TAG, {"ids": [acme["id"]], "tags": ["newsletter"]}), "tagCustomers")

    for body, name, expected in [
        (
            await admin.gql(TAG, {"ids": [acme["id"]], "tags": []}),
            "tagCustomers",
            {"tags": "REQUIRED"},
        ),
        (
            await admin.gql(TAG, {"ids": [acme["id"]], "tags": ["x" * 51]}),
            "tagCustomers",
            {"tags.0": "TOO_LONG"},
        ),
        (
            await admin.gql(TAG, {"ids": [gid("Customer", 999)], "tags": ["x"]}),
            "tagCustomers",
            ("NOT_FOUND", "input.customerIds.0"),
        ),
    ]:
        assert answer(body, name) == expected

    ids = {t["name"]: t["id"] for t in tags}
    renamed = ok(
        await admin.gql(RENAME_TAG, {"id": ids["partner"], "name": " Channel  Partner "}),
        "renameTag",
    )
    assert renamed["tag"] == {"id": ids["partner"], "name": "Channel Partner"}
    assert await listed(admin, filter={"tags": ["channel partner"]}) == ["Acme", "Bravo", "Charlie"]

    # Renaming onto an existing name (any case) merges the two tags.
    merged = ok(await admin.gql(RENAME_TAG, {"id": ids["Newsletter"], "name": "vip"}), "renameTag")
    assert merged["tag"] == {"id": ids["VIP"], "name": "VIP"}
    assert [t["name"] for t in (await admin.gql(TAGS))["data"]["tags"]] == [
        "Channel Partner",
        "VIP",
    ]
    assert await listed(admin, filter={"tags": ["vip"]}) == ["Acme", "Bravo", "Charlie"]
    for customer in (acme, bravo, charlie):
        names = [t["name"] for t in (await get(admin, customer["id"]))["tags"]]
        assert names == ["Channel Partner", "VIP"], customer["name"]  # each tag once
    gone = await admin.gql("query($id: ID!) { node(id: $id) { id } }", {"id": ids["Newsletter"]})
    assert gone["data"]["node"] is None

    assert refused(await admin.gql(RENAME_TAG, {"id": ids["VIP"], "name": ""}), "renameTag") == {
        "name": "REQUIRED"
    }
    missing = await admin.gql(RENAME_TAG, {"id": gid("Tag", 999), "name": "x"})
    assert api_error(missing) == ("NOT_FOUND", "input.id")
    own_scope = await rep.gql(RENAME_TAG, {"id": ids["VIP"], "name": "Very Important"})
    # A scope too narrow for the whole catalogue is a missing permission: top level too.
    assert api_error(own_scope) == ("FORBIDDEN", None)
    assert own_scope["errors"][0]["extensions"]["permission"] == "customers:write"
    assert own_scope["data"] == {"renameTag": None}
    assert [t["name"] for t in (await admin.gql(TAGS))["data"]["tags"]] == [
        "Channel Partner",
        "VIP",
    ]


# ----------------------------------------------------------------------------- lists


async def test_search_and_filters(admin: Api) -> None:
    manager = await make_user(admin.db, admin.settings, "manager@example.com", [CUSTOMER_MANAGER])
    acme = await create(
        admin,
        name="Acme Tools",
        stage="ACTIVE",
        grade="GOLD",
        industry="Manufacturing",
        source="REFERRAL",
        phone="+12125550100",
        email="sales@acme.example",
    )
    bravo = await create(
        admin,
        name="Bravo 50% Off",
        stage="NEW",
        grade="SILVER",
        industry="Retail",
        source="WEBSITE",
        email="hello@bravo.example",
        ownerId=gid("User", manager),
    )
    charlie = await create(admin, name="Charlie_Corp", stage="ACTIVE", industry="Retail")
    await add_contact(admin, charlie["id"], "Zelda Quinn")
    archived_contact = await add_contact(admin, bravo["id"], "Archie Gone")
    await admin.gql(ARCHIVE_CONTACT, {"id": archived_contact["id"], "version": 1})
    await log(admin, acme["id"], "Old call", occurredAt=iso(NOW - dt.timedelta(days=40)))
    await log(admin, bravo["id"], "New call", occurredAt=iso(NOW - dt.timedelta(days=1)))

    async def search(text: str) -> list[str]:
        return await listed(admin, filter={"search": text})

    assert await search("acme") == ["Acme Tools"]  # name, any case
    assert await search(bravo["number"].lower()) == ["Bravo 50% Off"]  # number
    assert await search("555-0100") == ["Acme Tools"]  # phone digits, any format
    assert await search("HELLO@bravo") == ["Bravo 50% Off"]  # email
    assert await search("zelda") == ["Charlie_Corp"]  # a contact's name
    assert await search("archie") == []  # archived contacts do not count
    assert await search("50%") == ["Bravo 50% Off"]  # % is literal
    assert await search("%") == ["Bravo 50% Off"]
    assert await search("_") == ["Charlie_Corp"]  # _ is literal
    assert await search("   ") == ["Acme Tools", "Bravo 50% Off", "Charlie_Corp"]

    assert await listed(admin, filter={"stage": ["ACTIVE"]}) == ["Acme Tools", "Charlie_Corp"]
    assert await listed(admin, filter={"stage": ["NEW", "ACTIVE"], "grade": ["SILVER"]}) == [
        "Bravo 50% Off"
    ]
    assert await listed(admin, filter={"grade": ["STANDARD"]}) == ["Charlie_Corp"]
    assert await listed(admin, filter={"industry": ["Retail"]}) == ["Bravo 50% Off", "Charlie_Corp"]
    assert await listed(admin, filter={"source": ["REFERRAL", "PARTNER"]}) == ["Acme Tools"]
    assert await listed(admin, filter={"ownerId": gid("User", manager)}) == ["Bravo 50% Off"]
    assert await listed(
        admin, filter={"ownerId": gid("User", admin.user_id), "industry": ["Retail"]}
    ) == ["Charlie_Corp"]
    body = await admin.gql(LIST, {"filter": {"ownerId": acme["id"]}})
    assert api_error(body) == ("BAD_USER_INPUT", "filter.ownerId")

    created = {c["name"]: when(c["createdAt"]) for c in (acme, bravo, charlie)}
    window = {"from": iso(created["Bravo 50% Off"]), "to": iso(created["Charlie_Corp"])}
    assert await listed(admin, filter={"created": window}) == ["Bravo 50% Off"]  # [from, to)
    assert await listed(admin, filter={"created": {"from": iso(created["Bravo 50% Off"])}}) == [
        "Bravo 50% Off",
        "Charlie_Corp",
    ]
    recent = {"from": iso(NOW - dt.timedelta(days=7))}
    assert await listed(admin, filter={"lastInteraction": recent}) == ["Bravo 50% Off"]
    older = {"to": iso(NOW - dt.timedelta(days=7))}
    assert await listed(admin, filter={"lastInteraction": older}) == ["Acme Tools"]
    assert await total(admin, {"lastInteraction": {"from": iso(NOW - dt.timedelta(days=365))}}) == 2

    unauthenticated = await admin.with_token(None).gql(LIST, {})
    assert api_error(unauthenticated)[0] == "UNAUTHENTICATED"


SEARCH_PAGE = """
query($filter: CustomerFilter, $orderBy: [CustomerOrder!], $first: Int, $after: String,
      $last: Int, $before: String) {
  customers(filter: $filter, orderBy: $orderBy, first: $first, after: $after, last: $last,
            before: $before) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { name } }
  }
}"""


async def every_page(api: Api, backwards: bool = False, **variables: Any) -> list[str]:
    """Names of every customer of a list, read three at a time (from the end, if
    ``backwards``), each page checked against the list's totalCount and pageInfo."""
    names: list[str] = []
    cursor: str | None = None
    while True:
        where = {"last": 3, "before": cursor} if backwards else {"first": 3, "after": cursor}
        body = await api.gql(SEARCH_PAGE, {**variables, **where})
        assert "errors" not in body, body
        page = body["data"]["customers"]
        found = [edge["node"]["name"] for edge in page["edges"]]
        names = found + names if backwards else names + found
        more = page["pageInfo"]["hasPreviousPage" if backwards else "hasNextPage"]
        assert page["totalCount"] >= len(names)
        if not more:
            assert page["totalCount"] == len(names)
            return names
        cursor = page["pageInfo"]["startCursor" if backwards else "endCursor"]


async def test_search_pages_are_the_matches_in_list_order(
    admin: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given customers that match "lake" by name, email, phone or a contact's name (or two of
    # these at once), customers that do not, an archived one and one whose only matching
    # contact is archived
    rep = await admin.user("rep@example.com", [SALES_REPRESENTATIVE])
    mine = {"ownerId": gid("User", rep.user_id)}
    await create(admin, name="Lakeview Ltd", stage="ACTIVE")
    await create(admin, name="Bluelake Inc", stage="NEW", **mine)
    north = await create(admin, name="Northwind")
    await add_contact(admin, north["id"], "Tom Lakers")
    both = await create(admin, name="Lake & Co", stage="ACTIVE", **mine)
    await add_contact(admin, both["id"], "Lakshmi Lake")
    await add_contact(admin, both["id"], "Ann Lakeland")
    gone = await create(admin, name="Zed Lake")
    await admin.gql(ARCHIVE, {"id": gone["id"], "version": gone["version"]})
    await create(admin, name="Marsh Supply", email="lake@marsh.example", **mine)
    await create(admin, name="Pine Co", phone="+1 212 555 0142")
    await create(admin, name="Other One", email="other@example.com")
    harbor = await create(admin, name="Harbor")
    old = await add_contact(admin, harbor["id"], "Lakeman Old")
    await admin.gql(ARCHIVE_CONTACT, {"id": old["id"], "version": 1})
    for name in ("Alpha Lake", "Cedar Lakes", "Lake Lake"):
        await create(admin, name=name)
    await log(admin, both["id"], "Call", occurredAt=iso(NOW - dt.timedelta(days=2)))
    await log(admin, north["id"], "Call", occurredAt=iso(NOW - dt.timedelta(days=9)))
    lake = {
        "Lakeview Ltd",
        "Bluelake Inc",
        "Northwind",
        "Lake & Co",
        "Marsh Supply",
        "Alpha Lake",
        "Cedar Lakes",
        "Lake Lake",
    }
    orderings = [
        None,
        {"field": "UPDATED_AT", "direction": "DESC"},
        {"field": "LAST_INTERACTION_AT", "direction": "ASC"},
    ]
    terms = [
        ("lake", lake),
        ("LAKE", lake),
        ("ke", lake),  # shorter than three characters: one OR on every backend
        ("5550142", {"Pine Co"}),  # phone digits
        ("lakeland", {"Lake & Co"}),  # only a contact's name
        ("lakeman", set()),  # an archived contact's name
    ]
    # Pages are the same however a page is put together: from parts (as on PostgreSQL,
    # here on every backend), each by sorting a term's matches (up to SEARCH_COLLECT of
    # them) or by walking the list in order; or by one OR.
    monkeypatch.setattr(customer_queries, "SEARCH_INDEXED_ON", {"postgresql", "sqlite"})
    for collect in (1, 100_000):
        monkeypatch.setattr(customer_queries, "SEARCH_COLLECT", collect)
        for order_by in orderings:
            in_order = await every_page(admin, orderBy=order_by)
            for term, matching in terms:
                expected = [name for name in in_order if name in matching]
                search = {"search": term}
                forward = await every_page(admin, filter=search, orderBy=order_by)
                backward = await every_page(admin, backwards=True, filter=search, orderBy=order_by)
                assert forward == backward == expected, (collect, order_by, term)
        # Other filters and the caller's scope apply to every part of a search.
        assert await every_page(admin, filter={"search": "lake", "stage": ["ACTIVE"]}) == [
            "Lake & Co",
            "Lakeview Ltd",
        ]
        assert await every_page(rep, filter={"search": "lake"}) == [
            "Bluelake Inc",
            "Lake & Co",
            "Marsh Supply",
        ]
        assert await every_page(admin, filter={"search": "lake", "archived": True}) == ["Zed Lake"]


async def test_search_wildcards_are_literal_in_terms_of_any_length(admin: Api) -> None:
    for name in ("Bravo 50% Off", "Bravo 500 Off", "Charlie_Corp", "Charlie Corp", "CharlieXCorp"):
        await create(admin, name=name)

    async def search(text: str) -> list[str]:
        return await listed(admin, filter={"search": text})

    assert await search("e_c") == ["Charlie_Corp"]
    assert await search("_") == ["Charlie_Corp"]
    assert await search("0% o") == ["Bravo 50% Off"]
    assert await search("%") == ["Bravo 50% Off"]
    assert await search("50%") == ["Bravo 50% Off"]
    assert await search("\\") == []
    assert await search("lie\\") == []


async def test_keyset_pagination_in_both_directions(admin: Api) -> None:
    names = ["Echo", "Alpha", "Delta", "Golf", "Bravo", "Foxtrot", "Charlie"]
    for name in names:
        await create(admin, name=name)
    ordered = sorted(names)

    page = (await admin.gql(LIST, {"first": 3}))["data"]["customers"]
    assert [e["node"]["name"] for e in page["edges"]] == ordered[:3]
    assert page["pageInfo"]["hasNextPage"] is True
    assert page["pageInfo"]["hasPreviousPage"] is False
    assert page["pageInfo"]["endCursor"] == page["edges"][-1]["cursor"]
    second = (await admin.gql(LIST, {"first": 3, "after": page["pageInfo"]["endCursor"]}))["data"][
        "customers"
    ]
    assert [e["node"]["name"] for e in second["edges"]] == ordered[3:6]
    assert second["pageInfo"]["hasPreviousPage"] is True
    third = (await admin.gql(LIST, {"first": 3, "after": second["pageInfo"]["endCursor"]}))["data"][
        "customers"
    ]
    assert [e["node"]["name"] for e in third["edges"]] == ordered[6:]
    assert third["pageInfo"]["hasNextPage"] is False
    seen = [e["node"]["id"] for p in (page, second, third) for e in p["edges"]]
    assert len(seen) == len(set(seen)) == len(names)  # no overlap, nothing skipped

    back = (await admin.gql(LIST, {"last": 2}))["data"]["customers"]
    assert [e["node"]["name"] for e in back["edges"]] == ordered[-2:]
    assert back["pageInfo"]["hasPreviousPage"] is True
    assert back["pageInfo"]["hasNextPage"] is False
    earlier = (await admin.gql(LIST, {"last": 2, "before": back["pageInfo"]["startCursor"]}))[
        "data"
    ]["customers"]
    assert [e["node"]["name"] for e in earlier["edges"]] == ordered[3:5]
    assert earlier["pageInfo"]["hasNextPage"] is True
    before_second = (await admin.gql(LIST, {"last": 5, "before": second["edges"][0]["cursor"]}))[
        "data"
    ]["customers"]
    assert [e["node"]["name"] for e in before_second["edges"]] == ordered[:3]
    assert before_second["pageInfo"]["hasPreviousPage"] is False

    # totalCount counts across pages; a page is not limited by it.
    body = await admin.gql("{ customers(first: 2) { totalCount edges { node { id } } } }")
    assert body["data"]["customers"]["totalCount"] == 7
    assert len(body["data"]["customers"]["edges"]) == 2

    for variables, argument in [
        ({"first": 2, "after": "not-a-cursor"}, "after"),
        ({"last": 2, "before": "bm9wZQ"}, "before"),
        ({"first": 2, "after": page["edges"][0]["cursor"][:-4]}, "after"),
        ({"first": 101}, "first"),
        ({"first": -1}, "first"),
        ({"first": 1, "last": 1}, "last"),
        ({"first": 1, "before": page["pageInfo"]["endCursor"]}, "before"),
    ]:
        assert api_error(await admin.gql(LIST, variables)) == ("BAD_USER_INPUT", argument), (
            variables
        )

    nested = """
    query($id: ID!, $after: String) {
      customer(id: $id) {
        contacts(first: 2, after: $after) {
          pageInfo { hasNextPage endCursor } edges { node { name } }
        }
      }
    }"""
    acme = await create(admin, name="Acme")
    for contact in ("Dan", "Ann", "Cat", "Bob", "Eve"):
        await add_contact(admin, acme["id"], contact)
    collected: list[str] = []
    after = None
    while True:
        body = await admin.gql(nested, {"id": acme["id"], "after": after})
        contacts = body["data"]["customer"]["contacts"]
        collected += [e["node"]["name"] for e in contacts["edges"]]
        if not contacts["pageInfo"]["hasNextPage"]:
            break
        after = contacts["pageInfo"]["endCursor"]
    assert collected == ["Ann", "Bob", "Cat", "Dan", "Eve"]
    body = await admin.gql(nested, {"id": acme["id"], "after": "garbage"})
    assert api_error(body) == ("BAD_USER_INPUT", "after")


async def test_a_cursor_of_another_ordering_is_a_bad_argument(admin: Api) -> None:
    for name in ("Alpha", "Bravo", "Charlie"):
        await create(admin, name=name)
    page = (await admin.gql(LIST, {"first": 2}))["data"]["customers"]
    cursor = page["pageInfo"]["endCursor"]  # ["Bravo", 2]: a name, then an id
    for field in ("CREATED_AT", "UPDATED_AT", "LAST_INTERACTION_AT"):
        body = await admin.gql(LIST, {"first": 2, "after": cursor, "orderBy": {"field": field}})
        assert api_error(body) == ("BAD_USER_INPUT", "after"), (field, body)


async def test_every_ordering_pages_consistently(admin: Api) -> None:
    names = ["Delta", "alpha", "Charlie", "Bravo", "Echo"]
    customers = [await create(admin, name=name) for name in names]
    # Updated in another order than created; interactions for some, none for others.
    customers[3] = await update(admin, customers[3], industry="Retail")
    customers[0] = await update(admin, customers[0], industry="Retail")
    await log(admin, customers[2]["id"], "a", occurredAt=iso(NOW - dt.timedelta(days=3)))
    await log(admin, customers[4]["id"], "b", occurredAt=iso(NOW - dt.timedelta(days=5)))
    await log(admin, customers[1]["id"], "c", occurredAt=iso(NOW - dt.timedelta(days=1)))

    expected = {
        "NUMBER": ["Delta", "alpha", "Charlie", "Bravo", "Echo"],
        "CREATED_AT": ["Delta", "alpha", "Charlie", "Bravo", "Echo"],
        "UPDATED_AT": ["alpha", "Charlie", "Echo", "Bravo", "Delta"],
        # Never contacted first (ties by id), then oldest contact first.
        "LAST_INTERACTION_AT": ["Delta", "Bravo", "Echo", "Charlie", "alpha"],
    }
    for field, ascending in expected.items():
        for direction, names_in_order in (("ASC", ascending), ("DESC", ascending[::-1])):
            order = {"field": field, "direction": direction}
            whole = await listed(admin, orderBy=order)
            assert whole == names_in_order, (field, direction)
            assert await walk(admin, order, forward=True) == whole, (field, direction)
            assert await walk(admin, order, forward=False) == whole, (field, direction)

    # Names: the database's collation decides where "alpha" goes, but the pages agree.
    for direction in ("ASC", "DESC"):
        order = {"field": "NAME", "direction": direction}
        whole = await listed(admin, orderBy=order)
        assert sorted(whole) == sorted(names)
        core = [n for n in whole if n != "alpha"]
        assert core == sorted(core, reverse=direction == "DESC")
        assert await walk(admin, order, forward=True) == whole
        assert await walk(admin, order, forward=False) == whole
    assert await listed(admin) == await listed(admin, orderBy={"field": "NAME"})


async def walk(api: Api, order: dict[str, str], *, forward: bool) -> list[str]:
    """Every customer's name, two per page, following cursors forward or backward."""
    names: list[str] = []
    cursor: str | None = None
    for _ in range(10):
        if forward:
            variables = {"orderBy": order, "first": 2, "after": cursor}
        else:
            variables = {"orderBy": order, "last": 2, "before": cursor}
        body = await api.gql(LIST, variables)
        assert "errors" not in body, body
        connection = body["data"]["customers"]
        page = [e["node"]["name"] for e in connection["edges"]]
        names = names + page if forward else page + names
        info = connection["pageInfo"]
        if not (info["hasNextPage"] if forward else info["hasPreviousPage"]):
            return names
        cursor = info["endCursor"] if forward else info["startCursor"]
    raise AssertionError(f"paging never ended: {names}")


async def test_core_changes_read_the_controllable_clock(
    settings: Settings, clock: FakeClock
) -> None:
    clock.set(dt.datetime(2030, 1, 2, 3, 4, tzinfo=dt.UTC))
    async with running_app(settings, clock=clock) as api:
        admin = await api.user("admin@example.com", ["ADMINISTRATOR"])
        customer = await admin.gql(
            'mutation { createCustomer(input: {name: "Acme"}) '
            "{ customer { createdAt updatedAt } errors { code } } }"
        )
        team = await admin.gql(
            'mutation { createTeam(input: {name: "East"}) { team { createdAt } errors { code } } }'
        )

    assert customer["data"]["createCustomer"] == {
        "customer": {
            "createdAt": "2030-01-02T03:04:00+00:00",
            "updatedAt": "2030-01-02T03:04:00+00:00",
        },
        "errors": [],
    }
    assert team["data"]["createTeam"] == {
        "team": {"createdAt": "2030-01-02T03:04:00+00:00"},
        "errors": [],
    }


async def test_an_address_update_changes_only_the_parts_given(admin: Api) -> None:
    full = {
        "line1": "1 Nanjing Rd",
        "line2": "Floor 9",
        "city": "Shanghai",
        "region": "Shanghai",
        "postalCode": "200001",
        "country": "CN",
    }
    acme = await create(admin, name="Acme", address=full)
    assert acme["address"] == full

    moved = await update(admin, acme, address={"city": "Suzhou", "postalCode": None})
    assert moved["address"] == {**full, "city": "Suzhou", "postalCode": None}
    same = await update(admin, moved, address={})
    assert same["address"] == moved["address"]
    assert same["version"] == moved["version"]  # nothing changed, no new version
    cleared = await update(admin, same, address=None)
    assert cleared["address"] == dict.fromkeys(full)
    refused = await admin.gql(
        UPDATE,
        {
            "input": {
                "id": acme["id"],
                "version": cleared["version"],
                "address": {"country": "Narnia", "city": "Hangzhou"},
            }
        },
    )
    payload = refused["data"]["updateCustomer"]
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [("address.country", "INVALID")]
    assert (await get(admin, acme["id"]))["address"] == dict.fromkeys(full)
