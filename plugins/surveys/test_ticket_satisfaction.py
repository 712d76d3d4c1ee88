"""The surveys plugin's answer to the tickets plugin's ``crm_ticket_satisfaction``:
``ticketStats`` groups carry what the customers said of their tickets (responses, CSAT,
mean rating, share satisfied), from the responses the caller may read, and nothing when the
caller may read none. Through HTTP, with both plugins enabled; the responses are written
straight into the database.

Runs on SQLite and (with ``CRM_TEST_POSTGRES_URL``) PostgreSQL.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import update

from core.plugin_api import SUPPORT_REPRESENTATIVE, SYSTEM_ADMINISTRATOR
from plugins.surveys import models
from plugins.surveys.testing import Seed, customer
from schema.testkit import Api
from schema.testkit_graphql import data, db_id, gid, mutate_ok

STATS = """
query($groupBy: [TicketGroupBy!]) { ticketStats(groupBy: $groupBy) {
  key total satisfaction { responses csat meanRating satisfiedShare }
} }"""


async def ticket(api: Api, customer_id: int, ticket_type: str) -> int:
    input = {"customerId": gid("Customer", customer_id), "type": ticket_type, "subject": "Help"}
    payload = await mutate_ok(api, "openTicket", input, "ticket { id }")
    return db_id(payload["ticket"]["id"])


async def answered(
    seed: Seed,
    customer_id: int,
    ticket_id: int,
    *,
    ratings: tuple[int, ...],
    satisfied: bool | None,
    handler_id: int | None = None,
    kind: str = "TICKET",
) -> None:
    """A response about the ticket (``kind`` MANUAL: about nothing, with its id anyway)."""
    response_id = await seed.add(
        customer_id,
        sent="2026-11-20T09:00:00",
        submitted="2026-11-21T09:00:00",
        ticket_type="FAULT",
        handler_id=handler_id,
        ratings=ratings,
    )
    async with seed.api.db.transaction() as session:
        await session.execute(
            update(models.SurveyResponse)
            .where(models.SurveyResponse.id == response_id)
            .values(subject_kind=kind, subject_id=ticket_id, satisfied=satisfied)
        )


async def satisfaction(api: Api) -> dict[str, Any]:
    groups = data(await api.gql(STATS, {"groupBy": ["TYPE"]}))["ticketStats"]
    return {group["key"][0]: group["satisfaction"] for group in groups}


async def test_ticket_stats_show_what_customers_said(admin: Api) -> None:
    agent = await admin.user("agent@example.com", [SUPPORT_REPRESENTATIVE], lasting=True)
    sysadmin = await admin.as_role(SYSTEM_ADMINISTRATOR)
    acme = await customer(admin, "Acme Ltd")
    first, second = await ticket(admin, acme, "FAULT"), await ticket(admin, acme, "FAULT")
    complaint = await ticket(admin, acme, "COMPLAINT")
    seed = await Seed.of(admin)
    await answered(seed, acme, first, ratings=(5, 4), satisfied=True, handler_id=agent.user_id)
    await answered(seed, acme, second, ratings=(2,), satisfied=False)
    await answered(seed, acme, complaint, ratings=(5,), satisfied=True, kind="MANUAL")

    assert await satisfaction(admin) == {
        "COMPLAINT": {"responses": 0, "csat": None, "meanRating": None, "satisfiedShare": None},
        "FAULT": {"responses": 2, "csat": 0.6667, "meanRating": 3.67, "satisfiedShare": 0.5},
    }
    # Support reads the responses of the tickets it handled only.
    assert (await satisfaction(agent))["FAULT"] == {
        "responses": 1,
        "csat": 1.0,
        "meanRating": 4.5,
        "satisfiedShare": 1.0,
    }
    # Without surveys:read, no figures (the tickets' own still).
    assert await satisfaction(sysadmin) == {"COMPLAINT": None, "FAULT": None}
    groups = data(await sysadmin.gql(STATS, {"groupBy": ["TYPE"]}))["ticketStats"]
    assert [(group["key"], group["total"]) for group in groups] == [
        (["COMPLAINT"], 1),
        (["FAULT"], 2),
    ]
