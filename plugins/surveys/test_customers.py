"""The surveys plugin's part in merging and erasing customers."""

from __future__ import annotations

from sqlalchemy import select

from core.plugin_api import ERASED
from plugins.surveys import models
from plugins.surveys.test_invitations import (
    add_response,
    create_contact,
    create_customer,
    invitations,
    send,
)
from schema.testkit import Api
from schema.testkit_graphql import data, db_id, mutate_ok

MERGE = (
    "mutation($input: MergeCustomersInput!) { mergeCustomers(input: $input) { "
    "moved { kind count } dryRun errors { field message } } }"
)


async def version_of(api: Api, customer: str) -> int:
    body = await api.gql("query($id: ID!) { customer(id: $id) { version } }", {"id": customer})
    version: int = data(body)["customer"]["version"]
    return version


async def test_merging_moves_invitations_and_responses(admin: Api) -> None:
    source = await create_customer(admin, "Source")
    await create_contact(admin, source, "S", "s@example.com")
    target = await create_customer(admin, "Target")
    await create_contact(admin, target, "T", "t@example.com")
    (moved,) = await send(admin, customerIds=[source])
    await add_response(admin, db_id(moved["id"]), satisfied=None, nps=9)
    await send(admin, customerIds=[target])
    input = {"sourceId": source, "targetId": target, "dryRun": True}
    dry = data(await admin.gql(MERGE, {"input": input}))["mergeCustomers"]
    assert dry["errors"] == []
    counts = {m["kind"]: m["count"] for m in dry["moved"]}
    assert (counts["survey invitations"], counts["survey responses"]) == (1, 1)
    assert len(await invitations(admin, customerId=source)) == 1  # a dry run moves nothing

    input["dryRun"] = False
    done = data(await admin.gql(MERGE, {"input": input}))["mergeCustomers"]
    assert done["errors"] == []
    assert await invitations(admin, customerId=source) == []
    assert len(await invitations(admin, customerId=target)) == 2
    async with admin.db.read() as session:
        owners = (await session.scalars(select(models.SurveyResponse.customer_id))).all()
    assert owners == [db_id(target)]


async def test_erasing_drops_addresses_comments_and_texts_but_keeps_scores(admin: Api) -> None:
    customer = await create_customer(admin, "Erased")
    await create_contact(admin, customer, "Dana Reyes", "dana@example.com")
    other = await create_customer(admin, "Kept")
    await create_contact(admin, other, "Kim", "kim@example.com")
    answered, pending = await send(admin, customerIds=[customer, other])
    await add_response(
        admin,
        db_id(answered["id"]),
        satisfied=False,
        comment="Dana is unhappy",
        answers=[
            {"question_key": "attitude", "kind": "RATING", "dimension": "ATTITUDE", "score": 2},
            {"question_key": "comment", "kind": "TEXT", "text": "Dana is unhappy"},
        ],
    )
    (later,) = await send(admin, "CSAT_SERVICE", contactIds=[pending["contact"]["id"]])
    assert later["skipReason"] == "FATIGUE"
    await mutate_ok(
        admin,
        "eraseCustomer",
        {"id": customer, "version": await version_of(admin, customer), "reason": "GDPR 42"},
        "customer { erasedAt }",
    )
    async with admin.db.read() as session:
        invitation = await session.get(models.SurveyInvitation, db_id(answered["id"]))
        kept = await session.get(models.SurveyInvitation, db_id(pending["id"]))
        response = await session.scalar(select(models.SurveyResponse))
        answers = (
            await session.scalars(select(models.SurveyAnswer).order_by(models.SurveyAnswer.id))
        ).all()
    assert invitation is not None
    assert (invitation.email, invitation.contact_id, invitation.token_hash) == (None, None, None)
    assert invitation.status == "ANSWERED"
    assert kept is not None
    assert kept.email == "kim@example.com"
    assert kept.token_hash is not None
    assert response is not None
    assert response.comment == ERASED
    assert response.satisfied is False
    assert [(a.score, a.text) for a in answers] == [(2, None), (None, ERASED)]
