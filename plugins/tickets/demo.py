"""Demo tickets for ``crm demo``: a Support team of two support representatives (core's
support user and a second one, ``helpdesk@demo.example`` with the demo password), routing
rules that hand new tickets of every type to that team in turn, and about half as many
tickets as ``size``, spread over the demo customers, in every status, assigned to the
support representatives."""

from __future__ import annotations

import datetime as dt
import random

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import (
    SUPPORT_REPRESENTATIVE,
    Actor,
    Role,
    Team,
    User,
    UserRole,
    audit,
    bulk_insert,
    format_number,
    next_values,
)
from core.plugin_api import Customer as CustomerRow
from plugins.tickets import models, service

DEMO_ACTOR = Actor(label="crm demo")
SUPPORT_TEAM = "Support"
SECOND_AGENT = ("helpdesk@demo.example", "Harley Helpdesk")
"""The second support representative (not named "support": core's support user is the one
a search for it finds)."""
ROUTING = {
    "FAULT": "ROUND_ROBIN",
    "CONSULTATION": "ROUND_ROBIN",
    "COMPLAINT": "LEAST_OPEN",
    "SUGGESTION": "ROUND_ROBIN",
    "OTHER": "ROUND_ROBIN",
}
"""The demo's routing rules: every type to the Support team; complaints to whoever of it
has the fewest open tickets, the rest in turn."""


async def _support_desk(session: AsyncSession, now: dt.datetime) -> None:
    """The Support team, a second support representative (signing in with the password of
    core's support user), both support representatives in the team if they have none, and
    the routing rules; what exists already is kept."""
    team = await session.scalar(select(Team).where(Team.name_key == SUPPORT_TEAM.lower()))
    if team is None:
        team = Team(
            name=SUPPORT_TEAM, name_key=SUPPORT_TEAM.lower(), created_at=now, updated_at=now
        )
        session.add(team)
        await session.flush()
        audit.record(
            session,
            DEMO_ACTOR,
            "team.created",
            "Team",
            team.id,
            audit.created({"name": SUPPORT_TEAM}),
        )
    role = await session.scalar(select(Role).where(Role.key == SUPPORT_REPRESENTATIVE))
    agents = (
        await session.scalars(
            select(User)
            .join(UserRole, UserRole.user_id == User.id)
            .where(UserRole.role_id == (role.id if role else -1))
            .order_by(User.id)
        )
    ).all()
    email, name = SECOND_AGENT
    if role is not None and agents and all(agent.email != email for agent in agents):
        user = User(
            email=email,
            name=name,
            password_hash=agents[0].password_hash,
            team_id=team.id,
            created_at=now,
            updated_at=now,
        )
        session.add(user)
        await session.flush()
        session.add(UserRole(user_id=user.id, role_id=role.id))
        audit.record(
            session,
            DEMO_ACTOR,
            "user.created",
            "User",
            user.id,
            audit.created({"email": email, "name": name, "roles": [SUPPORT_REPRESENTATIVE]}),
        )
    for agent in agents:
        if agent.team_id is None:
            agent.team_id = team.id
    existing = set((await session.scalars(select(models.RoutingRule.type))).all())
    for ticket_type, strategy in ROUTING.items():
        if ticket_type not in existing:
            session.add(
                models.RoutingRule(
                    type=ticket_type,
                    strategy=strategy,
                    team_id=team.id,
                    user_ids=[],
                    updated_at=now,
                )
            )
    await session.flush()


async def load(session: AsyncSession, size: int) -> None:
    rng = random.Random(20261124)
    now = dt.datetime.now(dt.UTC)
    await _support_desk(session, now)
    customers = list(
        (
            await session.execute(
                select(CustomerRow.id, CustomerRow.grade).order_by(CustomerRow.id).limit(size)
            )
        ).all()
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
    for customer_id, grade in customers[:: max(1, len(customers) // max(1, size // 2))]:
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
                "sla_grade": grade,
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
