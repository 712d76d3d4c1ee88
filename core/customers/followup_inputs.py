"""GraphQL inputs and enums of the follow-ups: interactions (the timeline) and tasks."""

from __future__ import annotations

import datetime as dt
import enum

import strawberry
from strawberry import relay

from core.customers.inputs import InteractionChannel
from core.types import DateTimeRange


@strawberry.enum(description="What a task is for.")
class TaskType(enum.Enum):
    CALL = "CALL"
    EMAIL = "EMAIL"
    VISIT = "VISIT"
    PROPOSAL = "PROPOSAL"
    OTHER = "OTHER"


@strawberry.enum(
    description="Where a task is: OPEN until it is completed (DONE) or cancelled (CANCELLED); "
    "a cancelled task is neither open nor done."
)
class TaskStatus(enum.Enum):
    OPEN = "OPEN"
    DONE = "DONE"
    CANCELLED = "CANCELLED"


@strawberry.input
class CreateTaskInput:
    customer_id: relay.GlobalID | None = None
    title: str
    type: TaskType = TaskType.OTHER
    due_at: dt.datetime
    remind_at: dt.datetime | None = None
    assignee_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Defaults to the caller."
    )


@strawberry.input
class CompleteTaskInput:
    id: relay.GlobalID
    version: int


@strawberry.input(
    description="A new due time for an open task; its reminder fires again at its new time."
)
class RescheduleTaskInput:
    id: relay.GlobalID
    version: int
    due_at: dt.datetime
    remind_at: dt.datetime | None = strawberry.field(
        default=None,
        description="Not after dueAt; null: CRM_TASK_REMINDER_HOURS before dueAt.",
    )


@strawberry.input(description="Hand an open task to someone else.")
class ReassignTaskInput:
    id: relay.GlobalID
    version: int
    assignee_id: relay.GlobalID = strawberry.field(
        description="An active user in your reach who may see the task's customer."
    )


@strawberry.input(description="Cancel an open task: it is then neither open nor done.")
class CancelTaskInput:
    id: relay.GlobalID
    version: int
    reason: str | None = strawberry.field(default=None, description="For the audit trail.")


@strawberry.input
class TaskFilter:
    assignee_id: relay.GlobalID | None = None
    customer_id: relay.GlobalID | None = None
    done: bool | None = strawberry.field(
        default=None,
        description="true: DONE tasks; false: OPEN ones (cancelled tasks are neither). "
        "Prefer status.",
    )
    status: list[TaskStatus] | None = None
    type: list[TaskType] | None = None
    due: DateTimeRange | None = None
    overdue: bool | None = strawberry.field(
        default=None,
        description="true: open tasks due before now; false: every task but those.",
    )
    remind: DateTimeRange | None = strawberry.field(
        default=None,
        description="Open or not, tasks whose reminder time (remindAt, else "
        "CRM_TASK_REMINDER_HOURS before dueAt) falls in this window.",
    )


@strawberry.input(description="What a customer's timeline keeps.")
class TimelineFilter:
    channel: list[InteractionChannel] | None = None
    occurred: DateTimeRange | None = strawberry.field(
        default=None, description="occurredAt from (inclusive) to (exclusive)."
    )
    author_id: relay.GlobalID | None = None


@strawberry.input(description="What the interactions list keeps.")
class InteractionFilter(TimelineFilter):
    customer_id: relay.GlobalID | None = None
    team_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Interactions logged by members of this team."
    )
