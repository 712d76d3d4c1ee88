"""Scheduled work (``crm jobs run``): closing resolved tickets left unconfirmed."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import audit, call_in_turn
from plugins.tickets.models import Ticket
from plugins.tickets.service.lifecycle import move


async def auto_close(session: AsyncSession, pm: Any, days: int, now: dt.datetime) -> int:
    """Close RESOLVED tickets the customer left unconfirmed for ``days``."""
    cutoff = now - dt.timedelta(days=days)
    stale = list(
        (
            await session.scalars(
                select(Ticket)
                .where(Ticket.status == "RESOLVED", Ticket.resolved_at < cutoff)
                .with_for_update()
            )
        ).all()
    )
    actor = audit.Actor(label="crm jobs", at=now)
    for ticket in stale:
        await move(
            session,
            None,
            ticket,
            "CLOSED",
            None,
            now,
            note=f"closed automatically: no confirmation within {days} days",
            internal=False,
            actor=actor,
        )
        await call_in_turn(
            pm.hook.crm_ticket_status_changed,
            session=session,
            ticket=ticket,
            from_status="RESOLVED",
            to_status="CLOSED",
            context=None,
        )
        await call_in_turn(pm.hook.crm_ticket_closed, session=session, ticket=ticket, context=None)
    return len(stale)
