"""What a caller learns about records out of reach: nothing, on the paths beside the lists.

Tags, interaction participants and custom field values are small doors beside the main
ones (lists, ``node``, mutations, which core/customers/test_customer_scoping.py covers).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from strawberry import relay

from core.catalog import SALES_REPRESENTATIVE
from core.customers import models
from core.customers.service.fields import MAX_NUMBER
from core.customers.service.followups import MAX_PARTICIPANTS
from schema.testkit import Api

CREATE = """
mutation($input: CreateCustomerInput!) {
  createCustomer(input: $input) { customer { id customFields } errors { field message code } }
}"""
LOG = """
mutation($input: LogInteractionInput!) {
  logInteraction(input: $input) {
    interaction { id participants { user { email } } } errors { field message code }
  }
}"""
DEFINE = """
mutation($input: DefineCustomFieldInput!) {
  defineCustomField(input: $input) { definition { key } errors { field message code } }
}"""
TAGS = "{ tags { name } }"
UNTAG = """
mutation($ids: [ID!]!, $tags: [String!]!) {
  untagCustomers(input: {customerIds: $ids, tags: $tags}) { errors { field code } }
}"""


def payload(body: dict[str, Any], name: str) -> dict[str, Any]:
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"][name]
    return result


async def create(api: Api, name: str, **given: Any) -> dict[str, Any]:
    created = payload(await api.gql(CREATE, {"input": {"name": name, **given}}), "createCustomer")
    assert created["errors"] == [], created
    customer: dict[str, Any] = created["customer"]
    return customer


def user_id(api: Api) -> str:
    assert api.user_id is not None
    return str(relay.GlobalID("User", str(api.user_id)))


async def interactions(api: Api) -> int:
    async with api.db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(models.Interaction)) or 0)


async def test_tags_list_only_those_on_customers_in_reach(admin: Api) -> None:
    # Given two representatives of different teams, each with a tagged customer
    north = await admin.as_role(SALES_REPRESENTATIVE, team="North")
    south = await admin.as_role(SALES_REPRESENTATIVE, team="South")
    await create(north, "Acme", tags=["Key account"])
    secret = await create(south, "Bravo", tags=["Takeover target", "Key account"])

    # Then each sees the tags of their own customers, and nothing of the other's
    assert (await north.gql(TAGS))["data"]["tags"] == [{"name": "Key account"}]
    assert (await south.gql(TAGS))["data"]["tags"] == [
        {"name": "Key account"},
        {"name": "Takeover target"},
    ]

    # And with every customer in reach, every tag, one used nowhere any more included
    untagged = await admin.gql(UNTAG, {"ids": [secret["id"]], "tags": ["Takeover target"]})
    assert payload(untagged, "untagCustomers")["errors"] == []
    assert [t["name"] for t in (await admin.gql(TAGS))["data"]["tags"]] == [
        "Key account",
        "Takeover target",
    ]
    assert (await south.gql(TAGS))["data"]["tags"] == [{"name": "Key account"}]


async def test_participants_must_be_users_the_caller_can_see(admin: Api) -> None:
    # Given a representative, a teammate, and a user of another team
    rep = await admin.as_role(SALES_REPRESENTATIVE, team="North")
    teammate = await admin.as_role(SALES_REPRESENTATIVE, team="North")
    stranger = await admin.as_role(SALES_REPRESENTATIVE, team="South")
    customer = await create(rep, "Acme")
    base = {"customerId": customer["id"], "channel": "PHONE", "summary": "Intro call"}
    missing = str(relay.GlobalID("User", "999999"))

    # When the representative names themselves twice, then the stranger, or an id of no user
    answers = []
    for other in (user_id(stranger), missing):
        given = [user_id(rep), user_id(rep), other]
        body = await rep.gql(LOG, {"input": {**base, "participantIds": given}})
        answers.append(body)

    # Then the stranger and the missing id get the same top-level NOT_FOUND, naming the
    # position, and nothing is stored
    unseen = "input.participantIds.2: is not an active user you can see"
    for body in answers:
        assert body["data"] == {"logInteraction": None}, body
        assert [(e["message"], e["extensions"]) for e in body["errors"]] == [
            (unseen, {"code": "NOT_FOUND", "argument": "input.participantIds.2"})
        ]
    assert await interactions(admin) == 0

    # While users in reach are taken, each once
    team = [user_id(rep), user_id(teammate), user_id(rep)]
    logged = payload(
        await rep.gql(LOG, {"input": {**base, "participantIds": team}}), "logInteraction"
    )
    assert logged["errors"] == []
    participants = [p["user"]["email"] for p in logged["interaction"]["participants"]]
    assert sorted(participants) == sorted([str(rep.email), str(teammate.email)])


async def test_participants_are_bounded(admin: Api) -> None:
    customer = await create(admin, "Acme")
    many = [user_id(admin)] * (MAX_PARTICIPANTS + 1)
    given = {"customerId": customer["id"], "channel": "PHONE", "summary": "All hands"}

    logged = payload(
        await admin.gql(LOG, {"input": {**given, "participantIds": many}}), "logInteraction"
    )

    assert [(e["field"], e["code"]) for e in logged["errors"]] == [("participantIds", "TOO_LONG")]
    assert await interactions(admin) == 0


async def test_number_custom_fields_hold_what_a_json_number_keeps_exactly(admin: Api) -> None:
    definition = {"key": "employees", "label": "Employees", "type": "NUMBER"}
    assert (
        payload(await admin.gql(DEFINE, {"input": definition}), "defineCustomField")["errors"] == []
    )

    for too_big in (2**70, -(2**70), MAX_NUMBER + 1, "1e300"):
        body = await admin.gql(
            CREATE, {"input": {"name": "Big", "customFields": {"employees": too_big}}}
        )
        refused = payload(body, "createCustomer")
        assert refused["customer"] is None, too_big
        assert [(e["field"], e["code"]) for e in refused["errors"]] == [
            ("customFields.employees", "INVALID")
        ], too_big
        assert str(MAX_NUMBER) in refused["errors"][0]["message"]

    kept = await create(admin, "Largest", customFields={"employees": MAX_NUMBER})
    assert kept["customFields"] == {"employees": MAX_NUMBER}
