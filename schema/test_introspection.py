"""Introspection: signed-in callers only, unless ``CRM_INTROSPECTION`` (by default on with
GraphiQL) lets anonymous callers in too."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from core.config import ConfigError, Settings, load_settings
from tests.support import Api

SCHEMA = "{ __schema { types { name } } }"
TYPE = '{ __type(name: "User") { name } }'
IN_FRAGMENT = "{ ...F } fragment F on Query { __schema { queryType { name } } }"
GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"


def refused(body: dict[str, Any], field: str) -> bool:
    assert "data" not in body, body
    [error] = body["errors"]
    assert error["extensions"]["code"] == "UNAUTHENTICATED", error
    assert error["message"] == (
        f"introspection is not available to anonymous callers: sign in to query '{field}'"
    )
    return True


async def test_anonymous_introspection_is_refused_by_default(api: Api) -> None:
    assert refused(await api.gql(SCHEMA), "__schema")
    assert refused(await api.gql(TYPE), "__type")
    assert refused(await api.gql(IN_FRAGMENT), "__schema")
    # A request error: 400 for a client that speaks the GraphQL media type.
    response = await api.client.post(
        "/graphql", json={"query": SCHEMA}, headers={"Accept": GRAPHQL_RESPONSE_JSON}
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_typename_needs_no_introspection(api: Api) -> None:
    assert await api.gql("{ __typename }") == {"data": {"__typename": "Query"}}


async def test_a_signed_in_caller_may_introspect(admin: Api) -> None:
    body = await admin.gql(SCHEMA)
    assert "errors" not in body, body
    assert {"name": "User"} in body["data"]["__schema"]["types"]
    assert (await admin.gql(TYPE)) == {"data": {"__type": {"name": "User"}}}


async def test_a_bad_token_counts_as_anonymous(api: Api) -> None:
    assert refused(await api.with_token("not-a-token").gql(SCHEMA), "__schema")


@pytest.mark.parametrize(
    ("overrides", "allowed"),
    [
        ({"introspection": True}, True),
        ({"graphiql": True}, True),  # the default follows GraphiQL
        ({"debug": True}, True),
        ({"graphiql": True, "introspection": False}, False),
    ],
)
async def test_the_setting_decides_for_anonymous_callers(
    make_settings: Callable[..., Settings],
    api_factory: Callable[..., Any],
    overrides: dict[str, bool],
    allowed: bool,
) -> None:
    async with api_factory(make_settings(**overrides)) as api:
        body = await api.gql(SCHEMA)
    if allowed:
        assert "errors" not in body, body
        assert {"name": "Query"} in body["data"]["__schema"]["types"]
    else:
        assert refused(body, "__schema")


def test_a_bad_introspection_setting_is_refused_by_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRM_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CRM_INTROSPECTION", "perhaps")

    with pytest.raises(ConfigError, match="CRM_INTROSPECTION='perhaps'"):
        load_settings()
