"""GraphQL helpers for plugin tests (part of the test kit): global ids, a request's data or
error code, and mutations that must succeed or be refused, with the error payload every
mutation of this API returns.
"""

from __future__ import annotations

from typing import Any

from strawberry import relay

from schema.testkit import Api

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
