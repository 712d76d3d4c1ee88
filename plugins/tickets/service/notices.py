"""Whom the tickets plugin tells, and of what: the new assignee of an assigned or transferred
ticket (and the previous one on a transfer), the assignee of an escalated ticket.

Nobody is told of what they did themselves. Each notice is written in the transaction of
the change (``notify``), so a change that rolls back tells nobody.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import NotificationKind, RequestContext, notify, translator
from plugins.tickets.models import Ticket

_ = translator(__name__)

ASSIGNED = "ticket.assigned"
TRANSFERRED = "ticket.transferred"
ESCALATED = "ticket.escalated"

KINDS: Mapping[str, NotificationKind] = {
    ASSIGNED: NotificationKind(_("A ticket was assigned to you"), email=True),
    TRANSFERRED: NotificationKind(_("A ticket of yours was transferred"), email=True),
    ESCALATED: NotificationKind(_("A ticket of yours was escalated"), email=True),
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
