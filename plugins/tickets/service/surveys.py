"""The customer's answer to the satisfaction survey of a resolved ticket (the surveys
plugin's ``crm_survey_response_submitted``, implemented as an optional hook).

This plugin does not import the surveys plugin: the response is read by the attributes its
hook documents (``id``, ``subject_kind``, ``subject_id``, ``satisfied``, ``comment``).

The answer goes on the ticket's timeline as the customer's CONFIRMATION, with the comment
as its public note. A ticket still RESOLVED is closed when the customer is satisfied and
reopened (IN_PROGRESS, a second round) when not, by the customer through the survey as the
audit trail says. A ticket that has moved on meanwhile (closed by staff, reopened) only
gets the timeline event. Either way its assignee is told.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import Actor, RequestContext, global_id, notify, translator
from plugins.tickets.models import Ticket
from plugins.tickets.service import notices
from plugins.tickets.service.common import _event
from plugins.tickets.service.lifecycle import move

_ = translator(__name__)

SUBJECT_KIND = "TICKET"
ACTOR_LABEL = "customer (satisfaction survey)"
"""Who the audit trail says moved the ticket."""


async def survey_answered(
    session: AsyncSession, response: Any, context: RequestContext | None
) -> Ticket | None:
    """Record the customer's answer on its ticket, closing or reopening it; the ticket, or
    ``None`` when the response is about no ticket (or one that is gone)."""
    satisfied = getattr(response, "satisfied", None)
    if getattr(response, "subject_kind", None) != SUBJECT_KIND or satisfied is None:
        return None
    ticket_id = getattr(response, "subject_id", None)
    if ticket_id is None:
        return None
    # Locked, and read afresh even if this session holds the ticket already: a copy read
    # before the lock may be stale (staff closed or reopened it meanwhile).
    ticket = await session.scalar(
        select(Ticket)
        .where(Ticket.id == ticket_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if ticket is None:
        return None
    now = response.submitted_at
    comment: str | None = response.comment or None
    _event(
        session,
        ticket,
        "CONFIRMATION",
        None,
        now,
        note=comment,
        internal=False,
        data={
            "satisfied": bool(satisfied),
            "surveyResponseId": global_id("SurveyResponse", response.id),
        },
    )
    was = ticket.status
    if was == "RESOLVED":
        actor = Actor(
            label=ACTOR_LABEL,
            client_address=context.client_address if context is not None else None,
            request_id=context.request_id if context is not None else None,
            at=now,
        )
        target = "CLOSED" if satisfied else "IN_PROGRESS"
        await move(
            session, context, ticket, target, None, now, note=comment, internal=False, actor=actor
        )
    else:
        await session.flush()
    if context is not None:
        await _tell_assignee(session, context, ticket, bool(satisfied), was, comment)
    return ticket


async def _tell_assignee(
    session: AsyncSession,
    context: RequestContext,
    ticket: Ticket,
    satisfied: bool,
    was: str,
    comment: str | None,
) -> None:
    if was != "RESOLVED":
        title = (
            _(
                "The customer answered the survey of ticket {number}: satisfied (the ticket "
                "is {status})",
                number=ticket.number,
                status=ticket.status,
            )
            if satisfied
            else _(
                "The customer answered the survey of ticket {number}: not satisfied (the "
                "ticket is {status})",
                number=ticket.number,
                status=ticket.status,
            )
        )
    elif satisfied:
        title = _(
            "The customer is satisfied with ticket {number}; it was closed: {title}",
            number=ticket.number,
            title=ticket.subject,
        )
    else:
        title = _(
            "The customer is not satisfied with ticket {number}; it was reopened: {title}",
            number=ticket.number,
            title=ticket.subject,
        )
    await notify(
        session,
        context,
        user_ids=[ticket.assignee_id],
        kind=notices.SURVEY_ANSWERED,
        title=title,
        body=comment or "",
        subject=("Ticket", ticket.id),
        now=context.now(),
    )
