"""The timeline: interactions. Logging one on a DORMANT customer revives it.

Tasks are in :mod:`core.customers.service.tasks`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.access import actor_of, require
from core.context import RequestContext
from core.customers.models import Contact, Customer, Interaction, InteractionParticipant, Task
from core.customers.service.common import writable_customer
from core.errors import UserErrorCode, not_found
from core.i18n import _
from core.identity.models import User
from core.validation import Check, global_id

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
    # Revived by a recent interaction only: one older than CRM_DORMANT_DAYS, logged late,
    # would leave the customer as quiet as it was (and the job would mark it again).
    recent = when >= now - dt.timedelta(days=context.settings.dormant_days)
    if customer.stage == "DORMANT" and recent:
        await _revive(session, context, customer, interaction)
    return interaction


DORMANT_TASK_PREFIX = "dormant:"
"""The ``dedupe_key`` of the re-engage tasks :func:`core.customers.jobs.mark_dormant`
creates: ``dormant:<customer id>:<since>``."""


async def _revive(
    session: AsyncSession, context: RequestContext, customer: Customer, interaction: Interaction
) -> None:
    """A DORMANT customer someone interacted with is ACTIVE again, and its open re-engage
    tasks are done: both audited as changes by the interaction's author, in its transaction."""
    actor = actor_of(context)
    now = context.now()
    customer.stage = "ACTIVE"
    customer.updated_at = now
    await session.flush()  # the version moves, as for any change of the customer
    logged = global_id("Interaction", interaction.id)
    audit.record(
        session,
        actor,
        "customer.updated",
        "Customer",
        customer.id,
        {
            "stage": {"before": "DORMANT", "after": "ACTIVE"},
            "reason": "interaction logged",
            "interactionId": logged,
        },
    )
    open_tasks = (
        await session.scalars(
            select(Task)
            .where(
                Task.customer_id == customer.id,
                Task.dedupe_key.like(f"{DORMANT_TASK_PREFIX}{customer.id}:%"),
                Task.done_at.is_(None),
                Task.cancelled_at.is_(None),
            )
            .order_by(Task.id)
            .with_for_update()
        )
    ).all()
    for task in open_tasks:
        task.done_at = task.updated_at = now
        await session.flush()
        changes = audit.diff({"doneAt": None}, {"doneAt": now})
        audit.record(
            session,
            actor,
            "task.completed",
            "Task",
            task.id,
            {**changes, "reason": "customer revived", "interactionId": logged},
        )
