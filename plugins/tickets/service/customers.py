"""The tickets' side of core's customer changes: archiving (open tickets refuse it) and
erasure (their free text is blanked, in their audit events too); merging moves them
(``move_customer_rows``)."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import ERASED, audit
from plugins.tickets.domain import OPEN_STATUSES
from plugins.tickets.models import Ticket, TicketEvent

# The values of a ticket's audit events that are not personal and survive an erasure; the
# others (the subject the customer wrote) become ERASED.
AUDIT_KEEP = frozenset(
    {"number", "customerId", "type", "priority", "assigneeId", "status", "internal"}
)


async def open_count(session: AsyncSession, customer_id: int) -> int:
    return int(
        await session.scalar(
            select(func.count()).where(
                Ticket.customer_id == customer_id, Ticket.status.in_(OPEN_STATUSES)
            )
        )
        or 0
    )


async def erase_tickets(session: AsyncSession, customer_id: int) -> None:
    """The customer's personal data was erased: blank the free text of their tickets (subject,
    description, resolution, notes) and the values of their audit events, as core blanks
    interactions and tasks and scrubs their events."""
    tickets = (Ticket.customer_id == customer_id,)
    ticket_ids = (await session.scalars(select(Ticket.id).where(*tickets))).all()
    await audit.scrub(session, "Ticket", ticket_ids, AUDIT_KEEP)
    await session.execute(
        update(Ticket)
        .where(*tickets)
        .values(subject=ERASED, description="", version=Ticket.version + 1)
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        update(Ticket)
        .where(*tickets, Ticket.resolution.is_not(None))
        .values(resolution=ERASED)
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        update(TicketEvent)
        .where(
            TicketEvent.ticket_id.in_(select(Ticket.id).where(*tickets)),
            TicketEvent.note.is_not(None),
        )
        .values(note=ERASED)
        .execution_options(synchronize_session=False)
    )
