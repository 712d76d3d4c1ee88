"""Grant scopes (OWN, TEAM, ALL) hide records the same way on every path to them.

A record outside the caller's scope must be missing from the root list, ``null`` through
``node`` and ``nodes``, and absent from every nested field reached from a record the caller
may see. The fixture plugin's widgets belong to users: SALES_REPRESENTATIVE reads its OWN,
CUSTOMER_MANAGER its TEAM's, SUPPORT_REPRESENTATIVE ALL. Users themselves are read under
``users:read``, which most built-in roles hold with TEAM scope.

The organisation of every test: team North with two sales representatives (rep1, rep2), a
customer manager and a support representative; team South with one sales representative
(rep3). Each representative owns widgets.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from strawberry import relay

from core.catalog import (
    CUSTOMER_MANAGER,
    FINANCE,
    SALES_REPRESENTATIVE,
    SUPPORT_REPRESENTATIVE,
)
from core.identity import models
from schema.testkit_tools import make_user
from tests.support import Api

CREATE_WIDGET = """
mutation($name: String!) {
  createWidget(input: {name: $name}) { widget { id name } errors { code } }
}
"""
WIDGETS = "{ widgets { totalCount edges { node { id name } } } }"
NODE = "query($id: ID!) { node(id: $id) { id ... on Widget { name } ... on User { email } } }"
NODES = """
query($ids: [ID!]!) { nodes(ids: $ids) { id ... on Widget { name } ... on User { email } } }
"""
USERS_WITH_WIDGETS = "{ users { edges { node { email widgets { name } } } } }"
TEAM_MEMBERS_WITH_WIDGETS = "{ viewer { team { name members { email widgets { name } } } } }"

NORTH = {
    "rep1@example.com",
    "rep2@example.com",
    "manager@example.com",
    "support@example.com",
}
SOUTH = {"rep3@example.com"}

WIDGETS_OF = {
    "rep1@example.com": ["Anchor", "Bolt"],
    "rep2@example.com": ["Cog"],
    "rep3@example.com": ["Dowel"],
}
ALL_WIDGETS = sorted(name for names in WIDGETS_OF.values() for name in names)


@dataclass
class Org:
    rep1: Api
    rep2: Api
    rep3: Api
    manager: Api
    support: Api
    widget_ids: dict[str, str]  # widget name -> global id
    user_ids: dict[str, str]  # email -> global id


def data(body: dict[str, Any]) -> dict[str, Any]:
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]
    return result


async def build_org(api: Api) -> Org:
    rep1 = await api.user("rep1@example.com", [SALES_REPRESENTATIVE], team="North")
    rep2 = await api.user("rep2@example.com", [SALES_REPRESENTATIVE], team="North")
    rep3 = await api.user("rep3@example.com", [SALES_REPRESENTATIVE], team="South")
    manager = await api.user("manager@example.com", [CUSTOMER_MANAGER], team="North")
    support = await api.user("support@example.com", [SUPPORT_REPRESENTATIVE], team="North")
    widget_ids: dict[str, str] = {}
    for rep in (rep1, rep2, rep3):
        viewer = data(await rep.gql("{ viewer { email } }"))["viewer"]["email"]
        for name in WIDGETS_OF[viewer]:
            payload = data(await rep.gql(CREATE_WIDGET, {"name": name}))["createWidget"]
            assert payload["errors"] == []
            widget_ids[name] = payload["widget"]["id"]
    async with api.db.read() as session:
        rows = (await session.execute(select(models.User.email, models.User.id))).all()
    user_ids = {email: relay.to_base64("User", user_id) for email, user_id in rows}
    return Org(rep1, rep2, rep3, manager, support, widget_ids, user_ids)


async def root_widgets(caller: Api) -> list[str]:
    connection = data(await caller.gql(WIDGETS))["widgets"]
    names = [edge["node"]["name"] for edge in connection["edges"]]
    assert connection["totalCount"] == len(names)
    return names


async def node_name(caller: Api, global_id: str) -> str | None:
    node = data(await caller.gql(NODE, {"id": global_id}))["node"]
    if node is None:
        return None
    assert node["id"] == global_id
    return str(node.get("name") or node.get("email"))


async def nodes_names(caller: Api, ids: list[str]) -> list[str | None]:
    found = data(await caller.gql(NODES, {"ids": ids}))["nodes"]
    return [None if node is None else (node.get("name") or node.get("email")) for node in found]


async def widgets_by_user(caller: Api) -> dict[str, list[str]]:
    """``users { widgets }``: each visible user's visible widgets."""
    edges = data(await caller.gql(USERS_WITH_WIDGETS))["users"]["edges"]
    return {e["node"]["email"]: [w["name"] for w in e["node"]["widgets"]] for e in edges}


async def widgets_by_teammate(caller: Api) -> dict[str, list[str]]:
    """``viewer { team { members { widgets } } }``."""
    team = data(await caller.gql(TEAM_MEMBERS_WITH_WIDGETS))["viewer"]["team"]
    assert team is not None
    return {m["email"]: [w["name"] for w in m["widgets"]] for m in team["members"]}


# --- OWN --------------------------------------------------------------------------------------


async def test_own_scope_hides_other_users_widgets_on_every_path(api: Api) -> None:
    org = await build_org(api)
    ids = org.widget_ids
    rep1 = org.rep1

    assert await root_widgets(rep1) == ["Anchor", "Bolt"]

    assert await node_name(rep1, ids["Anchor"]) == "Anchor"
    assert await node_name(rep1, ids["Cog"]) is None  # a teammate's
    assert await node_name(rep1, ids["Dowel"]) is None  # another team's
    assert await nodes_names(rep1, [ids["Bolt"], ids["Cog"], ids["Dowel"], ids["Anchor"]]) == [
        "Bolt",
        None,
        None,
        "Anchor",
    ]

    # users:read TEAM shows the teammates, widgets:read OWN still hides their widgets.
    assert await widgets_by_user(rep1) == {
        "rep1@example.com": ["Anchor", "Bolt"],
        "rep2@example.com": [],
        "manager@example.com": [],
        "support@example.com": [],
    }
    assert await widgets_by_teammate(rep1) == {
        "rep1@example.com": ["Anchor", "Bolt"],
        "rep2@example.com": [],
        "manager@example.com": [],
        "support@example.com": [],
    }
    # And the teammate sees the mirror image.
    assert await root_widgets(org.rep2) == ["Cog"]
    assert (await widgets_by_user(org.rep2))["rep1@example.com"] == []


# --- TEAM -------------------------------------------------------------------------------------


async def test_team_scope_shows_teammates_widgets_only(api: Api) -> None:
    org = await build_org(api)
    ids = org.widget_ids
    manager = org.manager

    assert await root_widgets(manager) == ["Anchor", "Bolt", "Cog"]

    assert await node_name(manager, ids["Cog"]) == "Cog"
    assert await node_name(manager, ids["Dowel"]) is None
    assert await nodes_names(manager, [ids["Dowel"], ids["Anchor"], ids["Cog"]]) == [
        None,
        "Anchor",
        "Cog",
    ]
    by_user = await widgets_by_user(manager)
    assert set(by_user) == NORTH
    assert by_user["rep1@example.com"] == ["Anchor", "Bolt"]
    assert by_user["rep2@example.com"] == ["Cog"]
    assert await widgets_by_teammate(manager) == by_user
    # The South representative's widget is not reachable through its owner either.
    assert await node_name(manager, org.user_ids["rep3@example.com"]) is None


async def test_team_scope_without_a_team_is_own_scope(api: Api) -> None:
    org = await build_org(api)
    loner = await api.user("loner@example.com", [CUSTOMER_MANAGER])
    assert await root_widgets(loner) == []
    assert await nodes_names(loner, list(org.widget_ids.values())) == [None] * len(ALL_WIDGETS)
    assert set(await widgets_by_user(loner)) == {"loner@example.com"}
    body = await loner.gql(TEAM_MEMBERS_WITH_WIDGETS)
    assert data(body)["viewer"]["team"] is None


# --- ALL --------------------------------------------------------------------------------------


async def test_all_scope_sees_every_widget_but_not_owners_out_of_user_scope(api: Api) -> None:
    org = await build_org(api)
    ids = org.widget_ids
    support = org.support

    assert await root_widgets(support) == ALL_WIDGETS
    assert await node_name(support, ids["Dowel"]) == "Dowel"
    assert await nodes_names(support, [ids[n] for n in ALL_WIDGETS]) == ALL_WIDGETS

    # widgets:read ALL, but users:read TEAM: the South owner stays hidden behind Widget.owner.
    body = await support.gql("{ widgets { edges { node { name owner { email } } } } }")
    owners = {
        e["node"]["name"]: (e["node"]["owner"] or {}).get("email")
        for e in data(body)["widgets"]["edges"]
    }
    assert owners == {
        "Anchor": "rep1@example.com",
        "Bolt": "rep1@example.com",
        "Cog": "rep2@example.com",
        "Dowel": None,
    }
    body = await support.gql(
        "query($id: ID!) { node(id: $id) { ... on Widget { name owner { email } } } }",
        {"id": ids["Dowel"]},
    )
    assert data(body)["node"] == {"name": "Dowel", "owner": None}
    # users { widgets } lists only visible users, so rep3's widget is not reached that way.
    by_user = await widgets_by_user(support)
    assert set(by_user) == NORTH
    assert "Dowel" not in {name for names in by_user.values() for name in names}


# --- users:read TEAM --------------------------------------------------------------------------


async def test_users_read_team_hides_users_of_other_teams(api: Api) -> None:
    org = await build_org(api)
    rep1, users = org.rep1, org.user_ids
    rep3_id = users["rep3@example.com"]

    edges = data(await rep1.gql("{ users { totalCount edges { node { email } } } }"))["users"]
    assert {e["node"]["email"] for e in edges["edges"]} == NORTH
    assert edges["totalCount"] == len(NORTH)

    assert await node_name(rep1, users["rep2@example.com"]) == "rep2@example.com"
    assert await node_name(rep1, rep3_id) is None
    assert await nodes_names(rep1, [rep3_id, users["manager@example.com"]]) == [
        None,
        "manager@example.com",
    ]
    # A search for the hidden user finds nothing either.
    body = await rep1.gql('{ users(filter: {search: "rep3"}) { totalCount } }')
    assert data(body)["users"]["totalCount"] == 0

    # Teams follow the same scope.
    teams = data(await rep1.gql("{ teams { edges { node { id name } } } }"))["teams"]["edges"]
    assert [t["node"]["name"] for t in teams] == ["North"]
    south = data(await org.rep3.gql("{ viewer { team { id name } } }"))["viewer"]["team"]
    assert south["name"] == "South"
    body = await rep1.gql("query($id: ID!) { node(id: $id) { id } }", {"id": south["id"]})
    assert data(body)["node"] is None

    # The other team's representative sees the other half.
    edges = data(await org.rep3.gql("{ users { edges { node { email } } } }"))["users"]
    assert {e["node"]["email"] for e in edges["edges"]} == SOUTH


async def test_users_read_own_shows_only_oneself(api: Api) -> None:
    org = await build_org(api)
    finance = await api.user("finance@example.com", [FINANCE], team="North")
    edges = data(await finance.gql("{ users { edges { node { email } } } }"))["users"]["edges"]
    assert [e["node"]["email"] for e in edges] == ["finance@example.com"]
    assert await node_name(finance, org.user_ids["rep1@example.com"]) is None
    members = data(await finance.gql("{ viewer { team { members { email } } } }"))
    assert members["viewer"]["team"]["members"] == [{"email": "finance@example.com"}]


async def test_audit_event_actor_follows_users_read_scope(api: Api) -> None:
    """An auditor with audit:read ALL but users:read TEAM sees every event and only the
    actors of their own team."""
    await build_org(api)
    async with api.db.transaction() as session:
        role = models.Role(key="AUDITOR", name="Auditor", description="", builtin=False)
        session.add(role)
        await session.flush()
        session.add(models.RoleGrant(role_id=role.id, permission="audit:read", scope="ALL"))
    await make_user(
        api.db, api.settings, "auditor@example.com", [SALES_REPRESENTATIVE, "AUDITOR"], team="North"
    )
    auditor = await api.login("auditor@example.com")

    body = await auditor.gql(
        '{ auditEvents(filter: {action: "login.succeeded"}, first: 100) '
        "{ edges { node { id actorLabel actor { name user { email } } } } } }"
    )
    events = [e["node"] for e in data(body)["auditEvents"]["edges"]]
    labels = {event["actorLabel"] for event in events}
    assert labels == NORTH | SOUTH | {"auditor@example.com"}
    for event in events:
        actor = event["actor"]
        # The actor's name always shows; the full user only within the caller's scope.
        assert actor["name"], event
        if event["actorLabel"] in SOUTH:
            assert actor["user"] is None, event
        else:
            assert actor["user"] == {"email": event["actorLabel"]}, event

    # The same event through node: the event is there, its actor's full user is not.
    (rep3_event,) = [e for e in events if e["actorLabel"] == "rep3@example.com"]
    body = await auditor.gql(
        "query($id: ID!) { node(id: $id) "
        "{ ... on AuditEvent { actorLabel actor { user { email } } } } }",
        {"id": rep3_event["id"]},
    )
    assert data(body)["node"] == {"actorLabel": "rep3@example.com", "actor": {"user": None}}
