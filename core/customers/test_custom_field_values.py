"""Typed custom field values beside the JSON: ``Customer.customFieldValues`` (one entry
per definition, typed) and ``customFieldValues`` in the create and update inputs, which go
through the checks of ``customFields`` and name the entry and member they refuse.
"""

from __future__ import annotations

import decimal
from collections.abc import Callable
from typing import Any

from sqlalchemy import update

from core.customers import models
from core.customers.test_query_count import load_customers, queries
from tests.support import Api, StatementCounter

DEFINE = """
mutation($input: DefineCustomFieldInput!) {
  defineCustomField(input: $input) { definition { id key } errors { field message code } }
}"""
VALUES = """
fragment Values on Customer {
  id version customFields
  customFieldValues {
    definition { id key label required } key type hasValue
    text number date boolean choice
  }
}
"""
CREATE = (
    VALUES
    + """
mutation($input: CreateCustomerInput!) {
  createCustomer(input: $input) { customer { ...Values } errors { field message code } }
}"""
)
UPDATE = (
    VALUES
    + """
mutation($input: UpdateCustomerInput!) {
  updateCustomer(input: $input) { customer { ...Values } errors { field message code } }
}"""
)
GET = VALUES + "query($id: ID!) { customer(id: $id) { ...Values } }"
PAGE = """
query($first: Int!) {
  customers(first: $first) {
    edges { node { customFields customFieldValues { key hasValue number definition { id } } } }
  }
}"""

DEFINITIONS: list[dict[str, Any]] = [
    {"key": "notes_text", "label": "Notes", "type": "TEXT"},
    {"key": "employees", "label": "Employees", "type": "NUMBER"},
    {"key": "founded", "label": "Founded", "type": "DATE"},
    {"key": "reseller", "label": "Reseller", "type": "BOOLEAN"},
    {"key": "segment", "label": "Segment", "type": "SELECT", "options": ["SMB", "Enterprise"]},
    {"entity": "CONTACT", "key": "linkedin", "label": "LinkedIn", "type": "TEXT"},
]
MEMBERS = ("text", "number", "date", "boolean", "choice")


async def define(api: Api, **definition: Any) -> None:
    body = await api.gql(DEFINE, {"input": definition})
    assert body["data"]["defineCustomField"]["errors"] == [], body


async def define_all(api: Api) -> None:
    for definition in DEFINITIONS:
        await define(api, **definition)


def payload(body: dict[str, Any], name: str) -> dict[str, Any]:
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"][name]
    return result


def saved(body: dict[str, Any], name: str) -> dict[str, Any]:
    result = payload(body, name)
    assert result["errors"] == [], result
    customer: dict[str, Any] = result["customer"]
    return customer


def refusals(body: dict[str, Any], name: str) -> dict[str | None, tuple[str, str]]:
    result = payload(body, name)
    assert result["customer"] is None, result
    return {e["field"]: (e["code"], e["message"]) for e in result["errors"]}


def by_key(customer: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {value["key"]: value for value in customer["customFieldValues"]}


def set_members(value: dict[str, Any]) -> dict[str, Any]:
    return {member: value[member] for member in MEMBERS if value[member] is not None}


async def test_typed_values_match_the_json_for_every_type(admin: Api) -> None:
    await define_all(admin)
    customer = saved(
        await admin.gql(
            CREATE,
            {
                "input": {
                    "name": "Acme",
                    "customFields": {
                        "notes_text": "  Key account ",
                        "employees": "1234.50",
                        "founded": "1999-04-01",
                        "reseller": False,
                        "segment": "SMB",
                    },
                }
            },
        ),
        "createCustomer",
    )
    assert customer["customFields"] == {
        "notes_text": "Key account",
        "employees": 1234.5,
        "founded": "1999-04-01",
        "reseller": False,
        "segment": "SMB",
    }
    # One entry per CUSTOMER definition, in the order customFieldDefinitions lists them.
    values = customer["customFieldValues"]
    assert [v["key"] for v in values] == [
        "employees",
        "founded",
        "notes_text",
        "reseller",
        "segment",
    ]
    assert {v["key"]: (v["type"], set_members(v)) for v in values} == {
        "notes_text": ("TEXT", {"text": "Key account"}),
        "employees": ("NUMBER", {"number": "1234.5"}),
        "founded": ("DATE", {"date": "1999-04-01"}),
        "reseller": ("BOOLEAN", {"boolean": False}),
        "segment": ("SELECT", {"choice": "SMB"}),
    }
    for value in values:
        assert value["hasValue"] is True
        assert value["definition"]["key"] == value["key"]
        (member,) = set_members(value).values()
        stored = customer["customFields"][value["key"]]
        if value["type"] == "NUMBER":
            assert decimal.Decimal(member) == decimal.Decimal(str(stored))
        else:
            assert member == stored
    # A whole number is written without a fraction, a large one without an exponent.
    customer = saved(
        await admin.gql(
            UPDATE,
            {
                "input": {
                    "id": customer["id"],
                    "version": customer["version"],
                    "customFields": {"employees": 9007199254740991},
                }
            },
        ),
        "updateCustomer",
    )
    assert by_key(customer)["employees"]["number"] == "9007199254740991"
    assert customer["customFields"]["employees"] == 9007199254740991


async def test_a_definition_without_a_value_and_a_value_without_a_definition(
    admin: Api,
) -> None:
    await define(admin, key="employees", label="Employees", type="NUMBER")
    await define(admin, entity="CONTACT", key="linkedin", label="LinkedIn", type="TEXT")
    customer = saved(
        await admin.gql(CREATE, {"input": {"name": "Acme", "customFields": {"employees": 7}}}),
        "createCustomer",
    )
    # A stored value whose definition is gone (or of another type) stays in the JSON only.
    async with admin.db.transaction() as session:
        await session.execute(
            update(models.Customer).values(
                custom_fields={"employees": "many", "retired_key": "kept"}
            )
        )
    # A definition added later appears for every customer, without a value.
    await define(admin, key="segment", label="Segment", type="SELECT", options=["SMB"])
    body = await admin.gql(GET, {"id": customer["id"]})
    assert "errors" not in body, body
    read = body["data"]["customer"]
    assert read["customFields"] == {"employees": "many", "retired_key": "kept"}
    assert [(v["key"], v["hasValue"], set_members(v)) for v in read["customFieldValues"]] == [
        ("employees", False, {}),
        ("segment", False, {}),
    ]
    assert by_key(read)["segment"]["definition"]["label"] == "Segment"


async def test_typed_input_sets_and_removes_values_like_the_json(admin: Api) -> None:
    await define_all(admin)
    entries = [
        {"key": "notes_text", "text": " Key account "},
        {"key": "employees", "number": "250"},
        {"key": "founded", "date": "1999-04-01"},
        {"key": "reseller", "boolean": True},
        {"key": "segment", "choice": "Enterprise"},
    ]
    typed = saved(
        await admin.gql(CREATE, {"input": {"name": "Typed", "customFieldValues": entries}}),
        "createCustomer",
    )
    as_json = saved(
        await admin.gql(
            CREATE,
            {
                "input": {
                    "name": "Json",
                    "customFields": {
                        "notes_text": " Key account ",
                        "employees": 250,
                        "founded": "1999-04-01",
                        "reseller": True,
                        "segment": "Enterprise",
                    },
                }
            },
        ),
        "createCustomer",
    )
    assert typed["customFields"] == as_json["customFields"]
    assert typed["customFields"]["employees"] == 250
    assert typed["customFieldValues"] == as_json["customFieldValues"]

    # Entries given replace their values, an entry without a member removes one, and the
    # others stay; a JSON number is read as a Decimal too.
    changed = saved(
        await admin.gql(
            UPDATE,
            {
                "input": {
                    "id": typed["id"],
                    "version": typed["version"],
                    "customFieldValues": [
                        {"key": "employees", "number": 12.25},
                        {"key": "segment"},
                        {"key": "notes_text", "text": "   "},
                    ],
                }
            },
        ),
        "updateCustomer",
    )
    assert changed["customFields"] == {
        "employees": 12.25,
        "founded": "1999-04-01",
        "reseller": True,
    }
    assert by_key(changed)["employees"]["number"] == "12.25"
    assert by_key(changed)["segment"]["hasValue"] is False


async def test_typed_input_refusals_name_the_entry_and_member(admin: Api) -> None:
    await define_all(admin)
    await define(admin, key="account_code", label="Account code", type="TEXT", required=True)
    body = await admin.gql(
        CREATE,
        {
            "input": {
                "name": "Acme",
                "customFieldValues": [
                    {"key": "employees", "number": "9007199254740992"},
                    {"key": "segment", "choice": "Huge"},
                    {"key": "founded", "text": "1999-04-01"},
                    {"key": "reseller", "boolean": True, "text": "yes"},
                    {"key": "linkedin", "text": "a contact's field"},
                    {"key": "employees", "number": "1"},
                    {"key": "notes_text", "text": "x" * 1001},
                ],
            }
        },
    )
    assert refusals(body, "createCustomer") == {
        "customFieldValues.0.number": (
            "INVALID",
            "must be between -9007199254740991 and 9007199254740991",
        ),
        "customFieldValues.1.choice": ("INVALID", "must be one of: SMB, Enterprise"),
        "customFieldValues.2.text": (
            "INVALID",
            "founded is a DATE field: give its value as date",
        ),
        "customFieldValues.3": ("INVALID", "give one value member, not 2 (text, boolean)"),
        "customFieldValues.4.key": (
            "INVALID",
            "is not a custom field (account_code, employees, founded, notes_text, reseller, "
            "segment)",
        ),
        "customFieldValues.5.key": ("DUPLICATE", "employees is given twice"),
        "customFieldValues.6.text": ("INVALID", "must be at most 1000 characters"),
        "customFieldValues.account_code": ("REQUIRED", "Account code is required"),
    }

    # A required field removed by its entry is named by that entry.
    body = await admin.gql(
        CREATE,
        {"input": {"name": "Acme", "customFieldValues": [{"key": "account_code", "text": ""}]}},
    )
    assert refusals(body, "createCustomer") == {
        "customFieldValues.0.text": ("REQUIRED", "Account code is required")
    }

    # Both forms at once are refused.
    body = await admin.gql(
        CREATE,
        {
            "input": {
                "name": "Acme",
                "customFields": {"account_code": "A1"},
                "customFieldValues": [{"key": "account_code", "text": "A1"}],
            }
        },
    )
    assert refusals(body, "createCustomer") == {
        "customFieldValues": ("INVALID", "give customFields or customFieldValues, not both")
    }

    # Nothing was created by any of the refused requests.
    body = await admin.gql("{ customers(first: 1) { totalCount } }")
    assert body["data"]["customers"]["totalCount"] == 0


async def test_a_malformed_decimal_or_date_is_bad_input(admin: Api) -> None:
    await define_all(admin)
    for entry, argument_text in [
        ({"key": "employees", "number": "1e3"}, "not a decimal number"),
        ({"key": "employees", "number": "1,5"}, "not a decimal number"),
        ({"key": "founded", "date": "19990401"}, "not a date"),
        ({"key": "founded", "date": "1999-02-30"}, "not a date of the calendar"),
    ]:
        body = await admin.gql(CREATE, {"input": {"name": "Acme", "customFieldValues": [entry]}})
        assert body.get("errors"), body
        # Refused while reading the variables (as every scalar's parser refuses), naming
        # the member.
        assert body.get("data") is None, body
        error = body["errors"][0]
        assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED", body
        assert "customFieldValues[0]." in error["message"], body
        assert argument_text in error["message"], body


async def test_a_page_of_customers_reads_the_definitions_once(
    admin: Api, count_statements: Callable[..., StatementCounter]
) -> None:
    await define_all(admin)
    await load_customers(admin)
    async with admin.db.transaction() as session:
        await session.execute(update(models.Customer).values(custom_fields={"employees": 3}))
    counter = count_statements(admin.db)
    counts = []
    for first in (5, 100):
        counter.reset()
        body = await admin.gql(PAGE, {"first": first})
        assert "errors" not in body, body
        edges = body["data"]["customers"]["edges"]
        assert len(edges) == first
        for edge in edges:
            values = edge["node"]["customFieldValues"]
            assert [v["key"] for v in values] == [
                "employees",
                "founded",
                "notes_text",
                "reseller",
                "segment",
            ]
            assert values[0] | {"definition": None} == {
                "key": "employees",
                "hasValue": True,
                "number": "3",
                "definition": None,
            }
        counts.append(counter.count)
        definition_reads = [s for s in queries(counter) if "custom_field_definitions" in s.lower()]
        assert len(definition_reads) == 1, counter.statements
    assert counts[0] == counts[1], counter.statements
