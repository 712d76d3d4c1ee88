"""Files on tickets: who may see them (``tickets:read`` reaching the ticket) and who may
attach and delete them (``tickets:write`` reaching it)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import AttachmentTarget, Customer, RequestContext
from plugins.tickets.models import Ticket

TicketCheck = Callable[[AsyncSession, RequestContext, int], Awaitable[int | None]]


def _reaching(permission: str) -> TicketCheck:
    async def check(session: AsyncSession, context: RequestContext, ticket_id: int) -> int | None:
        # An erased customer's tickets take no files (erasure removed theirs).
        customer_id: int | None = await session.scalar(
            select(Ticket.customer_id)
            .join(Customer, Customer.id == Ticket.customer_id)
            .where(
                Ticket.id == ticket_id,
                Customer.erased_at.is_(None),
                context.visible(permission, "tickets"),
            )
        )
        return customer_id

    return check


TICKET_TARGET = AttachmentTarget(
    readable=_reaching("tickets:read"), writable=_reaching("tickets:write")
)
