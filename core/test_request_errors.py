"""Hardening against hostile input: every refusal is a coded error naming the
argument or field, never "Internal error", and nothing is stored.

Request errors (parse, validation, variable coercion) carry ``extensions.code``; search texts,
global ids, cursors, date-times and strings are bounded where the database would fail.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from sqlalchemy import func, select
from strawberry import relay

from core import db as db_module
from core.customers import models
from core.node import MAX_ROW_ID, row_id
from core.validation import MAX_SEARCH_LENGTH
from tests.support import Api

CREATE_TASK = """
mutation($input: CreateTaskInput!) {
  createTask(input: $input) { task { id } errors { field message code } }
}"""
CREATE_CUSTOMER = """
mutation($input: CreateCustomerInput!) {
  createCustomer(input: $input) { customer { id } errors { field message code } }
}"""
NODE = "query($id: ID!) { node(id: $id) { id ... on CustomFieldDefinition { key } } }"
NODES = "query($ids: [ID!]!) { nodes(ids: $ids) { id } }"
CUSTOMER = "query($id: ID!) { customer(id: $id) { id } }"
DUE = "2027-01-04T09:00:00Z"
FAR_OFF = "9999-12-31T23:59:59-23:59"  # year 10000 in UTC


async def post(api: Api, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    """POST a body encoded as a client would (lone surrogates as ``\\ud800`` escapes)."""
    response = await api.client.post(
        "/graphql",
        content=json.dumps({"query": query, "variables": variables}),
        headers={**api.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def only_error(body: dict[str, Any]) -> dict[str, Any]:
    errors = body.get("errors") or []
    assert len(errors) == 1, body
    error: dict[str, Any] = errors[0]
    assert error["message"] != "Internal error", body
    return error


async def count(api: Api, model: Any) -> int:
    async with api.db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


def raw_id(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


# --- A: request errors carry a code -------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "variables", "code"),
    [
        pytest.param("{ system { version ", None, "GRAPHQL_PARSE_FAILED", id="syntax"),
        pytest.param("{ system { nope } }", None, "GRAPHQL_VALIDATION_FAILED", id="unknown-field"),
        pytest.param(
            '{ customers(first: "x") { totalCount } }',
            None,
            "GRAPHQL_VALIDATION_FAILED",
            id="literal-type",
        ),
        pytest.param(
            '{ customers(filter: {created: {from: "garbage"}}) { totalCount } }',
            None,
            "GRAPHQL_VALIDATION_FAILED",
            id="bad-datetime-literal",
        ),
        pytest.param(
            "query($n: Int) { customers(first: $n) { totalCount } }",
            {"n": "x"},
            "GRAPHQL_VALIDATION_FAILED",
            id="variable-type",
        ),
        pytest.param(NODE, {"id": ""}, "BAD_USER_INPUT", id="empty-id"),
        pytest.param(NODE, {"id": "not base64!"}, "BAD_USER_INPUT", id="malformed-id"),
        pytest.param('{ node(id: "") { id } }', None, "BAD_USER_INPUT", id="empty-id-literal"),
    ],
)
async def test_request_errors_carry_a_code(
    admin: Api, query: str, variables: dict[str, Any] | None, code: str
) -> None:
    error = only_error(await post(admin, query, variables))
    assert error["extensions"]["code"] == code, error


async def test_integer_literal_past_int_digits_is_a_coded_error(admin: Api) -> None:
    body = await post(admin, "{ customers(first: %s) { totalCount } }" % ("9" * 5000))
    error = only_error(body)
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED", error
    assert "data" not in body


# --- B: inputs that used to end as "Internal error" ----------------------------------------


@pytest.mark.parametrize("list_name", ["customers", "contacts", "users"])
async def test_search_longer_than_the_bound_is_refused(admin: Api, list_name: str) -> None:
    query = f"query($s: String) {{ {list_name}(filter: {{search: $s}}) {{ totalCount }} }}"
    accepted = await post(admin, query, {"s": "x" * MAX_SEARCH_LENGTH})
    assert "errors" not in accepted, accepted
    error = only_error(await post(admin, query, {"s": "x" * 50_000}))
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "argument": "filter.search"}
    assert error["message"] == f"filter.search: must be at most {MAX_SEARCH_LENGTH} characters"


async def test_audit_action_longer_than_the_bound_is_refused(admin: Api) -> None:
    query = "query($a: String) { auditEvents(filter: {action: $a}) { totalCount } }"
    error = only_error(await post(admin, query, {"a": "user." * 20_000}))
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "argument": "filter.action"}


@pytest.mark.parametrize(
    "number",
    # past a 32-bit id column, past bigint, 5,000 digits, ², Arabic-Indic 3
    [str(2**31), str(2**63), "9" * 5000, "\u00b2", "\u0663"],
    ids=["2^31", "2^63", "5000-digits", "superscript-two", "arabic-indic-digit"],
)
async def test_global_id_that_cannot_be_a_row_id(admin: Api, number: str) -> None:
    global_id = raw_id(f"Customer:{number}")
    assert (await post(admin, NODE, {"id": global_id})) == {"data": {"node": None}}
    assert (await post(admin, NODES, {"ids": [global_id]})) == {"data": {"nodes": [None]}}

    error = only_error(await post(admin, CUSTOMER, {"id": global_id}))
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "argument": "id"}

    tasks = await count(admin, models.Task)
    body = await post(
        admin, CREATE_TASK, {"input": {"title": "Call", "dueAt": DUE, "customerId": global_id}}
    )
    assert body["data"]["createTask"] == {
        "task": None,
        "errors": [
            {"field": "customerId", "message": "is not the id of a Customer", "code": "INVALID"}
        ],
    }
    assert await count(admin, models.Task) == tasks


def test_row_id_takes_ascii_digits_up_to_the_id_columns_range() -> None:
    assert row_id(str(MAX_ROW_ID)) == MAX_ROW_ID
    assert row_id("0042") == 42
    assert [row_id(text) for text in (str(MAX_ROW_ID + 1), "1" * 20, "\u00b2", "-1", "")] == [
        None
    ] * 5


async def test_custom_field_definition_is_a_node(admin: Api, api: Api) -> None:
    body = await post(
        admin,
        """mutation($input: DefineCustomFieldInput!) {
          defineCustomField(input: $input) { definition { id } errors { code } }
        }""",
        {"input": {"key": "region_code", "label": "Region", "type": "TEXT"}},
    )
    definition_id = body["data"]["defineCustomField"]["definition"]["id"]
    found = await post(admin, NODE, {"id": definition_id})
    assert found == {"data": {"node": {"id": definition_id, "key": "region_code"}}}
    assert (await post(admin, NODES, {"ids": [definition_id]}))["data"]["nodes"] == [
        {"id": definition_id}
    ]
    missing = relay.to_base64("CustomFieldDefinition", 999_999)
    assert (await post(admin, NODE, {"id": missing})) == {"data": {"node": None}}
    # Unauthenticated callers see nothing, as the root list shows them nothing.
    anonymous = await post(api, NODE, {"id": definition_id})
    assert anonymous.get("data", {}).get("node") is None


def forged(tag: str, *values: Any) -> str:
    raw = json.dumps([tag, *values]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    "values",
    [
        [{"t": "2026-11-23T09:00:00+00:00"}, 2**64],
        [{"t": "2026-11-23T09:00:00+00:00"}, float("nan")],
        [{"t": "2026-11-23T09:00:00+00:00"}, True],
        [{"t": "2026-11-23T09:00:00+00:00"}, {"u": "12345678-1234-5678-1234-567812345678"}],
        [True, 1],
        [{"u": "12345678-1234-5678-1234-567812345678"}, 1],
        [{"t": FAR_OFF}, 1],
        [{"t": "2026-11-23T09:00:00"}, 1],
        [{"n": "abc"}, 1],
    ],
    ids=[
        "2^64",
        "nan",
        "bool-id",
        "uuid-id",
        "bool-time",
        "uuid-time",
        "time-overflow",
        "naive-time",
        "bad-decimal",
    ],
)
async def test_forged_cursor_is_refused(admin: Api, values: list[Any]) -> None:
    query = "query($c: String) { auditEvents(first: 1, after: $c) { edges { cursor } } }"
    page = await post(admin, query)
    cursor = page["data"]["auditEvents"]["edges"][0]["cursor"]
    tag = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))[0]
    assert "errors" not in await post(admin, query, {"c": cursor})  # a real one still works

    error = only_error(await post(admin, query, {"c": forged(tag, *values)}))
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "argument": "after"}
    backwards = query.replace("first: 1, after", "last: 1, before")
    error = only_error(await post(admin, backwards, {"c": forged(tag, *values)}))
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "argument": "before"}


async def test_deeply_nested_cursor_is_refused(admin: Api) -> None:
    nested = base64.urlsafe_b64encode(b"[" * 100_000 + b"]" * 100_000).decode()
    query = "query($c: String) { customers(first: 1, after: $c) { totalCount } }"
    error = only_error(await post(admin, query, {"c": nested}))
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "argument": "after"}


async def test_date_time_without_a_utc_equivalent_is_refused(admin: Api) -> None:
    in_filter = "query($d: DateTime) { customers(filter: {created: {from: $d}}) { totalCount } }"
    error = only_error(await post(admin, in_filter, {"d": FAR_OFF}))
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "out of range once converted to UTC" in error["message"]

    literal = '{ customers(filter: {created: {to: "0001-01-01T00:00:00+05:00"}}) { totalCount } }'
    error = only_error(await post(admin, literal))
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"

    tasks = await count(admin, models.Task)
    body = await post(admin, CREATE_TASK, {"input": {"title": "Call", "dueAt": FAR_OFF}})
    error = only_error(body)
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "dueAt" in error["message"]
    assert "out of range" in error["message"]
    assert await count(admin, models.Task) == tasks


async def test_lone_surrogate_is_refused_naming_the_field(admin: Api) -> None:
    tasks, customers = await count(admin, models.Task), await count(admin, models.Customer)
    body = await post(admin, CREATE_TASK, {"input": {"title": "Call \ud800", "dueAt": DUE}})
    error = only_error(body)
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "variable": "input.title"}
    assert "'input.title'" in error["message"]
    assert "data" not in body

    body = await post(admin, CREATE_CUSTOMER, {"input": {"name": "Acme", "tags": ["ok", "\udfff"]}})
    assert only_error(body)["extensions"]["variable"] == "input.tags.1"

    search = "query($s: String) { customers(filter: {search: $s}) { totalCount } }"
    assert only_error(await post(admin, search, {"s": "\ud83d"}))["extensions"]["variable"] == "s"
    assert (await count(admin, models.Task), await count(admin, models.Customer)) == (
        tasks,
        customers,
    )
    # A paired surrogate is an ordinary character (U+1F600), stored as such.
    body = await post(admin, CREATE_TASK, {"input": {"title": "Call \U0001f600", "dueAt": DUE}})
    assert body["data"]["createTask"]["errors"] == []


async def test_lone_surrogate_in_a_literal_is_a_parse_error(admin: Api) -> None:
    error = only_error(
        await post(admin, '{ customers(filter: {search: "\ud800"}) { totalCount } }')
    )
    assert error["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"


async def test_control_characters_are_refused_in_variables_and_literals(admin: Api) -> None:
    tasks, customers = await count(admin, models.Task), await count(admin, models.Customer)

    body = await post(admin, CREATE_TASK, {"input": {"title": "Call\x00back", "dueAt": DUE}})
    error = only_error(body)
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "variable": "input.title"}
    assert "control character" in error["message"]

    body = await post(admin, CREATE_CUSTOMER, {"input": {"name": "Acme", "tags": ["ok", "\x1b"]}})
    assert only_error(body)["extensions"]["variable"] == "input.tags.1"

    literal = 'mutation { createCustomer(input: {name: "Ac\\u0000me"}) { customer { id } } }'
    error = only_error(await post(admin, literal))
    assert error["extensions"] == {"code": "BAD_USER_INPUT"}
    assert "line 1, column 41" in error["message"]
    # and again when sent again: a document's literals are checked once, a refusal never kept
    assert only_error(await post(admin, literal)) == error
    assert (await count(admin, models.Task), await count(admin, models.Customer)) == (
        tasks,
        customers,
    )

    # Tab, line feed and carriage return are text
    body = await post(admin, CREATE_TASK, {"input": {"title": "Call\tback\r\nsoon", "dueAt": DUE}})
    assert body["data"]["createTask"]["errors"] == []


async def test_a_write_that_gets_no_turn_is_service_busy_and_changes_nothing(
    admin: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    if admin.db.dialect != "sqlite":
        pytest.skip("writers take turns on SQLite only")
    monkeypatch.setattr(db_module, "WRITER_TURN_SECONDS", 0.05)
    async with admin.db.transaction():  # another writer holds the turn meanwhile
        body = await admin.gql(CREATE_CUSTOMER, {"input": {"name": "Busy Ltd"}})
    (error,) = body["errors"]
    assert error["extensions"] == {"code": "SERVICE_BUSY"}, body
    assert "try again" in error["message"]
    assert body["data"] == {"createCustomer": None}
    async with admin.db.read() as session:
        names = await session.scalars(select(models.Customer.name))
        assert "Busy Ltd" not in set(names)
