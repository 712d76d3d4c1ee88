"""The error policy of docs/api.md ("Errors" and "Mutations"), one rule per test.

* Request errors, UNAUTHENTICATED, FORBIDDEN and NOT_FOUND are top-level GraphQL errors with
  ``extensions.code`` (and ``extensions.argument`` where an argument is at fault), for queries
  and mutations alike; a mutation refused so changes nothing.
* A mutation's payload ``errors`` hold expected business outcomes only, with a
  ``UserErrorCode`` that has no FORBIDDEN or NOT_FOUND.
* A stale ``version`` answers CONFLICT with the record as it now is, in every versioned
  mutation, so the client merges and retries without reading it again.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select
from strawberry import relay

from core.catalog import SALES_REPRESENTATIVE
from core.customers import models
from schema.testkit import Api, FakeClock

ERRORS = "errors { field message code }"
CUSTOMER = "customer { id name email version }"


def gid(type_name: str, db_id: int | str) -> str:
    return str(relay.GlobalID(type_name, str(db_id)))


async def run(api: Api, name: str, input: dict[str, Any], selection: str) -> dict[str, Any]:
    """The whole response of mutation ``name`` with ``input``."""
    input_type = name[0].upper() + name[1:] + "Input"
    body: dict[str, Any] = await api.gql(
        f"mutation($input: {input_type}!) {{ {name}(input: $input) {{ {selection} {ERRORS} }} }}",
        {"input": input},
    )
    return body


async def payload(api: Api, name: str, input: dict[str, Any], selection: str) -> dict[str, Any]:
    body = await run(api, name, input, selection)
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"][name]
    return result


async def done(api: Api, name: str, input: dict[str, Any], selection: str) -> dict[str, Any]:
    result = await payload(api, name, input, selection)
    assert result["errors"] == [], result
    return result


def top_level(body: dict[str, Any]) -> dict[str, Any]:
    """The one top-level error of a refused operation: its root field alone is null (the whole
    of ``data`` only when the request never ran, as for a validation error)."""
    (error,) = body["errors"]
    assert body["data"] is None or body["data"] == {error["path"][0]: None}, body
    extensions: dict[str, Any] = error["extensions"]
    return {"message": error["message"], **extensions}


async def customer_count(api: Api) -> int:
    async with api.db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(models.Customer)) or 0)


# --- top level ---------------------------------------------------------------------------------


async def test_a_malformed_id_is_bad_user_input_naming_its_argument(admin: Api) -> None:
    query = "query($id: ID!) { customer(id: $id) { id } }"
    for body in (
        await admin.gql(query, {"id": "nope"}),
        await admin.gql('{ customer(id: "nope") { id } }'),
        await admin.gql("{ customer(id: 12) { id } }"),  # an ID literal may be an integer
    ):
        (error,) = body["errors"]
        assert error["extensions"] == {"code": "BAD_USER_INPUT", "argument": "id"}, body
        assert error["message"].startswith("id: Value cannot represent a GlobalID"), body

    acme = (await done(admin, "createCustomer", {"name": "Acme"}, CUSTOMER))["customer"]
    tagged = await run(
        admin,
        "tagCustomers",
        {"customerIds": [acme["id"], "nope"], "tags": ["x"]},
        "customers { id }",
    )
    error = top_level(tagged)
    assert error["code"] == "BAD_USER_INPUT"
    assert error["argument"] == "input.customerIds.1"
    assert error["message"] == 'input.customerIds.1: Value cannot represent a GlobalID: "nope".'
    literal = await admin.gql(
        'mutation { updateCustomer(input: {id: "nope", version: 1, name: "x"}) '
        "{ errors { code } } }"
    )
    assert top_level(literal)["argument"] == "input.id"

    # The same text in a position that is no ID (a name, a page size) is not blamed.
    named = await admin.gql(
        'mutation { updateCustomer(input: {id: "zz", version: 1, name: "zz"}) { errors { code } } }'
    )
    assert top_level(named)["argument"] == "input.id"
    variables = await run(
        admin,
        "updateCustomer",
        {"id": acme["id"], "version": 1, "name": "zz", "ownerId": "zz"},
        "customer { id }",
    )
    assert top_level(variables)["argument"] == "input.ownerId"
    paged = await admin.gql("{ contacts(first: 5, filter: {customerId: 5}) { totalCount } }")
    (error,) = paged["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "argument": "filter.customerId"}


async def test_a_request_error_has_a_code_and_no_data(admin: Api) -> None:
    invalid = await admin.gql("{ customers { nope } }")
    assert [e["extensions"]["code"] for e in invalid["errors"]] == ["GRAPHQL_VALIDATION_FAILED"]
    assert "data" not in invalid
    broken = await admin.gql("{ customers { ")
    assert [e["extensions"]["code"] for e in broken["errors"]] == ["GRAPHQL_PARSE_FAILED"]
    coerced = await admin.gql(
        "mutation($input: CreateCustomerInput!) "
        "{ createCustomer(input: $input) { errors { code } } }",
        {"input": {"name": 5}},
    )
    assert [e["extensions"]["code"] for e in coerced["errors"]] == ["GRAPHQL_VALIDATION_FAILED"]


async def test_a_mutation_without_a_caller_is_unauthenticated(admin: Api) -> None:
    body = await run(admin.with_token(None), "createCustomer", {"name": "Acme"}, CUSTOMER)
    assert top_level(body)["code"] == "UNAUTHENTICATED"
    assert await customer_count(admin) == 0


async def test_a_missing_permission_is_forbidden_in_queries_and_mutations(admin: Api) -> None:
    rep = await admin.as_role(SALES_REPRESENTATIVE)
    query = await rep.gql("{ auditEvents { edges { node { id } } } }")
    assert query["errors"][0]["extensions"] == {"code": "FORBIDDEN", "permission": "audit:read"}
    define = {"key": "mine", "label": "Mine", "type": "TEXT"}
    body = await run(rep, "defineCustomField", define, "definition { key }")
    assert top_level(body) == {
        "message": "permission 'settings:manage' is required",
        "code": "FORBIDDEN",
        "permission": "settings:manage",
    }


async def test_a_scope_too_narrow_is_forbidden_at_the_top_level(admin: Api) -> None:
    rep = await admin.as_role(SALES_REPRESENTATIVE)
    mine = await done(rep, "createCustomer", {"name": "Acme", "tags": ["vip"]}, CUSTOMER)
    tag = (await admin.gql("{ tags { id name } }"))["data"]["tags"][0]
    renamed = await run(rep, "renameTag", {"id": tag["id"], "name": "VIP!"}, "tag { id }")
    assert top_level(renamed) == {
        "message": "renaming a tag needs customers:write for all customers",
        "code": "FORBIDDEN",
        "permission": "customers:write",
    }
    assert mine["customer"]["name"] == "Acme"
    assert (await admin.gql("{ tags { name } }"))["data"]["tags"] == [{"name": "vip"}]


async def test_an_id_out_of_reach_is_not_found_at_the_top_level_like_a_missing_one(
    admin: Api,
) -> None:
    rep = await admin.as_role(SALES_REPRESENTATIVE)
    other = await admin.as_role(SALES_REPRESENTATIVE)
    theirs = (await done(other, "createCustomer", {"name": "Theirs"}, CUSTOMER))["customer"]
    mine = (await done(rep, "createCustomer", {"name": "Mine"}, CUSTOMER))["customer"]

    # The mutation's target
    for target in (theirs["id"], gid("Customer", 999)):
        body = await run(rep, "updateCustomer", {"id": target, "version": 1, "name": "x"}, CUSTOMER)
        assert top_level(body) == {
            "message": "input.id: no customer with this id that you may change",
            "code": "NOT_FOUND",
            "argument": "input.id",
        }
    # An id inside the input: an owner out of reach, a customer among several
    owner = gid("User", other.user_id or 0)
    body = await run(
        rep, "updateCustomer", {"id": mine["id"], "version": 1, "ownerId": owner}, CUSTOMER
    )
    assert top_level(body)["argument"] == "input.ownerId"
    body = await run(
        rep,
        "tagCustomers",
        {"customerIds": [mine["id"], theirs["id"]], "tags": ["x"]},
        "customers { id }",
    )
    assert top_level(body)["argument"] == "input.customerIds.1"
    # Nothing changed
    assert (await admin.gql("{ tags { name } }"))["data"]["tags"] == []
    node = await admin.gql(
        "query($id: ID!) { node(id: $id) { ... on Customer { name version owner { id } } } }",
        {"id": mine["id"]},
    )
    assert node["data"]["node"] == {
        "name": "Mine",
        "version": 1,
        "owner": {"id": gid("User", rep.user_id or 0)},
    }


async def test_the_payload_codes_are_business_outcomes_only(admin: Api) -> None:
    body = await admin.gql('{ __type(name: "UserErrorCode") { enumValues { name } } }')
    codes = {value["name"] for value in body["data"]["__type"]["enumValues"]}
    assert codes == {
        "INVALID",
        "REQUIRED",
        "TOO_LONG",
        "TOO_SHORT",
        "OUT_OF_RANGE",
        "DUPLICATE",
        "CONFLICT",
        "INVALID_TRANSITION",
        "BUSINESS_RULE",
        "RATE_LIMITED",
    }
    refused = await payload(admin, "createCustomer", {"name": "", "email": "x"}, CUSTOMER)
    assert refused["customer"] is None
    assert {(e["field"], e["code"]) for e in refused["errors"]} == {
        ("name", "REQUIRED"),
        ("email", "INVALID"),
    }


# --- CONFLICT ----------------------------------------------------------------------------------


async def test_a_stale_update_returns_the_customer_as_it_now_is(admin: Api) -> None:
    created = await done(
        admin, "createCustomer", {"name": "Acme", "email": "hi@acme.example"}, CUSTOMER
    )
    acme = created["customer"]
    # Someone else changes the email first.
    theirs = await done(
        admin,
        "updateCustomer",
        {"id": acme["id"], "version": 1, "email": "orders@acme.example"},
        CUSTOMER,
    )
    assert theirs["customer"]["version"] == 2

    stale = await payload(
        admin, "updateCustomer", {"id": acme["id"], "version": 1, "name": "Acme Ltd"}, CUSTOMER
    )
    assert [(e["field"], e["code"]) for e in stale["errors"]] == [("version", "CONFLICT")]
    assert "now at version 2, you had 1" in stale["errors"][0]["message"]
    assert stale["customer"] == {
        "id": acme["id"],
        "name": "Acme",
        "email": "orders@acme.example",
        "version": 2,
    }
    # Merged and sent again with the version the payload gave: accepted.
    retried = await done(
        admin,
        "updateCustomer",
        {"id": acme["id"], "version": stale["customer"]["version"], "name": "Acme Ltd"},
        CUSTOMER,
    )
    assert retried["customer"] == {
        "id": acme["id"],
        "name": "Acme Ltd",
        "email": "orders@acme.example",
        "version": 3,
    }


async def test_every_versioned_core_mutation_answers_a_conflict_with_the_current_record(
    admin: Api, clock: FakeClock
) -> None:
    acme = (await done(admin, "createCustomer", {"name": "Acme"}, CUSTOMER))["customer"]
    await done(
        admin, "updateCustomer", {"id": acme["id"], "version": 1, "name": "Acme 2"}, CUSTOMER
    )
    contact_fields = "contact { id name version }"
    contact = (
        await done(
            admin, "createContact", {"customerId": acme["id"], "name": "Lee"}, contact_fields
        )
    )["contact"]
    await done(
        admin, "updateContact", {"id": contact["id"], "version": 1, "name": "Lee 2"}, contact_fields
    )
    due = (clock() + dt.timedelta(days=3)).isoformat()
    task_fields = "task { id title version }"
    task = (await done(admin, "createTask", {"title": "Call", "dueAt": due}, task_fields))["task"]
    team_fields = "team { id name version }"
    team = (await done(admin, "createTeam", {"name": "North"}, team_fields))["team"]
    await done(
        admin, "updateTeam", {"id": team["id"], "version": 1, "name": "North 2"}, team_fields
    )

    cases: list[tuple[str, dict[str, Any], str, str, dict[str, Any]]] = [
        (
            "updateCustomer",
            {"id": acme["id"], "name": "x"},
            CUSTOMER,
            "customer",
            {"name": "Acme 2"},
        ),
        ("archiveCustomer", {"id": acme["id"]}, CUSTOMER, "customer", {"name": "Acme 2"}),
        (
            "eraseCustomer",
            {"id": acme["id"], "reason": "asked"},
            CUSTOMER,
            "customer",
            {"version": 2},
        ),
        (
            "updateContact",
            {"id": contact["id"], "name": "x"},
            contact_fields,
            "contact",
            {"name": "Lee 2"},
        ),
        ("archiveContact", {"id": contact["id"]}, contact_fields, "contact", {"version": 2}),
        ("setPrimaryContact", {"id": contact["id"]}, contact_fields, "contact", {"version": 2}),
        ("completeTask", {"id": task["id"], "version": 7}, task_fields, "task", {"version": 1}),
        ("updateTeam", {"id": team["id"], "name": "x"}, team_fields, "team", {"name": "North 2"}),
    ]
    for name, input, selection, key, expected in cases:
        stale = await payload(admin, name, {"version": 1} | input, selection)
        assert [(e["field"], e["code"]) for e in stale["errors"]] == [("version", "CONFLICT")], name
        record = stale[key]
        assert record is not None, name
        assert {k: record[k] for k in expected} == expected, (name, record)
    # None of the refused changes happened.
    node = await admin.gql(
        "query($id: ID!) { node(id: $id) { ... on Customer { name version archivedAt } } }",
        {"id": acme["id"]},
    )
    assert node["data"]["node"] == {"name": "Acme 2", "version": 2, "archivedAt": None}


async def test_a_conflict_outside_the_version_returns_no_record(admin: Api) -> None:
    acme = (await done(admin, "createCustomer", {"name": "Acme"}, CUSTOMER))["customer"]
    await done(admin, "archiveCustomer", {"id": acme["id"], "version": 1}, CUSTOMER)
    archived = await payload(
        admin, "updateCustomer", {"id": acme["id"], "version": 2, "name": "x"}, CUSTOMER
    )
    assert [(e["field"], e["code"]) for e in archived["errors"]] == [("id", "CONFLICT")]
    assert archived["customer"] is None


async def test_a_refused_nested_list_nulls_only_itself(admin: Api) -> None:
    await done(admin, "createCustomer", {"name": "Acme"}, CUSTOMER)
    body = await admin.gql(
        "{ customers(first: 5) { totalCount edges { node { name "
        "contacts(first: 500) { totalCount } } } } }"
    )
    (error,) = body["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "argument": "first"}, body
    assert error["path"] == ["customers", "edges", 0, "node", "contacts"]
    (edge,) = body["data"]["customers"]["edges"]
    assert edge["node"] == {"name": "Acme", "contacts": None}
    assert body["data"]["customers"]["totalCount"] == 1
