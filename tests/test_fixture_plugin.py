"""The fixture plugin end to end: its table, types, mutation, listener and loaders, and the
permissions, role grants and access policy that decide who sees which widgets."""

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


async def test_create_widget_runs_listener_in_same_transaction(admin: Api) -> None:
    widget = await create(admin, "  Sprocket ")

    assert widget["name"] == "Sprocket"
    assert widget["notes"] == [{"body": fixture_hooks.LISTENER_NOTE}]


async def test_failure_after_listener_rolls_back_everything(admin: Api) -> None:
    body = await admin.client.post(
        "/graphql",
        json={"query": CREATE, "variables": {"name": "Doomed", "fail": True}},
        headers=admin.headers,
    )

    assert body.json()["errors"][0]["message"] == "Internal error"
    assert await count_rows(admin.db, models.Widget) == 0
    assert await count_rows(admin.db, models.WidgetNote) == 0


async def test_invalid_name_is_a_user_error_naming_the_field(admin: Api) -> None:
    for name, code in (("   ", "REQUIRED"), ("x" * 101, "TOO_LONG")):
        body = await admin.gql(CREATE, {"name": name})
        payload = body["data"]["createWidget"]
        assert payload["widget"] is None
        assert payload["errors"] == [
            {"field": "name", "message": payload["errors"][0]["message"], "code": code}
        ]
    assert await count_rows(admin.db, models.Widget) == 0


async def test_node_and_nodes_resolve_widgets_and_null_for_unknown(admin: Api) -> None:
    first = await create(admin, "Alpha")
    second = await create(admin, "Beta")

    body = await admin.gql(
        """query($a: ID!, $ids: [ID!]!) {
          node(id: $a) { id ... on Widget { name } }
          nodes(ids: $ids) { ... on Widget { name } }
        }""",
        {"a": first["id"], "ids": [second["id"], "V2lkZ2V0Ojk5OTk=", first["id"]]},
    )

    assert body["data"]["node"] == {"id": first["id"], "name": "Alpha"}
    assert body["data"]["nodes"] == [{"name": "Beta"}, None, {"name": "Alpha"}]


async def test_field_on_core_type(api: Api, admin: Api) -> None:
    await create(admin, "One")
    await create(admin, "Two")

    body = await admin.gql("{ system { widgetCount modules { name } } }")
    anonymous = await api.gql("{ system { widgetCount } }")

    assert body["data"]["system"]["widgetCount"] == 2
    assert [m["name"] for m in body["data"]["system"]["modules"]] == ["core", "fixture"]
    # The count goes through the same scoping as the list: no caller, no widgets.
    assert anonymous == {"data": {"system": {"widgetCount": 0}}}


async def test_keyset_pagination_forwards_and_backwards(admin: Api) -> None:
    names = [f"W{n:02d}" for n in range(7)]
    for name in reversed(names):
        await create(admin, name)
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
        body = await admin.gql(page_query, {"first": 3, "after": after})
        connection = body["data"]["widgets"]
        assert connection["totalCount"] == 7
        seen += [edge["node"]["name"] for edge in connection["edges"]]
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]
    assert seen == names

    # ``after`` is now the end cursor of the second page (W05).
    body = await admin.gql(page_query, {"last": 2, "before": after})
    backwards = body["data"]["widgets"]
    assert [edge["node"]["name"] for edge in backwards["edges"]] == ["W03", "W04"]
    assert backwards["pageInfo"]["hasPreviousPage"] is True


async def test_page_size_and_cursor_are_checked(admin: Api) -> None:
    for variables, argument in (
        ({"first": 101}, "first"),
        ({"first": -1}, "first"),
        ({"first": 1, "after": "not-a-cursor"}, "after"),
        ({"first": 1, "last": 1}, "last"),
    ):
        body = await admin.gql(
            "query($first: Int, $after: String, $last: Int) {"
            " widgets(first: $first, after: $after, last: $last) { edges { cursor } } }",
            variables,
        )
        error = body["errors"][0]
        assert error["extensions"]["code"] == "BAD_USER_INPUT", error
        assert error["extensions"]["argument"] == argument
        assert error["message"].startswith(argument + ":")


async def test_nested_query_statement_count_is_flat(
    admin: Api, count_statements: Callable[[Database], StatementCounter]
) -> None:
    for n in range(30):
        await create(admin, f"Widget {n:02d}")
    counter = count_statements(admin.db)
    query = (
        "query($n: Int!) { widgets(first: $n) { edges { node {"
        " name notes { body } owner { email team { name } widgets { name } } } } } }"
    )

    counts = []
    for n in (3, 30):
        counter.reset()
        body = await admin.gql(query, {"n": n})
        assert len(body["data"]["widgets"]["edges"]) == n
        counts.append(counter.count)

    assert counts[0] == counts[1], counter.statements


async def test_plugin_disabled_leaves_no_trace(
    make_settings: Callable[..., Settings], api_factory: Callable[..., Any]
) -> None:
    async with api_factory(make_settings(plugins=(), introspection=True)) as api:
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


# --- permissions, grants and the access policy ---------------------------------------------

WIDGETS = "{ widgets { totalCount edges { node { name owner { email } } } } }"


def names_of(body: dict[str, Any]) -> list[str]:
    assert "errors" not in body, body
    return [edge["node"]["name"] for edge in body["data"]["widgets"]["edges"]]


def error_of(body: dict[str, Any]) -> tuple[str, str]:
    [error] = body["errors"]
    return error["extensions"]["code"], error["message"]


async def test_widgets_need_a_signed_in_caller(api: Api) -> None:
    listed = await api.gql(WIDGETS)
    created = await api.gql(CREATE, {"name": "Anonymous"})
    bad_token = await api.with_token("not-a-token").gql(WIDGETS)

    assert listed["data"] == {"widgets": None}
    assert error_of(listed)[0] == "UNAUTHENTICATED"
    assert "Authorization: Bearer" in error_of(listed)[1]
    assert created["data"] == {"createWidget": None}
    assert error_of(created)[0] == "UNAUTHENTICATED"
    assert error_of(bad_token) == ("UNAUTHENTICATED", "the access token is not valid")
    assert await count_rows(api.db, models.Widget) == 0


async def test_widgets_need_the_permission_the_field_names(api: Api) -> None:
    finance = await api.user("finance@example.com", ["FINANCE"])
    manager = await api.user("manager@example.com", ["CUSTOMER_MANAGER"])

    cannot_read = await finance.gql(WIDGETS)
    cannot_write = await manager.gql(CREATE, {"name": "Not mine to make"})
    can_read = await manager.gql(WIDGETS)

    assert error_of(cannot_read) == ("FORBIDDEN", "permission 'widgets:read' is required")
    assert error_of(cannot_write) == ("FORBIDDEN", "permission 'widgets:write' is required")
    assert cannot_read["errors"][0]["extensions"]["permission"] == "widgets:read"
    assert names_of(can_read) == []
    assert await count_rows(api.db, models.Widget) == 0


async def test_widgets_are_scoped_by_their_owner(api: Api) -> None:
    # Given three sales representatives (OWN), two of them in team North, each with a widget
    ana = await api.user("ana@example.com", ["SALES_REPRESENTATIVE"], team="North")
    ben = await api.user("ben@example.com", ["SALES_REPRESENTATIVE"], team="North")
    cat = await api.user("cat@example.com", ["SALES_REPRESENTATIVE"], team="South")
    widgets = {
        "Ana's": await create(ana, "Ana's"),
        "Ben's": await create(ben, "Ben's"),
        "Cat's": await create(cat, "Cat's"),
    }
    manager = await api.user("manager@example.com", ["CUSTOMER_MANAGER"], team="North")
    support = await api.user("support@example.com", ["SUPPORT_REPRESENTATIVE"])

    # Then OWN reaches one's own, TEAM the team's, ALL (and the administrator) every widget
    assert names_of(await ana.gql(WIDGETS)) == ["Ana's"]
    assert names_of(await cat.gql(WIDGETS)) == ["Cat's"]
    assert names_of(await manager.gql(WIDGETS)) == ["Ana's", "Ben's"]
    assert names_of(await support.gql(WIDGETS)) == ["Ana's", "Ben's", "Cat's"]
    admin = await api.user("admin@example.com", ["ADMINISTRATOR"])
    assert names_of(await admin.gql(WIDGETS)) == ["Ana's", "Ben's", "Cat's"]
    counts = [
        (await caller.gql("{ system { widgetCount } }"))["data"]["system"]["widgetCount"]
        for caller in (ana, manager, support)
    ]
    assert counts == [1, 2, 3]

    # And node(id:) hides what the list hides
    body = await ana.gql(
        "query($ids: [ID!]!) { nodes(ids: $ids) { ... on Widget { name } } }",
        {"ids": [widgets["Ana's"]["id"], widgets["Ben's"]["id"], widgets["Cat's"]["id"]]},
    )
    assert body["data"]["nodes"] == [{"name": "Ana's"}, None, None]


async def test_nested_fields_filter_like_their_root_lists(api: Api) -> None:
    ana = await api.user("ana@example.com", ["SALES_REPRESENTATIVE"], team="North")
    ben = await api.user("ben@example.com", ["SALES_REPRESENTATIVE"], team="North")
    await create(ana, "Ana's")
    await create(ben, "Ben's")
    support = await api.user("support@example.com", ["SUPPORT_REPRESENTATIVE"])

    # Ana reads users of her team (users:read TEAM) but only her own widgets (OWN)
    team = await ana.gql(
        "{ users(orderBy: {field: EMAIL}) { edges { node { email widgets { name } } } } }"
    )
    assert "errors" not in team, team
    assert [edge["node"] for edge in team["data"]["users"]["edges"]] == [
        {"email": "ana@example.com", "widgets": [{"name": "Ana's"}]},
        {"email": "ben@example.com", "widgets": []},
    ]

    # Support reads every widget, but users only of its own team (it has none): owners hidden
    owners = await support.gql(WIDGETS)
    assert "errors" not in owners, owners
    assert [edge["node"] for edge in owners["data"]["widgets"]["edges"]] == [
        {"name": "Ana's", "owner": None},
        {"name": "Ben's", "owner": None},
    ]
    mine = await ana.gql(WIDGETS)
    assert [edge["node"]["owner"] for edge in mine["data"]["widgets"]["edges"]] == [
        {"email": "ana@example.com"}
    ]
