"""Colleagues on records: whoever sees a customer, an interaction or a task sees who owns it,
wrote it, took part or is assigned, by name (a ``UserSummary``); the full ``User`` stays
behind ``users:read``, so a null owner means only that nobody owns it."""

from __future__ import annotations

from typing import Any

from strawberry import relay

from core.catalog import FINANCE, SALES_REPRESENTATIVE
from schema.testkit import Api
from schema.testkit_tools import make_user

CREATE = """
mutation($input: CreateCustomerInput!) {
  createCustomer(input: $input) { customer { id } errors { field message code } }
}"""
LOG = """
mutation($input: LogInteractionInput!) {
  logInteraction(input: $input) { interaction { id } errors { field message code } }
}"""
CREATE_TASK = """
mutation($input: CreateTaskInput!) {
  createTask(input: $input) { task { id } errors { field message code } }
}"""
DEACTIVATE = """
mutation($id: ID!, $version: Int!) {
  deactivateUser(input: {id: $id, version: $version}) { errors { field message code } }
}"""
CUSTOMER = """
query($id: ID!) {
  customer(id: $id) {
    owner { id name active user { email } }
    interactions(first: 5) {
      edges { node { author { name user { email } } participants { name user { email } } } }
    }
    tasks(first: 5) { edges { node { assignee { name user { email } } } } }
  }
}"""
SUMMARY_FIELDS = '{ __type(name: "UserSummary") { fields { name } } }'


def gid(user_id: int) -> str:
    return relay.to_base64("User", user_id)


def ok(body: dict[str, Any], name: str) -> dict[str, Any]:
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"][name]
    assert payload["errors"] == [], payload
    return payload


async def test_a_caller_sees_colleagues_names_but_not_users_out_of_scope(admin: Api) -> None:
    rep = await make_user(
        admin.db, admin.settings, "rep@example.com", [SALES_REPRESENTATIVE], team="South"
    )
    mate = await make_user(
        admin.db, admin.settings, "mate@example.com", [SALES_REPRESENTATIVE], team="South"
    )
    finance = await admin.as_role(FINANCE)  # customers:read ALL, users:read OWN
    customer = ok(
        await admin.gql(CREATE, {"input": {"name": "Acme", "ownerId": gid(rep)}}),
        "createCustomer",
    )["customer"]["id"]
    ok(
        await admin.gql(
            LOG,
            {
                "input": {
                    "customerId": customer,
                    "channel": "PHONE",
                    "summary": "Intro call",
                    "participantIds": [gid(mate)],
                }
            },
        ),
        "logInteraction",
    )
    ok(
        await admin.gql(
            CREATE_TASK,
            {
                "input": {
                    "customerId": customer,
                    "title": "Call back",
                    "dueAt": "2030-01-01T09:00:00+00:00",
                    "assigneeId": gid(rep),
                }
            },
        ),
        "createTask",
    )

    seen = (await finance.gql(CUSTOMER, {"id": customer}))["data"]["customer"]
    assert seen["owner"] == {"id": gid(rep), "name": "Rep", "active": True, "user": None}
    (interaction,) = seen["interactions"]["edges"]
    assert interaction["node"] == {
        "author": {"name": "Admin", "user": None},
        "participants": [{"name": "Mate", "user": None}],
    }
    (task,) = seen["tasks"]["edges"]
    assert task["node"]["assignee"] == {"name": "Rep", "user": None}

    full = (await admin.gql(CUSTOMER, {"id": customer}))["data"]["customer"]
    assert full["owner"]["user"] == {"email": "rep@example.com"}
    assert full["interactions"]["edges"][0]["node"]["participants"] == [
        {"name": "Mate", "user": {"email": "mate@example.com"}}
    ]


async def test_a_deactivated_owner_still_shows_as_inactive(admin: Api) -> None:
    rep = await make_user(admin.db, admin.settings, "gone@example.com", [SALES_REPRESENTATIVE])
    owned = ok(
        await admin.gql(CREATE, {"input": {"name": "Acme", "ownerId": gid(rep)}}),
        "createCustomer",
    )["customer"]["id"]
    version = (await admin.gql(f'{{ node(id: "{gid(rep)}") {{ ... on User {{ version }} }} }}'))[
        "data"
    ]["node"]["version"]
    ok(await admin.gql(DEACTIVATE, {"id": gid(rep), "version": version}), "deactivateUser")

    owner = (await admin.gql(CUSTOMER, {"id": owned}))["data"]["customer"]["owner"]
    assert (owner["name"], owner["active"]) == ("Gone", False)
    body = await admin.gql(
        "{ customers(first: 5) { edges { node { owner { name } } } } }",
    )
    assert [edge["node"]["owner"] for edge in body["data"]["customers"]["edges"]] == [
        {"name": "Gone"}
    ]


async def test_a_summary_carries_no_private_data(admin: Api) -> None:
    fields = {f["name"] for f in (await admin.gql(SUMMARY_FIELDS))["data"]["__type"]["fields"]}

    assert fields == {"id", "name", "active", "user"}
