"""The tickets plugin's webhook events: their declarations and what each tells.

A ticket event carries the ticket's global id, number, type, priority, status and the
global ids of its customer and assignee; never its subject, description or notes (a
receiver reads those through the API with a token holding ``tickets:read``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import emit_event, global_id
from plugins.tickets.models import Ticket

EVENT_TYPES = {
    "ticket.opened": "A ticket was opened (with its assignee if a routing rule picked one).",
    "ticket.status_changed": "A ticket moved from one status to another.",
    "ticket.assigned": "A ticket was assigned or transferred to another user, or unassigned.",
}


def ticket_data(ticket: Ticket) -> dict[str, Any]:
    return {
        "id": global_id("Ticket", ticket.id),
        "number": ticket.number,
        "type": ticket.type,
        "priority": ticket.priority,
        "status": ticket.status,
        "customerId": global_id("Customer", ticket.customer_id),
        "assigneeId": global_id("User", ticket.assignee_id),
    }


async def opened(session: AsyncSession, ticket: Ticket, now: dt.datetime) -> None:
    await emit_event(session, "ticket.opened", {"ticket": ticket_data(ticket)}, now=now)


async def status_changed(
    session: AsyncSession, ticket: Ticket, from_status: str, to_status: str, now: dt.datetime
) -> None:
    await emit_event(
        session,
        "ticket.status_changed",
        {"ticket": ticket_data(ticket), "fromStatus": from_status, "toStatus": to_status},
        now=now,
    )


async def assigned(
    session: AsyncSession,
    ticket: Ticket,
    previous_assignee_id: int | None,
    kind: str,
    now: dt.datetime,
) -> None:
    await emit_event(
        session,
        "ticket.assigned",
        {
            "ticket": ticket_data(ticket),
            "previousAssigneeId": global_id("User", previous_assignee_id),
            "kind": kind,
        },
        now=now,
    )
