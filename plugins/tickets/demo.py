"""Demo tickets for ``crm demo``: about half as many as ``size``, spread over the demo
customers, in every status, assigned to support representatives."""

from __future__ import annotations

import datetime as dt
import random

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import (
    SUPPORT_REPRESENTATIVE,
    Role,
    User,
    UserRole,
    bulk_insert,
    format_number,
    next_values,
)
from core.plugin_api import Customer as CustomerRow
from plugins.tickets import models, service


async def load(session: AsyncSession, size: int) -> None:
    rng = random.Random(20261124)
    now = dt.datetime.now(dt.UTC)
    customers = list(
        (await session.scalars(select(CustomerRow.id).order_by(CustomerRow.id).limit(size))).all()
    )
    agents = list(
        (
            await session.scalars(
                select(User.id)
                .join(UserRole, UserRole.user_id == User.id)
                .join(Role, Role.id == UserRole.role_id)
                .where(Role.key == SUPPORT_REPRESENTATIVE)
            )
        ).all()
    )
    subjects = [
        ("FAULT", "Device does not start after update"),
        ("FAULT", "Invoice PDF cannot be opened"),
        ("CONSULTATION", "How to export monthly reports?"),
        ("COMPLAINT", "Delivery arrived two weeks late"),
        ("SUGGESTION", "Please add a dark mode"),
        ("OTHER", "Change of billing address"),
    ]
    rows = []
    for customer_id in customers[:: max(1, len(customers) // max(1, size // 2))]:
        ticket_type, subject = rng.choice(subjects)
        opened = now - dt.timedelta(hours=rng.randint(1, 24 * 60))
        status = rng.choice(["NEW", "ACKNOWLEDGED", "IN_PROGRESS", "WAITING", "RESOLVED", "CLOSED"])
        # Times after opening, never in the future (a ticket opened an hour ago).
        responded = (
            min(opened + dt.timedelta(minutes=rng.randint(5, 300)), now)
            if status != "NEW"
            else None
        )
        resolved = (
            min(responded + dt.timedelta(hours=rng.randint(1, 100)), now)
            if responded and status in ("RESOLVED", "CLOSED")
            else None
        )
        rows.append(
            {
                "customer_id": customer_id,
                "type": ticket_type,
                "subject": subject,
                "description": "",
                "priority": rng.choice(["URGENT", "HIGH", "MEDIUM", "MEDIUM", "LOW"]),
                "status": status,
                "assignee_id": rng.choice(agents) if agents and status != "NEW" else None,
                "reopen_count": 0,
                "first_responded_at": responded,
                "resolved_at": resolved,
                "closed_at": resolved if status == "CLOSED" else None,
                "waiting_since": (
                    max(now - dt.timedelta(hours=2), responded or opened)
                    if status == "WAITING"
                    else None
                ),
                "paused_seconds": 0.0,
                "created_at": opened,
                "updated_at": resolved or responded or opened,
                "version": 1,
            }
        )
    numbers = await next_values(session, service.COUNTER, len(rows))
    for row, value in zip(rows, numbers, strict=True):
        row["number"] = format_number(service.NUMBER_PREFIX, value)
    await bulk_insert(session, models.Ticket, rows)
    await service.refresh_open_sla_due(session)
    # History: the people of tickets whose SLA was missed before the demo began were told then.
    ticket = models.Ticket
    await session.execute(
        update(ticket)
        .where(ticket.sla_due_at < now)
        .values(sla_risk_told_for=ticket.sla_due_at, sla_breach_told_for=ticket.sla_due_at)
    )
