"""The tickets' side of core's customer changes: archiving (open tickets refuse it) and
erasure (their free text is blanked, in their audit events too); merging moves them
(``move_customer_rows``); a customer's profile lists its open tickets."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import (
    ERASED,
    CustomerProfileSection,
    RequestContext,
    User,
    audit,
    render,
    translator,
)
from plugins.tickets.domain import OPEN_STATUSES
from plugins.tickets.models import Ticket, TicketEvent

_ = translator(__name__)

PROFILE_TICKETS = 20
"""The most open tickets a customer's profile lists (oldest first)."""

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


async def profile_section(
    session: AsyncSession, customer_id: int, context: RequestContext
) -> CustomerProfileSection | None:
    """The open tickets of the customer that the caller may read, for its profile; none
    without ``tickets:read``."""
    if context.caller is None or context.caller.scope("tickets:read") is None:
        return None
    rows = (
        await session.execute(
            select(Ticket, User.email)
            .outerjoin(User, User.id == Ticket.assignee_id)
            .where(
                Ticket.customer_id == customer_id,
                Ticket.status.in_(OPEN_STATUSES),
                context.visible("tickets:read"),
            )
            .order_by(Ticket.created_at, Ticket.id)
            .limit(PROFILE_TICKETS)
        )
    ).all()
    zone = context.zone
    return CustomerProfileSection(
        title=render(_("Open tickets")),
        columns=[
            render(label)
            for label in (
                _("Ticket"),
                _("Subject"),
                _("Priority"),
                _("Status"),
                _("Opened"),
                _("Assignee"),
            )
        ],
        rows=[
            [
                ticket.number,
                ticket.subject,
                ticket.priority,
                ticket.status,
                ticket.created_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
                email,
            ]
            for ticket, email in rows
        ],
        empty=render(_("No open tickets.")),
    )
