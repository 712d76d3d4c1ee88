"""Who works a ticket: routing rules for new tickets, assignment and transfer
(``tickets:assign``), and escalation of its priority."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import (
    Check,
    RequestContext,
    Scope,
    Team,
    User,
    UserErrorCode,
    actor_of,
    audit,
    global_id,
    not_found,
    require,
    require_version,
    translator,
    users_with_permission,
)
from plugins.tickets import webhooks
from plugins.tickets.domain import OPEN_STATUSES, PRIORITY_ORDER
from plugins.tickets.models import RoutingRule, Ticket
from plugins.tickets.service import notices
from plugins.tickets.service.common import _event, _not_found, writable_ticket
from plugins.tickets.service.sla import refresh_sla_due

_ = translator(__name__)


async def _route(session: AsyncSession, ticket_type: str) -> int | None:
    """The assignee a routing rule picks for a new ticket of ``ticket_type``, if any."""
    rule = await session.scalar(
        select(RoutingRule).where(RoutingRule.type == ticket_type).with_for_update()
    )
    if rule is None:
        return None
    pool = select(User.id).where(User.is_active.is_(True))
    if rule.team_id is not None:
        pool = pool.where(User.team_id == rule.team_id)
    else:
        pool = pool.where(User.id.in_(rule.user_ids or [-1]))
    candidates = sorted((await session.scalars(pool)).all())
    if not candidates:
        return None
    if rule.strategy == "LEAST_OPEN":
        counts = dict(
            (
                await session.execute(
                    select(Ticket.assignee_id, func.count())
                    .where(Ticket.assignee_id.in_(candidates), Ticket.status.in_(OPEN_STATUSES))
                    .group_by(Ticket.assignee_id)
                )
            ).all()
        )
        chosen = min(candidates, key=lambda user_id: (counts.get(user_id, 0), user_id))
    else:  # ROUND_ROBIN: the next after the last one picked, in id order
        later = [
            user_id
            for user_id in candidates
            if rule.last_user_id is None or user_id > rule.last_user_id
        ]
        chosen = later[0] if later else candidates[0]
    rule.last_user_id = chosen
    return chosen


async def assignable_users(session: AsyncSession, context: RequestContext) -> ColumnElement[bool]:
    """The condition on users for whom the caller may assign tickets: active, and within the
    scope of the caller's ``tickets:assign`` (ALL: anyone; TEAM: the team; OWN: themselves)
    or on the support desk: holding ``tickets:handle`` at ALL scope, or at TEAM scope in the
    caller's team."""
    caller = require(context, "tickets:assign")
    scope = caller.scope("tickets:assign")
    active = User.is_active.is_(True)
    if scope is Scope.ALL:
        return active
    assert scope is not None
    desk = await users_with_permission(
        session, context.pm, "tickets:handle", team_id=caller.team_id
    )
    return and_(active, or_(User.id.in_(context.owner_ids(scope)), User.id.in_(desk)))


async def _assignee_in_reach(
    session: AsyncSession, context: RequestContext, user_id: int | None, field: str
) -> None:
    if user_id is None:
        return
    condition = await assignable_users(session, context)
    if await session.scalar(select(User.id).where(User.id == user_id, condition)) is None:
        raise not_found(f"input.{field}", _("must be an active user you may assign tickets to"))


async def assignable_ticket(
    session: AsyncSession, context: RequestContext, ticket_id: int | None
) -> Ticket:
    """The ticket to assign, locked: one within the scope of the caller's
    ``tickets:assign``, or an unassigned one the caller may read (the queue)."""
    require(context, "tickets:assign")
    ticket = None
    if ticket_id is not None:
        queue = and_(Ticket.assignee_id.is_(None), context.visible("tickets:read"))
        ticket = await session.scalar(
            select(Ticket)
            .where(Ticket.id == ticket_id, or_(context.visible("tickets:assign"), queue))
            .with_for_update()
        )
    if ticket is None:
        raise _not_found()
    return ticket


async def assign(
    session: AsyncSession,
    context: RequestContext,
    ticket_id: int | None,
    version: int,
    assignee_id: int | None,
    reason: str | None,
    *,
    kind: str,
) -> Ticket:
    """Assign (``kind`` ASSIGNED) or transfer with a reason (``kind`` TRANSFERRED)."""
    caller = require(context, "tickets:assign")
    ticket = await assignable_ticket(session, context, ticket_id)
    require_version(ticket, version)
    check = Check()
    if ticket.status == "CLOSED":
        check.fail("id", _("a closed ticket cannot be reassigned"), UserErrorCode.BUSINESS_RULE)
    cleaned_reason = check.text("reason", reason, max_length=2000, required=kind == "TRANSFERRED")
    if kind == "TRANSFERRED":
        if assignee_id is None:
            check.fail("assigneeId", _("is required"), UserErrorCode.REQUIRED)
        elif assignee_id == ticket.assignee_id:
            check.fail(
                "assigneeId",
                _("the ticket is already assigned to this user"),
                UserErrorCode.INVALID,
            )
    await _assignee_in_reach(session, context, assignee_id, "assigneeId")
    check.done()
    now = context.now()
    before = ticket.assignee_id
    ticket.assignee_id = assignee_id
    ticket.updated_at = now
    await session.flush()
    _event(
        session,
        ticket,
        kind,
        caller.user_id,
        now,
        note=cleaned_reason,
        data={"from": global_id("User", before), "to": global_id("User", assignee_id)},
    )
    audit.record(
        session,
        actor_of(context),
        f"ticket.{kind.lower()}",
        "Ticket",
        ticket.id,
        audit.diff(
            {"assigneeId": global_id("User", before)},
            {"assigneeId": global_id("User", assignee_id)},
        ),
    )
    await notices.assigned(session, context, ticket, before, kind, cleaned_reason)
    await webhooks.assigned(session, ticket, before, kind, now)
    return ticket


async def escalate(
    session: AsyncSession,
    context: RequestContext,
    ticket_id: int | None,
    version: int,
    priority: str,
    reason: str,
) -> Ticket:
    caller = require(context, "tickets:write")
    ticket = await writable_ticket(session, context, ticket_id)
    require_version(ticket, version)
    check = Check()
    cleaned_reason = check.text("reason", reason, max_length=2000)
    if ticket.status == "CLOSED":
        check.fail("id", _("a closed ticket cannot be escalated"), UserErrorCode.BUSINESS_RULE)
    if PRIORITY_ORDER.index(priority) <= PRIORITY_ORDER.index(ticket.priority):
        check.fail(
            "priority",
            _("must be higher than {priority}", priority=ticket.priority),
            UserErrorCode.INVALID,
        )
    check.done()
    now = context.now()
    before = ticket.priority
    ticket.priority = priority
    ticket.updated_at = now
    await refresh_sla_due(session, [ticket])
    await session.flush()
    _event(
        session,
        ticket,
        "ESCALATED",
        caller.user_id,
        now,
        note=cleaned_reason,
        data={"from": before, "to": priority},
    )
    audit.record(
        session,
        actor_of(context),
        "ticket.escalated",
        "Ticket",
        ticket.id,
        audit.diff({"priority": before}, {"priority": priority}),
    )
    await notices.escalated(session, context, ticket, before, cleaned_reason or reason)
    return ticket


async def set_routing_rule(
    session: AsyncSession,
    context: RequestContext,
    ticket_type: str,
    strategy: str | None,
    team_id: int | None,
    user_ids: Sequence[int],
) -> RoutingRule | None:
    """Set (or, with no strategy, remove) the rule of a ticket type."""
    require(context, "tickets:manage")
    row = await session.get(RoutingRule, ticket_type, with_for_update=True)
    actor = actor_of(context)
    if strategy is None:
        if row is not None:
            await session.delete(row)
            await session.flush()
            audit.record(session, actor, "ticket_routing.removed", "RoutingRule", ticket_type)
        return None
    check = Check()
    if (team_id is None) == (not user_ids):
        check.fail("teamId", _("give either a team or a list of users"), UserErrorCode.INVALID)
    elif team_id is not None and await session.get(Team, team_id) is None:
        raise not_found("input.teamId", _("no team has this id"))
    if user_ids:
        found = set((await session.scalars(select(User.id).where(User.id.in_(user_ids)))).all())
        for index, user_id in enumerate(user_ids):
            if user_id not in found:
                raise not_found(f"input.userIds.{index}", _("no user has this id"))
    check.done()
    if row is None:
        row = RoutingRule(type=ticket_type)
        session.add(row)
    row.strategy, row.team_id, row.user_ids = strategy, team_id, list(user_ids)
    row.updated_at = context.now()
    await session.flush()
    audit.record(
        session,
        actor,
        "ticket_routing.set",
        "RoutingRule",
        ticket_type,
        {
            "strategy": strategy,
            "teamId": global_id("Team", team_id),
            "userIds": [global_id("User", u) for u in user_ids],
        },
    )
    return row
