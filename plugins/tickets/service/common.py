"""What every ticket change shares: the ticket number's counter, loading a ticket the
caller may change, and writing an event on its timeline."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import ApiError, RequestContext, not_found, require, translator
from plugins.tickets.models import Ticket, TicketEvent

_ = translator(__name__)

COUNTER = "ticket"
NUMBER_PREFIX = "T"


RECORDS = {"ticket": _("ticket")}
"""The records ``_not_found`` names, as messages."""


def _not_found(field: str = "id", what: str = "ticket") -> ApiError:
    """NOT_FOUND at the top level for the id in the mutation's input at ``field``."""
    return not_found(
        f"input.{field}",
        _("no {what} with this id that you may change", what=RECORDS.get(what, what)),
    )


def _hook(context: RequestContext) -> Any:
    return context.pm.hook


async def writable_ticket(
    session: AsyncSession,
    context: RequestContext,
    ticket_id: int | None,
    permission: str = "tickets:write",
) -> Ticket:
    require(context, permission)
    ticket = None
    if ticket_id is not None:
        ticket = await session.scalar(
            select(Ticket)
            .where(Ticket.id == ticket_id, context.visible(permission, "tickets"))
            .with_for_update()
        )
    if ticket is None:
        raise _not_found()
    return ticket


def _event(
    session: AsyncSession,
    ticket: Ticket,
    kind: str,
    actor_id: int | None,
    now: dt.datetime,
    *,
    from_status: str | None = None,
    to_status: str | None = None,
    note: str | None = None,
    internal: bool = True,
    data: dict[str, Any] | None = None,
) -> None:
    session.add(
        TicketEvent(
            ticket_id=ticket.id,
            kind=kind,
            from_status=from_status,
            to_status=to_status,
            actor_id=actor_id,
            note=note,
            internal=internal,
            data=data or {},
            created_at=now,
        )
    )
