"""A ticket's life: opening it, the status steps of the state machine (with the SLA
clock), the customer's confirmation, and the hooks that announce them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import (
    Check,
    Contact,
    Customer,
    RequestContext,
    UserErrorCode,
    UserErrors,
    actor_of,
    audit,
    call_in_turn,
    format_number,
    global_id,
    next_value,
    not_found,
    require,
    require_version,
    translator,
)
from plugins.tickets.domain import can_move
from plugins.tickets.models import Ticket
from plugins.tickets.service import notices
from plugins.tickets.service.assignment import _route
from plugins.tickets.service.common import (
    COUNTER,
    NUMBER_PREFIX,
    _event,
    _hook,
    writable_ticket,
)
from plugins.tickets.service.sla import calendar, refresh_sla_due

_ = translator(__name__)


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
        raise not_found("input.customerId", _("no active customer with this id is visible to you"))
    if (
        contact_id is not None
        and customer is not None
        and await session.scalar(
            select(Contact.id).where(Contact.id == contact_id, Contact.customer_id == customer.id)
        )
        is None
    ):
        check.fail("contactId", _("is not a contact of this customer"), UserErrorCode.INVALID)
    cleaned_subject = check.text("subject", subject, max_length=200)
    cleaned_description = check.text("description", description, max_length=20_000, required=False)
    if expected_resolution_at is not None and expected_resolution_at <= now:
        check.fail("expectedResolutionAt", _("must be in the future"), UserErrorCode.OUT_OF_RANGE)
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
        sla_grade=customer.grade,
        status="NEW",
        expected_resolution_at=expected_resolution_at,
        created_at=now,
        updated_at=now,
    )
    ticket.assignee_id = await _route(session, ticket_type)
    await refresh_sla_due(session, [ticket])
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
    if ticket.assignee_id is not None:  # a routing rule chose the handler
        await notices.assigned(session, context, ticket, None, "ASSIGNED", None)
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
            "id",
            _("a ticket cannot go from {current} to {target}", current=current, target=target),
            UserErrorCode.INVALID_TRANSITION,
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
    await refresh_sla_due(session, [ticket])
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
    require_version(ticket, version)
    if reopening and ticket.status != "RESOLVED":
        raise UserErrors.single(
            "id",
            _(
                "only a RESOLVED ticket can be reopened (this one is {status})",
                status=ticket.status,
            ),
            UserErrorCode.INVALID_TRANSITION,
        )
    if not reopening and target == "IN_PROGRESS" and ticket.status == "RESOLVED":
        raise UserErrors.single(
            "id",
            _(
                "a ticket cannot go from RESOLVED to IN_PROGRESS by starting work; reopen it "
                "(reopenTicket) or let the customer decline the resolution"
            ),
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
            _(
                "only a RESOLVED ticket can be confirmed (this one is {status})",
                status=ticket.status,
            ),
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
