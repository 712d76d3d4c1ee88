"""The timeline and follow-ups: interactions and tasks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.access import actor_of, require
from core.context import RequestContext
from core.customers.models import Contact, Customer, Interaction, InteractionParticipant, Task
from core.customers.service.common import _not_found, _owner_in_reach, writable_customer
from core.errors import UserErrorCode, not_found
from core.i18n import _
from core.identity.models import User
from core.validation import Check, global_id, require_version

MAX_PARTICIPANTS = 50


async def log_interaction(
    session: AsyncSession,
    context: RequestContext,
    customer_id: int | None,
    contact_id: int | None,
    channel: str,
    summary: str,
    occurred_at: dt.datetime | None,
    participant_ids: Sequence[int],
    next_follow_up_at: dt.datetime | None,
) -> Interaction:
    caller = require(context, "followups:write")
    customer = await writable_customer(
        session, context, customer_id, "customerId", "followups:write"
    )
    check = Check()
    text = check.text("summary", summary, max_length=10_000)
    now = context.now()
    when = occurred_at or now
    if when.tzinfo is None:
        check.fail("occurredAt", _("must carry a time zone"), UserErrorCode.INVALID)
    elif when > now + dt.timedelta(minutes=5):
        check.fail("occurredAt", _("cannot be in the future"), UserErrorCode.OUT_OF_RANGE)
    if next_follow_up_at is not None and next_follow_up_at <= now:
        check.fail("nextFollowUpAt", _("must be in the future"), UserErrorCode.OUT_OF_RANGE)
    if (
        contact_id is not None
        and await session.scalar(
            select(Contact.id).where(Contact.id == contact_id, Contact.customer_id == customer.id)
        )
        is None
    ):
        check.fail("contactId", _("is not a contact of this customer"), UserErrorCode.INVALID)
    if len(participant_ids) > MAX_PARTICIPANTS:
        check.fail(
            "participantIds",
            _("must list at most {max} users", max=MAX_PARTICIPANTS),
            UserErrorCode.TOO_LONG,
        )
    elif participant_ids:
        # Only users the caller may see (users:read): one message for "no such user" and
        # "a user you may not see", so the answer tells nothing about ids out of reach.
        found = set(
            (
                await session.scalars(
                    select(User.id).where(
                        User.id.in_(participant_ids),
                        User.is_active.is_(True),
                        context.visible("users:read"),
                    )
                )
            ).all()
        )
        for index, user_id in enumerate(participant_ids):
            if user_id not in found:
                field = f"participantIds.{index}"
                raise not_found(f"input.{field}", _("is not an active user you can see"))
    check.done()
    assert text is not None
    interaction = Interaction(
        customer_id=customer.id,
        contact_id=contact_id,
        channel=channel,
        summary=text,
        occurred_at=when,
        author_id=caller.user_id,
        next_follow_up_at=next_follow_up_at,
        created_at=now,
    )
    session.add(interaction)
    await session.flush()
    session.add_all(
        InteractionParticipant(interaction_id=interaction.id, user_id=u)
        for u in dict.fromkeys(participant_ids)  # each once, in the order given
    )
    # Derived, not a user edit: moves without bumping the version clients hold.
    await session.execute(
        update(Customer)
        .where(
            Customer.id == customer.id,
            or_(Customer.last_interaction_at.is_(None), Customer.last_interaction_at < when),
        )
        .values(last_interaction_at=when)
        .execution_options(synchronize_session=False)
    )
    if next_follow_up_at is not None:
        session.add(
            Task(
                customer_id=customer.id,
                title=f"Follow up: {text[:180]}",
                due_at=next_follow_up_at,
                assignee_id=caller.user_id,
                created_by_id=caller.user_id,
                created_at=now,
                updated_at=now,
            )
        )
    await session.flush()
    audit.record(
        session,
        actor_of(context),
        "interaction.logged",
        "Customer",
        customer.id,
        {"interactionId": global_id("Interaction", interaction.id), "channel": channel},
    )
    return interaction


async def create_task(
    session: AsyncSession,
    context: RequestContext,
    customer_id: int | None,
    title: str,
    due_at: dt.datetime,
    remind_at: dt.datetime | None,
    assignee_id: int | None,
) -> Task:
    caller = require(context, "followups:write")
    if customer_id is not None:
        await writable_customer(session, context, customer_id, "customerId", "followups:write")
    check = Check()
    cleaned = check.text("title", title, max_length=200)
    if remind_at is not None and remind_at > due_at:
        check.fail("remindAt", _("must not be after dueAt"), UserErrorCode.OUT_OF_RANGE)
    assignee = assignee_id if assignee_id is not None else caller.user_id
    await _owner_in_reach(session, context, assignee, "assigneeId", "followups:write")
    check.done()
    now = context.now()
    task = Task(
        customer_id=customer_id,
        title=cleaned,
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
                "dueAt": due_at,
                "assigneeId": global_id("User", assignee),
                "customerId": global_id("Customer", customer_id),
            }
        ),
    )
    return task


async def complete_task(
    session: AsyncSession, context: RequestContext, task_id: int | None, version: int
) -> Task:
    caller = require(context, "followups:write")
    task = await session.get(Task, task_id, with_for_update=True) if task_id is not None else None
    allowed = task is not None and (
        task.assignee_id == caller.user_id
        or (
            task.customer_id is not None
            and await session.scalar(
                select(Customer.id).where(
                    Customer.id == task.customer_id, context.visible("followups:write", "customers")
                )
            )
            is not None
        )
    )
    if task is None or not allowed:
        raise _not_found("id", "task")
    require_version(task, version)
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
