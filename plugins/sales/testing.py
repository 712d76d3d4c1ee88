"""Helpers the sales plugin's tests share: global ids, GraphQL calls, customers to sell to.

The fixtures (``settings`` with the plugin enabled, ``clock``, ``api``, ``admin``) are in
``conftest.py`` beside this module.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from strawberry import relay

from schema.testkit import Api

MONDAY = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)
"""Where the clock starts: a Monday morning."""

ERRORS = "errors { field message code }"


def gid(type_name: str, value: int | None) -> str:
    assert value is not None
    return relay.to_base64(type_name, value)


def db_id(global_id: str) -> int:
    return int(relay.from_base64(global_id)[1])


def data(body: dict[str, Any]) -> dict[str, Any]:
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]
    return result


def error_code(body: dict[str, Any]) -> str:
    """The ``extensions.code`` of a request that failed as a whole."""
    assert body.get("errors"), body
    code: str = body["errors"][0]["extensions"]["code"]
    return code


async def mutate(
    api: Api, name: str, input: dict[str, Any], selection: str, fragments: str = ""
) -> dict[str, Any]:
    """The payload of mutation ``name`` (``selection`` picks its object field and more)."""
    input_type = name[0].upper() + name[1:] + "Input"
    query = (
        fragments
        + f"""
mutation($input: {input_type}!) {{
  {name}(input: $input) {{ {selection} {ERRORS} }}
}}"""
    )
    payload: dict[str, Any] = data(await api.gql(query, {"input": input}))[name]
    return payload


async def mutate_ok(
    api: Api, name: str, input: dict[str, Any], selection: str, fragments: str = ""
) -> dict[str, Any]:
    """The payload of a mutation that must succeed (no errors)."""
    payload = await mutate(api, name, input, selection, fragments)
    assert payload["errors"] == [], payload
    return payload


async def mutate_refused(
    api: Api, name: str, input: dict[str, Any], selection: str, fragments: str = ""
) -> list[dict[str, Any]]:
    """The errors of a mutation that must be refused."""
    payload = await mutate(api, name, input, selection, fragments)
    assert payload["errors"], payload
    errors: list[dict[str, Any]] = payload["errors"]
    return errors


async def not_found_argument(api: Api, name: str, input: dict[str, Any], selection: str) -> str:
    """The ``extensions.argument`` of a mutation refused at the top level with NOT_FOUND."""
    input_type = name[0].upper() + name[1:] + "Input"
    body = await api.gql(
        f"mutation($input: {input_type}!) {{ {name}(input: $input) {{ {selection} {ERRORS} }} }}",
        {"input": input},
    )
    assert body["data"] == {name: None}, body
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "NOT_FOUND", body
    argument: str = error["extensions"]["argument"]
    return argument


async def create_customer(api: Api, name: str, owner_id: int | None = None) -> str:
    """A customer's global id (created through the API, owned by ``owner_id`` if given)."""
    input: dict[str, Any] = {"name": name}
    if owner_id is not None:
        input["ownerId"] = gid("User", owner_id)
    payload = await mutate_ok(api, "createCustomer", input, "customer { id }")
    customer_id: str = payload["customer"]["id"]
    return customer_id
