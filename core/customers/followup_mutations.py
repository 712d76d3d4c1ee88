"""Root mutation fields of the follow-ups: interactions and tasks."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import relay

from core.access import requires
from core.context import Info
from core.customers import models, service
from core.customers.followup_inputs import (
    CancelTaskInput,
    CompleteTaskInput,
    CreateTaskInput,
    ReassignTaskInput,
    RescheduleTaskInput,
)
from core.customers.inputs import LogInteractionInput
from core.customers.payloads import (
    CancelTaskPayload,
    CompleteTaskPayload,
    CreateTaskPayload,
    LogInteractionPayload,
    ReassignTaskPayload,
    RescheduleTaskPayload,
)
from core.errors import UserError
from core.mutations import mutate
from core.validation import Check

TASK_RULE = (
    " Allowed to the task's assignee and to those whose followups:write reaches its "
    "customer, on an open task."
)

P = TypeVar("P")
TaskChange = Callable[[AsyncSession, int | None, int | None], Awaitable[models.Task]]
"""A change of a task: given the task's database id and the new assignee's (``None`` when
the mutation names none), the task changed."""


async def _change_task(
    info: Info,
    task: relay.GlobalID,
    change: TaskChange,
    payload: Callable[[models.Task | None, list[UserError]], P],
    *,
    assignee: relay.GlobalID | None = None,
) -> P:
    """A task mutation: the global ids checked (``id`` a Task's, ``assigneeId`` a User's,
    both reported when wrong), then ``change`` in one transaction and its payload."""

    async def work(session: AsyncSession) -> models.Task:
        check = Check()
        task_id = check.node_id("id", task, "Task")
        assignee_id = check.node_id("assigneeId", assignee, "User")
        check.done()
        return await change(session, task_id, assignee_id)

    return await mutate(info, work, payload)


@strawberry.type
class FollowupMutation:
    @strawberry.mutation(
        description="Add an interaction to a customer's timeline. A DORMANT customer becomes "
        "ACTIVE again (when the interaction is not older than CRM_DORMANT_DAYS) and its open "
        "re-engage tasks are completed, in the same change.",
        extensions=requires("followups:write"),
    )
    async def log_interaction(
        self, info: Info, input: LogInteractionInput
    ) -> LogInteractionPayload | None:
        async def work(session: AsyncSession) -> models.Interaction:
            check = Check()
            customer_id = check.node_id("customerId", input.customer_id, "Customer")
            contact_id = check.node_id("contactId", input.contact_id, "Contact")
            given = enumerate(input.participant_ids)
            found = [check.node_id(f"participantIds.{i}", v, "User") for i, v in given]
            check.done()
            participants = [p for p in found if p is not None]  # positions kept for errors
            return await service.log_interaction(
                session,
                info.context,
                customer_id,
                contact_id,
                input.channel.value,
                input.summary,
                input.occurred_at,
                participants,
                input.next_follow_up_at,
            )

        return await mutate(info, work, LogInteractionPayload.of)

    @strawberry.mutation(extensions=requires("followups:write"))
    async def create_task(self, info: Info, input: CreateTaskInput) -> CreateTaskPayload | None:
        async def work(session: AsyncSession) -> models.Task:
            check = Check()
            customer_id = check.node_id("customerId", input.customer_id, "Customer")
            assignee_id = check.node_id("assigneeId", input.assignee_id, "User")
            check.done()
            return await service.create_task(
                session,
                info.context,
                customer_id,
                input.title,
                input.due_at,
                input.remind_at,
                assignee_id,
                input.type.value,
            )

        return await mutate(info, work, CreateTaskPayload.of)

    @strawberry.mutation(
        description="Mark a task done (a cancelled one cannot be)."
        + TASK_RULE.replace(", on an open task", ""),
        extensions=requires("followups:write"),
    )
    async def complete_task(
        self, info: Info, input: CompleteTaskInput
    ) -> CompleteTaskPayload | None:
        return await _change_task(
            info,
            input.id,
            lambda session, task_id, _: service.complete_task(
                session, info.context, task_id, input.version
            ),
            CompleteTaskPayload.of,
        )

    @strawberry.mutation(
        description="Move a task's due and reminder times; its reminder fires again." + TASK_RULE,
        extensions=requires("followups:write"),
    )
    async def reschedule_task(
        self, info: Info, input: RescheduleTaskInput
    ) -> RescheduleTaskPayload | None:
        return await _change_task(
            info,
            input.id,
            lambda session, task_id, _: service.reschedule_task(
                session, info.context, task_id, input.version, input.due_at, input.remind_at
            ),
            RescheduleTaskPayload.of,
        )

    @strawberry.mutation(
        description="Hand a task to someone else, who is told." + TASK_RULE,
        extensions=requires("followups:write"),
    )
    async def reassign_task(
        self, info: Info, input: ReassignTaskInput
    ) -> ReassignTaskPayload | None:
        return await _change_task(
            info,
            input.id,
            lambda session, task_id, assignee_id: service.reassign_task(
                session, info.context, task_id, input.version, assignee_id
            ),
            ReassignTaskPayload.of,
            assignee=input.assignee_id,
        )

    @strawberry.mutation(
        description="Cancel a task: neither open nor done, never reminded." + TASK_RULE,
        extensions=requires("followups:write"),
    )
    async def cancel_task(self, info: Info, input: CancelTaskInput) -> CancelTaskPayload | None:
        return await _change_task(
            info,
            input.id,
            lambda session, task_id, _: service.cancel_task(
                session, info.context, task_id, input.version, input.reason
            ),
            CancelTaskPayload.of,
        )
