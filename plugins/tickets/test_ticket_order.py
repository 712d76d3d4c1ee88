"""``orderBy: [TicketOrder!]`` on the ticket lists (root and nested): priority by severity,
updated time, paging forward and backward to the same tickets, and the ``opened`` range."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from core.plugin_api import CRMPluginManager
from plugins.tickets import models
from plugins.tickets import test_lifecycle as lifecycle
from plugins.tickets.test_lifecycle import move_to, open_ticket
from schema.testkit import Api, FakeClock, migrate_down, migrate_up

# The lifecycle tests' fixtures: the app on a clock set to a Monday, an admin, a customer.
settings, clock, api = lifecycle.settings, lifecycle.clock, lifecycle.api
admin, customer = lifecycle.admin, lifecycle.customer

PRIORITIES = ["LOW", "URGENT", "MEDIUM", "URGENT", "HIGH", "LOW"]
SEVERITY = ["LOW", "MEDIUM", "HIGH", "URGENT"]

TICKETS = """
query($orderBy: [TicketOrder!], $first: Int, $after: String, $last: Int, $before: String) {
  tickets(orderBy: $orderBy, first: $first, after: $after, last: $last, before: $before) {
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { node { number } }
  }
}"""
NESTED = """
query($id: ID!, $orderBy: [TicketOrder!], $first: Int, $after: String, $last: Int,
      $before: String) {
  customer(id: $id) {
    tickets(orderBy: $orderBy, first: $first, after: $after, last: $last, before: $before) {
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      edges { node { number } }
    }
  }
}"""


async def open_tickets(admin: Api, customer: str, clock: FakeClock) -> list[str]:
    numbers = []
    for priority in PRIORITIES:
        ticket = await open_ticket(admin, customer, priority=priority)
        numbers.append(ticket["number"])
        clock.advance(minutes=1)
    return numbers


@pytest.mark.parametrize("direction", ["ASC", "DESC"])
async def test_tickets_sort_by_priority_in_severity_order(
    admin: Api, customer: str, clock: FakeClock, direction: str
) -> None:
    numbers = await open_tickets(admin, customer, clock)
    descending = direction == "DESC"
    order = [{"field": "PRIORITY", "direction": direction}]
    # Ties (two URGENT, two LOW) by id, in the direction of the first entry.
    expected = [
        numbers[n]
        for n in sorted(
            range(6), key=lambda n: (SEVERITY.index(PRIORITIES[n]), n), reverse=descending
        )
    ]
    assert await admin.walk(TICKETS, ["tickets"], "number", {"orderBy": order}) == expected
    nested = await admin.walk(
        NESTED, ["customer", "tickets"], "number", {"id": customer, "orderBy": order}
    )
    assert nested == expected
    if descending:
        assert [PRIORITIES[numbers.index(n)] for n in expected[:2]] == ["URGENT", "URGENT"]


async def test_tickets_by_priority_then_newest(admin: Api, customer: str, clock: FakeClock) -> None:
    numbers = await open_tickets(admin, customer, clock)
    order = [
        {"field": "PRIORITY", "direction": "DESC"},
        {"field": "CREATED_AT", "direction": "DESC"},
    ]
    found = await admin.walk(TICKETS, ["tickets"], "number", {"orderBy": order})
    assert found == [numbers[n] for n in (3, 1, 4, 2, 5, 0)]


@pytest.mark.parametrize("direction", ["ASC", "DESC"])
async def test_tickets_sort_by_updated_at(
    admin: Api, customer: str, clock: FakeClock, direction: str
) -> None:
    numbers = await open_tickets(admin, customer, clock)
    order = [{"field": "UPDATED_AT", "direction": direction}]
    found = await admin.walk(TICKETS, ["tickets"], "number", {"orderBy": order})
    assert found == (numbers[::-1] if direction == "DESC" else numbers)
    default = await admin.walk(TICKETS, ["tickets"], "number", {})
    assert default == numbers[::-1]  # newest first


async def test_opened_takes_the_date_time_range(
    admin: Api, customer: str, clock: FakeClock
) -> None:
    start = clock()
    await open_tickets(admin, customer, clock)
    query = "query($opened: DateTimeRange) { tickets(filter: {opened: $opened}) { totalCount } }"
    window: dict[str, Any] = {"from": start.isoformat(), "to": clock().isoformat()}
    body = await admin.gql(query, {"opened": window})
    assert body["data"]["tickets"]["totalCount"] == 6
    body = await admin.gql(query, {"opened": {"from": window["to"], "to": window["from"]}})
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["argument"] == "filter.opened.to"


SET_POLICY = """
mutation($input: SetSlaPolicyInput!) {
  setSlaPolicy(input: $input) { errors { field message code } }
}"""
VERSION = "query($id: ID!) { ticket(id: $id) { version sla { firstResponseDueAt } } }"


async def test_tickets_sort_by_the_sla_due_time_that_matters(
    admin: Api, customer: str, clock: FakeClock
) -> None:
    low = await open_ticket(admin, customer, priority="LOW")  # first response due +120
    clock.advance(minutes=1)
    urgent = await open_ticket(admin, customer, priority="URGENT")  # +1 +30
    clock.advance(minutes=1)
    medium = await open_ticket(admin, customer, priority="MEDIUM")  # +2 +120
    clock.advance(minutes=1)
    waiting = await move_to(admin, await open_ticket(admin, customer, priority="HIGH"), "WAITING")
    clock.advance(minutes=1)
    answered = await move_to(  # responded: the resolution is due, +4 +240
        admin, await open_ticket(admin, customer, priority="URGENT"), "ACKNOWLEDGED"
    )
    clock.advance(minutes=1)
    done = await move_to(admin, await open_ticket(admin, customer, priority="LOW"), "RESOLVED")
    tickets = [low, urgent, medium, waiting, answered, done]
    number = {ticket["id"]: ticket["number"] for ticket in tickets}

    def numbers(*found: dict[str, Any]) -> list[str]:
        return [number[ticket["id"]] for ticket in found]

    ascending = [{"field": "SLA_DUE"}]
    found = await admin.walk(TICKETS, ["tickets"], "number", {"orderBy": ascending})
    # The standing clocks (WAITING, RESOLVED) have no due time: last, by id.
    assert found == numbers(urgent, low, medium, answered, waiting, done)
    descending = [{"field": "SLA_DUE", "direction": "DESC"}]
    found = await admin.walk(TICKETS, ["tickets"], "number", {"orderBy": descending})
    assert found == numbers(done, waiting, answered, medium, low, urgent)

    # A new target moves the open tickets of that priority at once, without a new version.
    before = (await admin.gql(VERSION, {"id": low["id"]}))["data"]["ticket"]
    body = await admin.gql(
        SET_POLICY,
        {"input": {"priority": "LOW", "firstResponseMinutes": 10, "resolutionMinutes": 600}},
    )
    assert body["data"]["setSlaPolicy"]["errors"] == []
    after = (await admin.gql(VERSION, {"id": low["id"]}))["data"]["ticket"]
    assert after["version"] == before["version"]
    assert after["sla"]["firstResponseDueAt"] < before["sla"]["firstResponseDueAt"]
    found = await admin.walk(TICKETS, ["tickets"], "number", {"orderBy": ascending})
    assert found == numbers(low, urgent, medium, answered, waiting, done)


async def test_the_migration_fills_in_the_due_time_of_open_tickets(
    admin: Api, customer: str, plugin_manager: CRMPluginManager
) -> None:
    running = await open_ticket(admin, customer, priority="HIGH")
    waiting = await move_to(admin, await open_ticket(admin, customer), "WAITING")
    due = (await admin.gql(VERSION, {"id": running["id"]}))["data"]["ticket"]["sla"]
    await migrate_down(admin.db, plugin_manager, "tickets_0001")
    await migrate_up(admin.db, plugin_manager)
    async with admin.db.read() as session:
        stored = dict(
            (await session.execute(select(models.Ticket.number, models.Ticket.sla_due_at))).all()
        )
    assert stored[waiting["number"]] is None
    filled = stored[running["number"]]
    assert filled is not None
    assert filled.isoformat() == due["firstResponseDueAt"]


SET_HOURS = """
mutation($input: SetBusinessHoursInput!) { setBusinessHours(input: $input) { errors { field } } }"""


async def test_business_hours_move_the_stored_due_times(admin: Api, customer: str) -> None:
    ticket = await open_ticket(admin, customer, priority="LOW")

    async def stored() -> Any:
        async with admin.db.read() as session:
            return await session.scalar(
                select(models.Ticket.sla_due_at).where(models.Ticket.number == ticket["number"])
            )

    always = await stored()
    hours = {"enabled": True, "timeZone": "Europe/Berlin", "start": "09:00", "end": "10:00"}
    body = await admin.gql(SET_HOURS, {"input": hours})
    assert body["data"]["setBusinessHours"]["errors"] == []
    due = (await admin.gql(VERSION, {"id": ticket["id"]}))["data"]["ticket"]["sla"]
    within_hours = await stored()
    assert within_hours > always  # two hours of one-hour days end later
    assert within_hours.isoformat() == due["firstResponseDueAt"]
    body = await admin.gql(SET_HOURS, {"input": {"enabled": False}})
    assert body["data"]["setBusinessHours"]["errors"] == []
    assert await stored() == always
