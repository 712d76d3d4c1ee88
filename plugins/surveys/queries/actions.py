"""Root query fields of improvement actions (``surveys:read``): ``improvementActions`` and
``improvementAction``."""

from __future__ import annotations

from typing import Any

import strawberry
from sqlalchemy import Select, and_, not_, select
from strawberry import relay

from core.plugin_api import (
    Connection,
    Info,
    PageArgs,
    SortKey,
    argument_id,
    requires,
)
from plugins.surveys import declarations, models
from plugins.surveys.inputs.actions import ImprovementActionFilter
from plugins.surveys.service.actions import OPEN_STATUSES
from plugins.surveys.types.actions import ImprovementAction

READ = requires(declarations.READ)
KEYS = (
    SortKey(models.ImprovementAction.created_at, True),
    SortKey(models.ImprovementAction.id, True),
)


def action_statement(info: Info, filter: ImprovementActionFilter | None) -> Select[Any]:
    a = models.ImprovementAction
    statement = select(a)
    if filter is None:
        return statement
    if filter.status:
        statement = statement.where(a.status.in_([status.value for status in filter.status]))
    owner_id = argument_id(filter.owner_id, "User", "filter.ownerId")
    if owner_id is not None:
        statement = statement.where(a.owner_id == owner_id)
    if filter.overdue is not None:
        overdue = and_(
            a.status.in_(OPEN_STATUSES), a.due_on.is_not(None), a.due_on < info.context.today()
        )
        statement = statement.where(overdue if filter.overdue else not_(overdue))
    return statement


@strawberry.type
class ActionQuery:
    @strawberry.field(description="Improvement actions, the newest first.", extensions=READ)
    async def improvement_actions(
        self,
        info: Info,
        filter: ImprovementActionFilter | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[ImprovementAction] | None:
        args = PageArgs(first=first, after=after, last=last, before=before)
        return await info.context.page(
            action_statement(info, filter),
            keys=KEYS,
            args=args,
            to_node=ImprovementAction.from_model,
        )

    @strawberry.field(
        description="One improvement action; null when there is none.", extensions=READ
    )
    async def improvement_action(self, info: Info, id: relay.GlobalID) -> ImprovementAction | None:
        return await ImprovementAction.load(info, argument_id(id, "ImprovementAction", "id"))
