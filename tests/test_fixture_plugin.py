"""The fixture plugin end to end: its table, types, mutation, listener and loaders."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select

from core.config import Settings
from core.db import Database
from tests.fixture_plugin import hooks as fixture_hooks
from tests.fixture_plugin import models
from tests.support import Api, StatementCounter

CREATE = """
mutation Create($name: String!, $fail: Boolean! = false) {
  createWidget(input: {name: $name, failListener: $fail}) {
    widget { id name notes { body } }
    errors { field message code }
  }
}
"""


async def create(api: Api, name: str) -> dict[str, Any]:
    body = await api.gql(CREATE, {"name": name})
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["createWidget"]
    assert payload["errors"] == []
    return payload["widget"]  # type: ignore[no-any-return]


async def count_rows(db: Database, model: type[Any]) -> int:
    async with db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_create_widget_runs_listener_in_same_transaction(api: Api) -> None:
    widget = await create(api, "  Sprocket ")

    assert widget["name"] == "Sprocket"
    assert widget["notes"] == [{"body": fixture_hooks.LISTENER_NOTE}]


async def test_failure_after_listener_rolls_back_everything(api: Api) -> None:
    body = await api.client.post(
        "/graphql", json={"query": CREATE, "variables": {"name": "Doomed", "fail": True}}
    )

    assert body.json()["errors"][0]["message"] == "Internal error"
    assert await count_rows(api.db, models.Widget) == 0
    assert await count_rows(api.db, models.WidgetNote) == 0


async def test_invalid_name_is_a_user_error_naming_the_field(api: Api) -> None:
    for name, code in (("   ", "REQUIRED"), ("x" * 101, "TOO_LONG")):
        body = await api.gql(CREATE, {"name": name})
        payload = body["data"]["createWidget"]
        assert payload["widget"] is None
        assert payload["errors"] == [
            {"field": "name", "message": payload["errors"][0]["message"], "code": code}
        ]
    assert await count_rows(api.db, models.Widget) == 0


async def test_node_and_nodes_resolve_widgets_and_null_for_unknown(api: Api) -> None:
    first = await create(api, "Alpha")
    second = await create(api, "Beta")

    body = await api.gql(
        """query($a: ID!, $ids: [ID!]!) {
          node(id: $a) { id ... on Widget { name } }
          nodes(ids: $ids) { ... on Widget { name } }
        }""",
        {"a": first["id"], "ids": [second["id"], "V2lkZ2V0Ojk5OTk=", first["id"]]},
    )

    assert body["data"]["node"] == {"id": first["id"], "name": "Alpha"}
    assert body["data"]["nodes"] == [{"name": "Beta"}, None, {"name": "Alpha"}]


async def test_field_on_core_type(api: Api) -> None:
    await create(api, "One")
    await create(api, "Two")

    body = await api.gql("{ system { widgetCount modules { name } } }")

    assert body["data"]["system"]["widgetCount"] == 2
    assert [m["name"] for m in body["data"]["system"]["modules"]] == ["core", "fixture"]


async def test_keyset_pagination_forwards_and_backwards(api: Api) -> None:
    names = [f"W{n:02d}" for n in range(7)]
    for name in reversed(names):
        await create(api, name)
    page_query = """query($first: Int, $after: String, $last: Int, $before: String) {
      widgets(first: $first, after: $after, last: $last, before: $before) {
        totalCount
        edges { cursor node { name } }
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      }
    }"""

    seen: list[str] = []
    after = None
    while True:
        body = await api.gql(page_query, {"first": 3, "after": after})
        connection = body["data"]["widgets"]
        assert connection["totalCount"] == 7
        seen += [edge["node"]["name"] for edge in connection["edges"]]
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]
    assert seen == names

    # ``after`` is now the end cursor of the second page (W05).
    body = await api.gql(page_query, {"last": 2, "before": after})
    backwards = body["data"]["widgets"]
    assert [edge["node"]["name"] for edge in backwards["edges"]] == ["W03", "W04"]
    assert backwards["pageInfo"]["hasPreviousPage"] is True


async def test_page_size_and_cursor_are_checked(api: Api) -> None:
    for variables, argument in (
        ({"first": 101}, "first"),
        ({"first": -1}, "first"),
        ({"first": 1, "after": "not-a-cursor"}, "after"),
        ({"first": 1, "last": 1}, "last"),
    ):
        body = await api.gql(
            "query($first: Int, $after: String, $last: Int) {"
            " widgets(first: $first, after: $after, last: $last) { edges { cursor } } }",
            variables,
        )
        error = body["errors"][0]
        assert error["extensions"]["code"] == "BAD_USER_INPUT", error
        assert error["extensions"]["argument"] == argument
        assert error["message"].startswith(argument + ":")


async def test_nested_query_statement_count_is_flat(
    api: Api, count_statements: Callable[[Database], StatementCounter]
) -> None:
    for n in range(30):
        await create(api, f"Widget {n:02d}")
    counter = count_statements(api.db)
    query = "query($n: Int!) { widgets(first: $n) { edges { node { name notes { body } } } } }"

    counts = []
    for n in (3, 30):
        counter.reset()
        body = await api.gql(query, {"n": n})
        assert len(body["data"]["widgets"]["edges"]) == n
        counts.append(counter.count)

    assert counts[0] == counts[1], counter.statements


async def test_plugin_disabled_leaves_no_trace(
    make_settings: Callable[..., Settings], api_factory: Callable[..., Any]
) -> None:
    async with api_factory(make_settings(plugins=())) as api:
        body = await api.gql(
            '{ __type(name: "Widget") { name } system { modules { name } } '
            "__schema { types { name } } }"
        )
        assert body["data"]["__type"] is None
        assert body["data"]["system"]["modules"] == [{"name": "core"}]
        names = {t["name"] for t in body["data"]["__schema"]["types"]}
        assert not {n for n in names if "Widget" in n}
        fields = await api.gql('{ __type(name: "System") { fields { name } } }')
        assert "widgetCount" not in {f["name"] for f in fields["data"]["__type"]["fields"]}
