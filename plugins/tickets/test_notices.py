"""Whom the tickets plugin tells: assignees of assigned, transferred and escalated tickets
(never the one who acted), and the people of a ticket whose SLA is at risk or missed, once
per due time, however often the watch runs."""

from __future__ import annotations

from typing import Any

from core.plugin_api import SUPPORT_REPRESENTATIVE, SYSTEM_ADMINISTRATOR
from plugins.tickets import test_lifecycle as lifecycle
from plugins.tickets.test_lifecycle import gid, ok, open_ticket, step
from schema.testkit import Api, FakeClock

settings, clock, api = lifecycle.settings, lifecycle.clock, lifecycle.api
admin, customer = lifecycle.admin, lifecycle.customer

INBOX = "query { notifications(first: 20) { edges { node { kind title subjectId } } } }"


async def inbox(api: Api) -> list[tuple[str, str]]:
    body = await api.gql(INBOX)
    assert "errors" not in body, body
    return [
        (edge["node"]["kind"], edge["node"]["title"])
        for edge in body["data"]["notifications"]["edges"]
    ]


async def agent(admin: Api, email: str) -> Api:
    return await admin.user(email, [SUPPORT_REPRESENTATIVE], team="Support", lasting=True)


async def test_assignment_transfer_and_escalation_tell_the_people_concerned(
    admin: Api, customer: str
) -> None:
    first = await agent(admin, "first@example.com")
    second = await agent(admin, "second@example.com")
    ticket = await open_ticket(admin, customer, "Printer on fire")
    number = ticket["number"]
    ticket = await step(admin, "assignTicket", ticket, assigneeId=gid("User", first.user_id))
    assert await inbox(first) == [
        ("ticket.assigned", f"Ticket {number} was assigned to you: Printer on fire")
    ]
    ticket = await step(
        admin,
        "transferTicket",
        ticket,
        assigneeId=gid("User", second.user_id),
        reason="Holiday",
    )
    assert (await inbox(first))[0] == (
        "ticket.transferred",
        f"Ticket {number} was transferred to a colleague: Printer on fire",
    )
    assert await inbox(second) == [
        ("ticket.assigned", f"Ticket {number} was assigned to you: Printer on fire")
    ]
    ticket = await step(admin, "escalateTicket", ticket, priority="URGENT", reason="Angry")
    assert (await inbox(second))[0] == (
        "ticket.escalated",
        f"Ticket {number} was escalated from MEDIUM to URGENT: Printer on fire",
    )
    # Nobody is told of what they did themselves.
    mine = await open_ticket(admin, customer, "Self-service")
    await step(admin, "assignTicket", mine, assigneeId=gid("User", admin.user_id))
    assert await inbox(admin) == []


async def test_an_sla_at_risk_and_missed_tells_assignee_and_managers_once(
    admin: Api, customer: str, clock: FakeClock
) -> None:
    worker = await agent(admin, "worker@example.com")
    manager = await admin.user("sysadmin@example.com", [SYSTEM_ADMINISTRATOR], lasting=True)
    bystander = await agent(admin, "bystander@example.com")
    ticket: dict[str, Any] = await open_ticket(admin, customer, "Printer on fire")
    number = ticket["number"]
    await ok(
        admin,
        "assignTicket",
        {
            "id": ticket["id"],
            "version": ticket["version"],
            "assigneeId": gid("User", worker.user_id),
        },
    )
    await admin.run_due_jobs()
    assert [kind for kind, _ in await inbox(manager)] == []

    clock.advance(minutes=91)  # first response due after 120 minutes; at risk from 90
    await admin.run_due_jobs()
    at_risk = ("ticket.sla_at_risk", f"SLA at risk on ticket {number}: Printer on fire")
    assert (await inbox(worker))[0] == at_risk
    assert await inbox(manager) == [at_risk]  # tickets:manage at ALL scope
    assert (await inbox(admin))[0] == at_risk  # the administrator holds everything
    assert await inbox(bystander) == []

    clock.advance(minutes=1)
    await admin.run_due_jobs()
    assert await inbox(manager) == [at_risk]  # once

    clock.advance(minutes=30)  # past the due time
    await admin.run_due_jobs()
    clock.advance(minutes=5)
    await admin.run_due_jobs()
    missed = ("ticket.sla_breached", f"SLA missed on ticket {number}: Printer on fire")
    assert await inbox(manager) == [missed, at_risk]
    assert [kind for kind, _ in await inbox(worker)] == [
        "ticket.sla_breached",
        "ticket.sla_at_risk",
        "ticket.assigned",
    ]


async def test_a_ticket_a_routing_rule_assigns_tells_its_handler(admin: Api, customer: str) -> None:
    handler = await agent(admin, "handler@example.com")
    rule = await admin.gql(
        "mutation($users: [ID!]!) { setRoutingRule(input: "
        "{type: FAULT, strategy: ROUND_ROBIN, userIds: $users}) { errors { message } } }",
        {"users": [gid("User", handler.user_id)]},
    )
    assert rule["data"]["setRoutingRule"]["errors"] == [], rule
    ticket = await open_ticket(admin, customer, "Printer on fire")
    assert await inbox(handler) == [
        ("ticket.assigned", f"Ticket {ticket['number']} was assigned to you: Printer on fire")
    ]
