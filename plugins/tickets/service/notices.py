"""Whom the tickets plugin tells, and of what: the new assignee of an assigned or transferred
ticket (and the previous one on a transfer), the assignee of an escalated ticket, and, when
a ticket's SLA is at risk or breached, its assignee and those who manage tickets for the
assignee's team (``tickets:manage`` at TEAM scope in that team, or at ALL scope).

Nobody is told of what they did themselves. Each notice is written in the transaction of
the change (``notify``), so a change that rolls back tells nobody.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import (
    Environment,
    NotificationKind,
    RequestContext,
    User,
    notify,
    translator,
    users_with_permission,
)
from plugins.tickets.domain import OPEN_STATUSES
from plugins.tickets.models import Ticket

_ = translator(__name__)

ASSIGNED = "ticket.assigned"
TRANSFERRED = "ticket.transferred"
ESCALATED = "ticket.escalated"
BATCH = 200
"""Tickets the SLA watch marks and tells about in one transaction."""
SLA_AT_RISK = "ticket.sla_at_risk"
SLA_BREACHED = "ticket.sla_breached"
SURVEY_ANSWERED = "ticket.survey_answered"

KINDS: Mapping[str, NotificationKind] = {
    ASSIGNED: NotificationKind(_("A ticket was assigned to you"), email=True),
    TRANSFERRED: NotificationKind(_("A ticket of yours was transferred"), email=True),
    ESCALATED: NotificationKind(_("A ticket of yours was escalated"), email=True),
    SLA_AT_RISK: NotificationKind(_("A ticket's SLA is about to be missed"), email=True),
    SLA_BREACHED: NotificationKind(_("A ticket's SLA was missed"), email=True),
    SURVEY_ANSWERED: NotificationKind(
        _("The customer answered the satisfaction survey of a ticket of yours"), email=True
    ),
}


def _others(context: RequestContext, *user_ids: int | None) -> list[int | None]:
    actor = context.caller.user_id if context.caller is not None else None
    return [user_id for user_id in user_ids if user_id != actor]


async def assigned(
    session: AsyncSession,
    context: RequestContext,
    ticket: Ticket,
    before: int | None,
    kind: str,
    reason: str | None,
) -> None:
    """``kind`` ASSIGNED or TRANSFERRED, from ``before`` to the ticket's assignee now."""
    subject = ("Ticket", ticket.id)
    now = context.now()
    body = reason or ""
    if ticket.assignee_id is not None:
        await notify(
            session,
            context,
            user_ids=_others(context, ticket.assignee_id),
            kind=ASSIGNED,
            title=_(
                "Ticket {number} was assigned to you: {title}",
                number=ticket.number,
                title=ticket.subject,
            ),
            body=body,
            subject=subject,
            now=now,
        )
    if kind == "TRANSFERRED" and before is not None:
        await notify(
            session,
            context,
            user_ids=_others(context, before),
            kind=TRANSFERRED,
            title=_(
                "Ticket {number} was transferred to a colleague: {title}",
                number=ticket.number,
                title=ticket.subject,
            ),
            body=body,
            subject=subject,
            now=now,
        )


async def escalated(
    session: AsyncSession, context: RequestContext, ticket: Ticket, before: str, reason: str
) -> None:
    await notify(
        session,
        context,
        user_ids=_others(context, ticket.assignee_id),
        kind=ESCALATED,
        title=_(
            "Ticket {number} was escalated from {before} to {after}: {title}",
            number=ticket.number,
            before=before,
            after=ticket.priority,
            title=ticket.subject,
        ),
        body=reason,
        subject=("Ticket", ticket.id),
        now=context.now(),
    )


def _untold(column: Any) -> Any:
    return or_(column.is_(None), column != Ticket.sla_due_at)


async def watch_sla(
    session: AsyncSession, env: Environment, now: dt.datetime, risk: dt.timedelta
) -> tuple[int, int]:
    """Tell the people of open tickets whose SLA is at risk (due within ``risk``) or
    breached, once per due time: each ticket is marked told in the same transaction, by a
    conditional update, so two workers tell once. How many (at risk, breached)."""
    returned = (Ticket.id, Ticket.number, Ticket.subject, Ticket.assignee_id, Ticket.sla_due_at)
    open_with_due = (Ticket.status.in_(OPEN_STATUSES), Ticket.sla_due_at.is_not(None))

    async def mark(conditions: tuple[Any, ...], **told: Any) -> list[Any]:
        """Mark at most :data:`BATCH` tickets told, returning them (a conditional update:
        a ticket another worker marked meanwhile is not returned)."""
        ids = select(Ticket.id).where(*conditions).order_by(Ticket.id).limit(BATCH)
        found = list((await session.scalars(ids)).all())
        if not found:
            return []
        return list(
            (
                await session.execute(
                    update(Ticket)
                    .where(Ticket.id.in_(found), *conditions)
                    .values(**told)
                    .returning(*returned)
                    .execution_options(synchronize_session=False)
                )
            ).all()
        )

    breached = await mark(
        (*open_with_due, Ticket.sla_due_at <= now, _untold(Ticket.sla_breach_told_for)),
        sla_breach_told_for=Ticket.sla_due_at,
        sla_risk_told_for=Ticket.sla_due_at,
    )
    at_risk = await mark(
        (
            *open_with_due,
            Ticket.sla_due_at > now,
            Ticket.sla_due_at <= now + risk,
            _untold(Ticket.sla_risk_told_for),
        ),
        sla_risk_told_for=Ticket.sla_due_at,
    )
    people = _People(session, env)
    for kind, rows in ((SLA_BREACHED, breached), (SLA_AT_RISK, at_risk)):
        for ticket_id, number, subject, assignee_id, due in rows:
            title = (
                _("SLA missed on ticket {number}: {title}", number=number, title=subject)
                if kind == SLA_BREACHED
                else _("SLA at risk on ticket {number}: {title}", number=number, title=subject)
            )
            await notify(
                session,
                env,
                user_ids=[assignee_id, *await people.managers_of(assignee_id)],
                kind=kind,
                title=title,
                body=_("Due {due}.", due=due),
                subject=("Ticket", ticket_id),
                now=now,
                dedupe_key=f"{kind}:{ticket_id}:{due}",
            )
    return len(at_risk), len(breached)


class _People:
    """Those who manage tickets for an assignee's team, looked up once per team."""

    def __init__(self, session: AsyncSession, env: Environment) -> None:
        self.session = session
        self.env = env
        self.by_team: dict[int | None, list[int]] = {}

    async def managers_of(self, assignee_id: int | None) -> list[int]:
        team_id = None
        if assignee_id is not None:
            team_id = await self.session.scalar(select(User.team_id).where(User.id == assignee_id))
        if team_id not in self.by_team:
            # Those who manage tickets there, and who may read them (the notice names one).
            pm = self.env.pm
            managing = await users_with_permission(
                self.session, pm, "tickets:manage", team_id=team_id
            )
            reading = set(
                await users_with_permission(self.session, pm, "tickets:read", team_id=team_id)
            )
            self.by_team[team_id] = [user for user in managing if user in reading]
        return self.by_team[team_id]
