"""What the customers module tells people: task reminders (the follow-up tasks the periodic
jobs create for dormant customers and birthdays included), tasks handed to someone else and
customers handed to a new owner.

A task's reminder goes to its assignee at ``remindAt``, or ``CRM_TASK_REMINDER_HOURS`` before
``dueAt`` when it has none. The periodic job marks each task ``reminded_at`` in the
transaction that writes the notification, with a conditional update: two workers that run the
job at the same moment remind each task once. Rescheduling or reassigning a task clears
``reminded_at`` (and moves its version), so that its reminder fires again.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.customers.models import Customer, Task
from core.i18n import _
from core.notifications.service import Environment, NotificationKind, notify
from core.schedule import JobContext, PeriodicJob

logger = logging.getLogger("crm.customers")

TASK_REMINDER = "task.reminder"
TASK_ASSIGNED = "task.assigned"
CUSTOMER_TRANSFERRED = "customer.transferred"
BATCH = 500

KINDS: Mapping[str, NotificationKind] = {
    TASK_REMINDER: NotificationKind(_("A task of yours is due soon"), email=True),
    TASK_ASSIGNED: NotificationKind(_("A task was handed to you"), email=True),
    CUSTOMER_TRANSFERRED: NotificationKind(_("Customers were handed to you"), email=True),
}


async def remind_due_tasks(session: AsyncSession, env: Environment, now: dt.datetime) -> int:
    """Remind the assignees of open tasks whose reminder time has come; how many."""
    lead = dt.timedelta(hours=env.settings.task_reminder_hours)
    due = (
        select(Task.id)
        .where(
            Task.done_at.is_(None),
            Task.cancelled_at.is_(None),
            Task.reminded_at.is_(None),
            Task.assignee_id.is_not(None),
            or_(
                Task.remind_at <= now,
                and_(Task.remind_at.is_(None), Task.due_at <= now + lead),
            ),
        )
        .order_by(Task.id)
        .limit(BATCH)
    )
    ids = list((await session.scalars(due)).all())
    if not ids:
        return 0
    reminded = (
        await session.execute(
            update(Task)
            .where(Task.id.in_(ids), Task.reminded_at.is_(None))
            .values(reminded_at=now)
            .returning(Task.id, Task.title, Task.due_at, Task.assignee_id, Task.version)
            .execution_options(synchronize_session=False)
        )
    ).all()
    for task_id, title, due_at, assignee_id, version in reminded:
        try:
            async with session.begin_nested():  # one task's failure spoils no other's
                await notify(
                    session,
                    env,
                    user_ids=[assignee_id],
                    kind=TASK_REMINDER,
                    title=_("Reminder: {title}", title=title),
                    body=_("Due {due}.", due=due_at),
                    subject=("Task", task_id),
                    now=now,
                    # The version too: a task rescheduled or reassigned is reminded again.
                    dedupe_key=f"task-reminder:{task_id}:{due_at.isoformat()}:{version}",
                )
        except Exception:  # logged, and the task stays marked: it is not retried forever
            logger.exception("the reminder of task %s could not be written", task_id)
    return len(reminded)


async def _reminder_job(job: JobContext) -> Mapping[str, int]:
    total = 0
    while True:  # bounded: each round marks up to BATCH tasks reminded
        async with job.db.transaction() as session:
            sent = await remind_due_tasks(session, job, job.now)
        total += sent
        if sent < BATCH:
            return {"task reminders sent": total}


async def task_assigned(
    session: AsyncSession, env: Environment, task: Task, now: dt.datetime
) -> None:
    """Tell a task's new assignee it was handed to them."""
    await notify(
        session,
        env,
        user_ids=[task.assignee_id],
        kind=TASK_ASSIGNED,
        title=_("Task handed to you: {title}", title=task.title),
        body=_("Due {due}.", due=task.due_at),
        subject=("Task", task.id),
        now=now,
    )


async def customers_transferred(
    session: AsyncSession,
    env: Environment,
    customers: Sequence[Customer],
    owner_id: int,
    now: dt.datetime,
) -> None:
    """Tell the new owner which customers they were given (one notification per transfer)."""
    if not customers:
        return
    names = ", ".join(customer.name for customer in customers[:5])
    more = len(customers) - 5
    title = (
        _("{count} customers were handed to you", count=len(customers))
        if len(customers) > 1
        else _("{name} was handed to you", name=customers[0].name)
    )
    body = _("{names} and {more} more.", names=names, more=more) if more > 0 else names
    await notify(
        session,
        env,
        user_ids=[owner_id],
        kind=CUSTOMER_TRANSFERRED,
        title=title,
        body=body,
        subject=("Customer", customers[0].id) if len(customers) == 1 else None,
        now=now,
    )


PERIODIC_JOBS = (PeriodicJob("customers.task_reminders", dt.timedelta(minutes=1), _reminder_job),)
