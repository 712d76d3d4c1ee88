"""Ticket changes: the state machine, notes, routing, assignment, SLA settings.

Every change runs in the caller's transaction, checks the caller's scope (``tickets:write``
for work on a ticket, ``tickets:assign`` to assign or transfer, ``tickets:manage`` for SLA
policies, business hours and routing rules), writes an event on the ticket's timeline and
an audit event, and announces itself through the plugin's hooks.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import (
    ERASED,
    Check,
    Contact,
    Customer,
    RequestContext,
    Scope,
    Team,
    User,
    UserErrorCode,
    UserErrors,
    actor_of,
    audit,
    call_in_turn,
    format_number,
    global_id,
    next_value,
    require,
    require_version,
)
from plugins.tickets.calendar import AlwaysOpen, BusinessCalendar, Calendar
from plugins.tickets.domain import DEFAULT_SLA, OPEN_STATUSES, PRIORITY_ORDER, can_move
from plugins.tickets.models import BusinessHours, RoutingRule, SlaPolicy, Ticket, TicketEvent

COUNTER = "ticket"
NUMBER_PREFIX = "T"


def _not_found(field: str = "id", what: str = "ticket") -> UserErrors:
    return UserErrors.single(
        field, f"no {what} with this id that you may change", UserErrorCode.NOT_FOUND
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


async def sla_targets(session: AsyncSession) -> dict[str, tuple[int, int]]:
    targets = dict(DEFAULT_SLA)
    for row in (await session.scalars(select(SlaPolicy))).all():
        targets[row.priority] = (row.first_response_minutes, row.resolution_minutes)
    return targets


async def calendar(session: AsyncSession) -> Calendar:
    row = await session.get(BusinessHours, 1)
    if row is None:
        return AlwaysOpen()
    return BusinessCalendar(
        time_zone=row.time_zone,
        weekdays=frozenset(row.weekdays),
        start=dt.time.fromisoformat(row.start_time),
        end=dt.time.fromisoformat(row.end_time),
        holidays=frozenset(dt.date.fromisoformat(d) for d in row.holidays),
    )


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


async def open_ticket(
    session: AsyncSession,
    context: RequestContext,
    customer_id: int | None,
    contact_id: int | None,
    ticket_type: str,
    subject: str,
    description: str | None,
    priority: str,
    expected_resolution_at: dt.datetime | None,
) -> Ticket:
    caller = require(context, "tickets:write")
    now = context.now()
    check = Check()
    customer = None
    if customer_id is not None:
        customer = await session.scalar(
            select(Customer).where(
                Customer.id == customer_id,
                Customer.archived_at.is_(None),
                context.visible("customers:read", "customers"),
            )
        )
    if customer is None:
        check.fail(
            "customerId",
            "no active customer with this id is visible to you",
            UserErrorCode.NOT_FOUND,
        )
    if (
        contact_id is not None
        and customer is not None
        and await session.scalar(
            select(Contact.id).where(Contact.id == contact_id, Contact.customer_id == customer.id)
        )
        is None
    ):
        check.fail("contactId", "is not a contact of this customer", UserErrorCode.INVALID)
    cleaned_subject = check.text("subject", subject, max_length=200)
    cleaned_description = check.text("description", description, max_length=20_000, required=False)
    if expected_resolution_at is not None and expected_resolution_at <= now:
        check.fail("expectedResolutionAt", "must be in the future", UserErrorCode.OUT_OF_RANGE)
    check.done()
    assert customer is not None
    number = format_number(NUMBER_PREFIX, await next_value(session, COUNTER))
    ticket = Ticket(
        number=number,
        customer_id=customer.id,
        contact_id=contact_id,
        type=ticket_type,
        subject=cleaned_subject,
        description=cleaned_description or "",
        priority=priority,
        status="NEW",
        expected_resolution_at=expected_resolution_at,
        created_at=now,
        updated_at=now,
    )
    ticket.assignee_id = await _route(session, ticket_type)
    session.add(ticket)
    await session.flush()
    _event(
        session,
        ticket,
        "OPENED",
        caller.user_id,
        now,
        to_status="NEW",
        data={"assigneeId": global_id("User", ticket.assignee_id)} if ticket.assignee_id else None,
    )
    audit.record(
        session,
        actor_of(context),
        "ticket.opened",
        "Ticket",
        ticket.id,
        audit.created(
            {
                "number": number,
                "customerId": global_id("Customer", customer.id),
                "type": ticket_type,
                "priority": priority,
                "subject": cleaned_subject,
                "assigneeId": global_id("User", ticket.assignee_id),
            }
        ),
    )
    await call_in_turn(
        _hook(context).crm_ticket_opened, session=session, ticket=ticket, context=context
    )
    return ticket


async def move(
    session: AsyncSession,
    context: RequestContext | None,
    ticket: Ticket,
    target: str,
    actor_id: int | None,
    now: dt.datetime,
    *,
    note: str | None = None,
    internal: bool = True,
    actor: audit.Actor | None = None,
) -> Ticket:
    """Move ``ticket`` to ``target`` if the state machine allows it; keep the SLA clock."""
    current = ticket.status
    if not can_move(current, target):
        raise UserErrors.single(
            "id", f"a ticket cannot go from {current} to {target}", UserErrorCode.INVALID_TRANSITION
        )
    if current == "WAITING" and ticket.waiting_since is not None:
        cal = await calendar(session)
        ticket.paused_seconds = (ticket.paused_seconds or 0.0) + cal.between(
            ticket.waiting_since, now
        )
        ticket.waiting_since = None
    if target == "WAITING":
        ticket.waiting_since = now
    if target in ("ACKNOWLEDGED", "IN_PROGRESS", "RESOLVED") and ticket.first_responded_at is None:
        ticket.first_responded_at = now
    reopened = current == "RESOLVED" and target == "IN_PROGRESS"
    if target == "RESOLVED":
        ticket.resolved_at = now
    if reopened:
        ticket.reopen_count += 1
        ticket.resolved_at = None
    if target == "CLOSED":
        ticket.closed_at = now
    ticket.status = target
    ticket.updated_at = now
    await session.flush()
    _event(
        session,
        ticket,
        "STATUS",
        actor_id,
        now,
        from_status=current,
        to_status=target,
        note=note,
        internal=internal,
    )
    audit.record(
        session,
        actor or (actor_of(context) if context else audit.SYSTEM),
        "ticket.status_changed",
        "Ticket",
        ticket.id,
        audit.diff({"status": current}, {"status": target}),
    )
    pm_hook = context.pm.hook if context is not None else None
    if pm_hook is not None:
        await _announce(pm_hook, session, ticket, current, target, reopened, context)
    return ticket


async def _announce(
    hook: Any,
    session: AsyncSession,
    ticket: Ticket,
    current: str,
    target: str,
    reopened: bool,
    context: RequestContext | None,
) -> None:
    await call_in_turn(
        hook.crm_ticket_status_changed,
        session=session,
        ticket=ticket,
        from_status=current,
        to_status=target,
        context=context,
    )
    if target == "RESOLVED":
        await call_in_turn(
            hook.crm_ticket_resolved, session=session, ticket=ticket, context=context
        )
    elif target == "CLOSED":
        await call_in_turn(hook.crm_ticket_closed, session=session, ticket=ticket, context=context)
    elif reopened:
        await call_in_turn(
            hook.crm_ticket_reopened, session=session, ticket=ticket, context=context
        )


async def transition(
    session: AsyncSession,
    context: RequestContext,
    ticket_id: int | None,
    version: int,
    target: str,
    note: str | None = None,
    internal: bool = True,
    resolution: str | None = None,
    reopening: bool = False,
) -> Ticket:
    """Move a ticket to ``target``; ``reopening`` (also to IN_PROGRESS) starts from RESOLVED
    only."""
    caller = require(context, "tickets:write")
    ticket = await writable_ticket(session, context, ticket_id)
    require_version(ticket.version, version)
    if reopening and ticket.status != "RESOLVED":
        raise UserErrors.single(
            "id",
            f"only a RESOLVED ticket can be reopened (this one is {ticket.status})",
            UserErrorCode.INVALID_TRANSITION,
        )
    if not reopening and target == "IN_PROGRESS" and ticket.status == "RESOLVED":
        raise UserErrors.single(
            "id",
            "a ticket cannot go from RESOLVED to IN_PROGRESS by starting work; reopen it "
            "(reopenTicket) or let the customer decline the resolution",
            UserErrorCode.INVALID_TRANSITION,
        )
    check = Check()
    cleaned_note = check.text("note", note, max_length=20_000, required=False)
    if target == "RESOLVED":
        ticket.resolution = check.text("resolution", resolution, max_length=20_000)
    check.done()
    return await move(
        session,
        context,
        ticket,
        target,
        caller.user_id,
        context.now(),
        note=cleaned_note,
        internal=internal,
    )


async def add_note(
    session: AsyncSession, context: RequestContext, ticket_id: int | None, note: str, internal: bool
) -> Ticket:
    caller = require(context, "tickets:write")
    ticket = await writable_ticket(session, context, ticket_id)
    check = Check()
    cleaned = check.text("note", note, max_length=20_000)
    check.done()
    now = context.now()
    if not internal and ticket.first_responded_at is None:
        ticket.first_responded_at = now  # a reply the customer sees is a first response
    ticket.updated_at = now
    await session.flush()
    _event(session, ticket, "NOTE", caller.user_id, now, note=cleaned, internal=internal)
    audit.record(
        session, actor_of(context), "ticket.note_added", "Ticket", ticket.id, {"internal": internal}
    )
    return ticket


async def _assignee_in_reach(
    session: AsyncSession, context: RequestContext, check: Check, user_id: int | None, field: str
) -> None:
    if user_id is None:
        return
    caller = require(context, "tickets:assign")
    scope = caller.scope("tickets:assign")
    statement = select(User.id).where(User.id == user_id, User.is_active.is_(True))
    if scope is not None and scope is not Scope.ALL:
        statement = statement.where(User.id.in_(context.owner_ids(scope)))
    if await session.scalar(statement) is None:
        check.fail(
            field, "must be an active user you may assign tickets to", UserErrorCode.NOT_FOUND
        )


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
    ticket = await writable_ticket(session, context, ticket_id, "tickets:assign")
    require_version(ticket.version, version)
    check = Check()
    if ticket.status == "CLOSED":
        check.fail("id", "a closed ticket cannot be reassigned", UserErrorCode.BUSINESS_RULE)
    cleaned_reason = check.text("reason", reason, max_length=2000, required=kind == "TRANSFERRED")
    if kind == "TRANSFERRED":
        if assignee_id is None:
            check.fail("assigneeId", "is required", UserErrorCode.REQUIRED)
        elif assignee_id == ticket.assignee_id:
            check.fail(
                "assigneeId", "the ticket is already assigned to this user", UserErrorCode.INVALID
            )
    await _assignee_in_reach(session, context, check, assignee_id, "assigneeId")
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
    require_version(ticket.version, version)
    check = Check()
    cleaned_reason = check.text("reason", reason, max_length=2000)
    if ticket.status == "CLOSED":
        check.fail("id", "a closed ticket cannot be escalated", UserErrorCode.BUSINESS_RULE)
    if PRIORITY_ORDER.index(priority) <= PRIORITY_ORDER.index(ticket.priority):
        check.fail("priority", f"must be higher than {ticket.priority}", UserErrorCode.INVALID)
    check.done()
    now = context.now()
    before = ticket.priority
    ticket.priority = priority
    ticket.updated_at = now
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
    return ticket


async def confirm_resolution(
    session: AsyncSession,
    context: RequestContext,
    ticket_id: int | None,
    satisfied: bool,
    comment: str | None,
) -> Ticket:
    """The customer's answer: satisfied closes the ticket, not satisfied reopens it."""
    caller = require(context, "tickets:write")
    ticket = await writable_ticket(session, context, ticket_id)
    check = Check()
    cleaned = check.text("comment", comment, max_length=5000, required=False)
    if ticket.status != "RESOLVED":
        raise UserErrors.single(
            "id",
            f"only a RESOLVED ticket can be confirmed (this one is {ticket.status})",
            UserErrorCode.INVALID_TRANSITION,
        )
    check.done()
    now = context.now()
    _event(
        session,
        ticket,
        "CONFIRMATION",
        caller.user_id,
        now,
        note=cleaned,
        internal=False,
        data={"satisfied": satisfied},
    )
    return await move(
        session,
        context,
        ticket,
        "CLOSED" if satisfied else "IN_PROGRESS",
        caller.user_id,
        now,
        note=cleaned,
        internal=False,
    )


async def set_sla_policy(
    session: AsyncSession,
    context: RequestContext,
    priority: str,
    first_response_minutes: int,
    resolution_minutes: int,
) -> SlaPolicy:
    require(context, "tickets:manage")
    check = Check()
    for field, value in (
        ("firstResponseMinutes", first_response_minutes),
        ("resolutionMinutes", resolution_minutes),
    ):
        if not 1 <= value <= 60 * 24 * 365:
            check.fail(field, "must be between 1 minute and a year", UserErrorCode.OUT_OF_RANGE)
    if first_response_minutes > resolution_minutes:
        check.fail(
            "firstResponseMinutes", "must not exceed resolutionMinutes", UserErrorCode.INVALID
        )
    check.done()
    row = await session.get(SlaPolicy, priority, with_for_update=True)
    targets = await sla_targets(session)
    before = {
        "firstResponseMinutes": targets[priority][0],
        "resolutionMinutes": targets[priority][1],
    }
    if row is None:
        row = SlaPolicy(priority=priority)
        session.add(row)
    row.first_response_minutes, row.resolution_minutes = first_response_minutes, resolution_minutes
    row.updated_at = context.now()
    await session.flush()
    audit.record(
        session,
        actor_of(context),
        "ticket_sla.updated",
        "SlaPolicy",
        priority,
        audit.diff(
            before,
            {
                "firstResponseMinutes": first_response_minutes,
                "resolutionMinutes": resolution_minutes,
            },
        ),
    )
    return row


async def set_business_hours(
    session: AsyncSession,
    context: RequestContext,
    enabled: bool,
    time_zone: str | None,
    weekdays: Sequence[int],
    start: str | None,
    end: str | None,
    holidays: Sequence[dt.date],
) -> BusinessHours | None:
    require(context, "tickets:manage")
    row = await session.get(BusinessHours, 1, with_for_update=True)
    actor = actor_of(context)
    if not enabled:
        if row is not None:
            await session.delete(row)
            await session.flush()
            audit.record(session, actor, "ticket_business_hours.cleared", "BusinessHours", 1)
        return None
    check = Check()
    zone = (time_zone or "").strip()
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: "Europe" is a folder
        check.fail(
            "timeZone", "is not an IANA time zone such as Europe/Berlin", UserErrorCode.INVALID
        )
    days = sorted(set(weekdays))
    if not days or any(not 1 <= d <= 7 for d in days):
        check.fail(
            "weekdays", "list days as 1 (Monday) to 7 (Sunday), at least one", UserErrorCode.INVALID
        )
    times: list[dt.time] = []
    for field, value in (("start", start), ("end", end)):
        try:
            times.append(dt.time.fromisoformat((value or "").strip()))
        except ValueError:
            check.fail(field, "must be a time of day such as 09:00", UserErrorCode.INVALID)
    if len(times) == 2 and times[0] >= times[1]:
        check.fail("end", "must be after start", UserErrorCode.INVALID)
    check.done()
    if row is None:
        row = BusinessHours(id=1)
        session.add(row)
    row.time_zone = zone
    row.weekdays = [d - 1 for d in days]
    row.start_time, row.end_time = times[0].strftime("%H:%M"), times[1].strftime("%H:%M")
    row.holidays = sorted({d.isoformat() for d in holidays})
    row.updated_at = context.now()
    await session.flush()
    audit.record(
        session,
        actor,
        "ticket_business_hours.set",
        "BusinessHours",
        1,
        {
            "timeZone": zone,
            "weekdays": days,
            "start": row.start_time,
            "end": row.end_time,
            "holidays": row.holidays,
        },
    )
    return row


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
        check.fail("teamId", "give either a team or a list of users", UserErrorCode.INVALID)
    elif team_id is not None and await session.get(Team, team_id) is None:
        check.fail("teamId", "no team has this id", UserErrorCode.NOT_FOUND)
    if user_ids:
        found = set((await session.scalars(select(User.id).where(User.id.in_(user_ids)))).all())
        for index, user_id in enumerate(user_ids):
            if user_id not in found:
                check.fail(f"userIds.{index}", "no user has this id", UserErrorCode.NOT_FOUND)
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


async def open_count(session: AsyncSession, customer_id: int) -> int:
    return int(
        await session.scalar(
            select(func.count()).where(
                Ticket.customer_id == customer_id, Ticket.status.in_(OPEN_STATUSES)
            )
        )
        or 0
    )


async def move_tickets(session: AsyncSession, source_id: int, target_id: int, dry_run: bool) -> int:
    count = int(
        await session.scalar(select(func.count()).where(Ticket.customer_id == source_id)) or 0
    )
    if not dry_run and count:
        await session.execute(
            update(Ticket)
            .where(Ticket.customer_id == source_id)
            .values(customer_id=target_id)
            .execution_options(synchronize_session=False)
        )
    return count


async def erase_tickets(session: AsyncSession, customer_id: int) -> None:
    """The customer's personal data was erased: blank the free text of their tickets (subject,
    description, resolution, notes), as core blanks interactions and tasks."""
    tickets = (Ticket.customer_id == customer_id,)
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
    actor = audit.Actor(label="crm jobs")
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
