"""Notes on a ticket's timeline, internal or for the customer to see."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import Check, RequestContext, actor_of, audit, require
from plugins.tickets.models import Ticket
from plugins.tickets.service.common import _event, writable_ticket
from plugins.tickets.service.sla import refresh_sla_due


async def add_note(
    session: AsyncSession, context: RequestContext, ticket_id: int | None, note: str, internal: bool
) -> Ticket:
    caller = require(context, "tickets:write")
    ticket = await writable_ticket(session, context, ticket_id)
    check = Check()
    cleaned = check.text("note", note, max_length=20_000)
    check.done()
    now = context.now()
    if not internal and ticket.first_responded_at is None:
        ticket.first_responded_at = now  # a reply the customer sees is a first response
    ticket.updated_at = now
    await refresh_sla_due(session, [ticket])
    await session.flush()
    _event(session, ticket, "NOTE", caller.user_id, now, note=cleaned, internal=internal)
    audit.record(
        session, actor_of(context), "ticket.note_added", "Ticket", ticket.id, {"internal": internal}
    )
    return ticket
