"""Follow-up tasks: created, completed, rescheduled, handed to someone else, cancelled.

Who may change a task: its assignee, or anyone whose ``followups:write`` scope reaches its
customer, or, for a task without a customer, its assignee (a team's manager); anyone else
gets NOT_FOUND, so a task out of reach is never revealed. Only an open task is
rescheduled, reassigned or cancelled; a cancelled one is neither open nor done and is never
completed.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.access import Caller, actor_of, require, visible
from core.catalog import catalog_for
from core.context import RequestContext
from core.customers import reminders
from core.customers.loaders import unattached_task_reach
from core.customers.models import Customer, Task
from core.customers.service.common import _not_found, _owner_in_reach, writable_customer
from core.errors import UserErrorCode, UserErrors
from core.i18n import _
from core.identity.auth import user_grants
from core.identity.models import User
from core.validation import Check, global_id, require_version

TASK_TYPES = ("CALL", "EMAIL", "VISIT", "PROPOSAL", "OTHER")


def task_status(task: Task) -> str:
    """OPEN, DONE or CANCELLED."""
    if task.cancelled_at is not None:
        return "CANCELLED"
    return "DONE" if task.done_at is not None else "OPEN"


def _check_times(check: Check, due_at: dt.datetime, remind_at: dt.datetime | None) -> None:
    # Both carry a time zone: the DateTime scalar refuses a time without one.
    if remind_at is not None and remind_at > due_at:
        check.fail("remindAt", _("must not be after dueAt"), UserErrorCode.OUT_OF_RANGE)


async def create_task(
    session: AsyncSession,
    context: RequestContext,
    customer_id: int | None,
    title: str,
    due_at: dt.datetime,
    remind_at: dt.datetime | None,
    assignee_id: int | None,
    type: str = "OTHER",
) -> Task:
    caller = require(context, "followups:write")
    if customer_id is not None:
        await writable_customer(session, context, customer_id, "customerId", "followups:write")
    check = Check()
    cleaned = check.text("title", title, max_length=200)
    _check_times(check, due_at, remind_at)
    assignee = assignee_id if assignee_id is not None else caller.user_id
    await _owner_in_reach(session, context, assignee, "assigneeId", "followups:write")
    check.done()
    now = context.now()
    task = Task(
        customer_id=customer_id,
        title=cleaned,
        type=type,
        due_at=due_at,
        remind_at=remind_at,
        assignee_id=assignee,
        created_by_id=caller.user_id,
        created_at=now,
        updated_at=now,
    )
    session.add(task)
    await session.flush()
    audit.record(
        session,
        actor_of(context),
        "task.created",
        "Task",
        task.id,
        audit.created(
            {
                "title": cleaned,
                "type": type,
                "dueAt": due_at,
                "remindAt": remind_at,
                "assigneeId": global_id("User", assignee),
                "customerId": global_id("Customer", customer_id),
            }
        ),
    )
    return task


async def changeable_task(
    session: AsyncSession, context: RequestContext, task_id: int | None, version: int | None
) -> tuple[Caller, Task]:
    """The task the caller may change (its assignee, or ``followups:write`` reaching its
    customer or, without one, its assignee), locked, at the version the caller read;
    NOT_FOUND naming ``input.id`` otherwise."""
    caller = require(context, "followups:write")
    task = await session.get(Task, task_id, with_for_update=True) if task_id is not None else None
    if task is None or task.assignee_id == caller.user_id:
        allowed = task is not None
    elif task.customer_id is None:
        reach = unattached_task_reach(context)
        allowed = await session.scalar(select(Task.id).where(Task.id == task.id, reach)) is not None
    else:
        allowed = (
            await session.scalar(
                select(Customer.id).where(
                    Customer.id == task.customer_id, context.visible("followups:write", "customers")
                )
            )
            is not None
        )
    if task is None or not allowed:
        raise _not_found("id", "task")
    require_version(task, version)
    return caller, task


def _require_open(task: Task) -> None:
    status = task_status(task)
    if status == "OPEN":
        return
    message = _("the task is cancelled") if status == "CANCELLED" else _("the task is done already")
    raise UserErrors.single("id", message, UserErrorCode.INVALID_TRANSITION)


async def complete_task(
    session: AsyncSession, context: RequestContext, task_id: int | None, version: int
) -> Task:
    _caller, task = await changeable_task(session, context, task_id, version)
    if task.cancelled_at is not None:
        _require_open(task)
    if task.done_at is None:
        task.done_at = task.updated_at = context.now()
        await session.flush()
        audit.record(
            session,
            actor_of(context),
            "task.completed",
            "Task",
            task.id,
            audit.diff({"doneAt": None}, {"doneAt": task.done_at}),
        )
    return task


async def reschedule_task(
    session: AsyncSession,
    context: RequestContext,
    task_id: int | None,
    version: int,
    due_at: dt.datetime,
    remind_at: dt.datetime | None,
) -> Task:
    """A new due time and reminder time (``None``: the default lead before ``due_at``); the
    reminder fires again at its new time."""
    _caller, task = await changeable_task(session, context, task_id, version)
    _require_open(task)
    check = Check()
    _check_times(check, due_at, remind_at)
    check.done()
    before = {"dueAt": task.due_at, "remindAt": task.remind_at}
    after = {"dueAt": due_at, "remindAt": remind_at}
    changes = audit.diff(before, after)
    if not changes:
        return task
    task.due_at, task.remind_at = due_at, remind_at
    task.reminded_at = None
    task.updated_at = context.now()
    await session.flush()
    audit.record(session, actor_of(context), "task.rescheduled", "Task", task.id, changes)
    return task


async def may_read_customer(
    session: AsyncSession, context: RequestContext, user_id: int, customer_id: int
) -> bool:
    """Whether the active user ``user_id`` may read the customer (``customers:read`` in the
    scope of their own roles)."""
    user = await session.get(User, user_id)
    if user is None or not user.is_active:
        return False
    catalog = catalog_for(context.pm)
    grants = await user_grants(session, catalog, user_id)
    them = Caller(user_id=user.id, email=user.email, team_id=user.team_id, grants=grants)
    condition = visible(them, catalog, "customers:read", "customers")
    found = await session.scalar(select(Customer.id).where(Customer.id == customer_id, condition))
    return found is not None


async def reassign_task(
    session: AsyncSession,
    context: RequestContext,
    task_id: int | None,
    version: int,
    assignee_id: int | None,
) -> Task:
    """Hand the task to an active user in the caller's reach who may see its customer; they
    are told (unless they hand it to themselves) and reminded at the task's time."""
    caller, task = await changeable_task(session, context, task_id, version)
    _require_open(task)
    await _owner_in_reach(session, context, assignee_id, "assigneeId", "followups:write")
    assert assignee_id is not None
    if task.customer_id is not None and not await may_read_customer(
        session, context, assignee_id, task.customer_id
    ):
        raise UserErrors.single(
            "assigneeId",
            _("cannot see this task's customer: give it to someone who can"),
            UserErrorCode.BUSINESS_RULE,
        )
    if assignee_id == task.assignee_id:
        return task
    before = global_id("User", task.assignee_id)
    task.assignee_id = assignee_id
    task.reminded_at = None  # the new assignee gets the reminder
    task.updated_at = now = context.now()
    await session.flush()
    audit.record(
        session,
        actor_of(context),
        "task.reassigned",
        "Task",
        task.id,
        audit.diff({"assigneeId": before}, {"assigneeId": global_id("User", assignee_id)}),
    )
    if assignee_id != caller.user_id:  # nobody is told of what they did themselves
        await reminders.task_assigned(session, context, task, now)
    return task


async def cancel_task(
    session: AsyncSession,
    context: RequestContext,
    task_id: int | None,
    version: int,
    reason: str | None,
) -> Task:
    """Cancel an open task: it is no longer open (no reminder), and not done either."""
    _caller, task = await changeable_task(session, context, task_id, version)
    _require_open(task)
    check = Check()
    cleaned = check.text("reason", reason, max_length=500, required=False)
    check.done()
    task.cancelled_at = task.updated_at = context.now()
    await session.flush()
    changes = audit.diff({"cancelledAt": None}, {"cancelledAt": task.cancelled_at})
    if cleaned:
        changes["reason"] = cleaned
    audit.record(session, actor_of(context), "task.cancelled", "Task", task.id, changes)
    return task
