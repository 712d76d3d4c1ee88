"""Root query fields of the follow-ups: the interactions of a team's customers and tasks."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import strawberry
from sqlalchemy import ColumnElement, Select, and_, or_, select

from core.access import requires
from core.context import Info, RequestContext
from core.customers import models
from core.customers.followup_inputs import InteractionFilter, TaskFilter, TaskStatus
from core.customers.followup_loaders import interaction_conditions, interaction_statement
from core.customers.inputs import InteractionOrder, TaskOrder
from core.customers.loaders import task_visible
from core.customers.orders import INTERACTION_ORDER, TASK_ORDER
from core.customers.types import Interaction, Task
from core.ordering import ORDER_BY_HELP
from core.pagination import Connection, PageArgs
from core.types import DateTimeRange, in_range
from core.validation import argument_id


def status_condition(status: TaskStatus) -> ColumnElement[bool]:
    t = models.Task
    if status is TaskStatus.CANCELLED:
        return t.cancelled_at.is_not(None)
    if status is TaskStatus.DONE:
        return and_(t.done_at.is_not(None), t.cancelled_at.is_(None))
    return and_(t.done_at.is_(None), t.cancelled_at.is_(None))


def _remind_window(context: RequestContext, window: DateTimeRange) -> ColumnElement[bool]:
    """The reminder time (``remind_at``, else the default lead before ``due_at``) in
    ``window``: without a ``remind_at``, ``due_at`` is compared with the window shifted by
    the lead, so that both sides stay plain column comparisons (an index's, on any database)."""
    t = models.Task
    lead = dt.timedelta(hours=context.settings.task_reminder_hours)
    shifted = DateTimeRange(
        from_=window.from_ + lead if window.from_ is not None else None,
        to=window.to + lead if window.to is not None else None,
    )
    return or_(
        and_(t.remind_at.is_not(None), *in_range(t.remind_at, window, "filter.remind")),
        and_(t.remind_at.is_(None), *in_range(t.due_at, shifted, "filter.remind")),
    )


def task_statement(context: RequestContext, filter: TaskFilter | None) -> Select[Any]:
    """The tasks the caller may see that ``filter`` keeps; a bad value is a BAD_USER_INPUT
    error naming it (``filter.due.to``, ``filter.assigneeId``...)."""
    t = models.Task
    statement = select(t).where(task_visible(context))
    if filter is None:
        return statement
    assignee_id = argument_id(filter.assignee_id, "User", "filter.assigneeId")
    if assignee_id is not None:
        statement = statement.where(t.assignee_id == assignee_id)
    customer_id = argument_id(filter.customer_id, "Customer", "filter.customerId")
    if customer_id is not None:
        statement = statement.where(t.customer_id == customer_id)
    if filter.done is not None:
        statement = statement.where(
            status_condition(TaskStatus.DONE if filter.done else TaskStatus.OPEN)
        )
    if filter.status:
        statement = statement.where(or_(*(status_condition(s) for s in set(filter.status))))
    if filter.type:
        statement = statement.where(t.type.in_([kind.value for kind in filter.type]))
    statement = statement.where(*in_range(t.due_at, filter.due, "filter.due"))
    if filter.overdue is not None:
        overdue = and_(status_condition(TaskStatus.OPEN), t.due_at < context.now())
        statement = statement.where(overdue if filter.overdue else ~overdue)
    if filter.remind is not None:
        statement = statement.where(_remind_window(context, filter.remind))
    return statement


@strawberry.type
class FollowupQuery:
    @strawberry.field(
        description="Interactions on the customers the caller may see (a team's recent "
        "activity), newest first unless orderBy says otherwise.",
        extensions=requires("customers:read"),
    )
    async def interactions(
        self,
        info: Info,
        filter: InteractionFilter | None = None,
        order_by: Annotated[
            list[InteractionOrder] | None, strawberry.argument(description=ORDER_BY_HELP)
        ] = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Interaction] | None:
        conditions = await interaction_conditions(info.context, filter)
        return await info.context.page(
            interaction_statement(info.context, conditions),
            keys=INTERACTION_ORDER.keys(order_by),
            args=PageArgs(first, after, last, before),
            to_node=Interaction.from_model,
        )

    @strawberry.field(
        description="Tasks the caller may see, soonest due first unless orderBy says otherwise.",
        extensions=requires(),
    )
    async def tasks(
        self,
        info: Info,
        filter: TaskFilter | None = None,
        order_by: Annotated[
            list[TaskOrder] | None, strawberry.argument(description=ORDER_BY_HELP)
        ] = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Task] | None:
        return await info.context.page(
            task_statement(info.context, filter),
            keys=TASK_ORDER.keys(order_by),
            args=PageArgs(first, after, last, before),
            to_node=Task.from_model,
        )
