"""GraphQL types of improvement actions: the ImprovementAction node, its trend and the
payloads of its mutations."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any, Self

import strawberry
from strawberry import relay

from core.plugin_api import (
    ModelNode,
    RequestContext,
    UserError,
    UserSummary,
    batch_field,
    related,
)
from plugins.surveys import models
from plugins.surveys.inputs.actions import ImprovementActionStatus
from plugins.surveys.loaders.actions import (
    ActionByIdLoader,
    ActionResponsesLoader,
    TrendKey,
    TrendLoader,
)
from plugins.surveys.service.actions import OPEN_STATUSES, trend_start

if TYPE_CHECKING:
    from plugins.surveys.types.invitations import SurveyResponse

LazyResponse = Annotated["SurveyResponse", strawberry.lazy("plugins.surveys.types.invitations")]


@strawberry.type(description="One month of a dimension's ratings.")
class ImprovementTrendMonth:
    month: str = strawberry.field(description="'2026-04', in the deployment's time zone.")
    mean: float | None = strawberry.field(
        description="The mean rating (1-5), to 2 places (halves rounded up); null with none."
    )
    csat: float | None = strawberry.field(
        description="The share (0-1, 4 places) of ratings of 4 or 5; null with none."
    )
    count: int = strawberry.field(description="How many ratings.")


async def _overdue(context: RequestContext, actions: Sequence[ImprovementAction]) -> list[bool]:
    today = context.today()
    return [
        action.status.value in OPEN_STATUSES and action.due_on is not None and action.due_on < today
        for action in actions
    ]


async def _responses(
    context: RequestContext, actions: Sequence[ImprovementAction]
) -> list[list[SurveyResponse]]:
    from plugins.surveys.types.invitations import SurveyResponse

    found = await context.loader(ActionResponsesLoader).load_level(
        [action.id for action in actions]
    )
    return [[SurveyResponse.from_model(row) for row in rows] for rows in found]


async def _trends(
    context: RequestContext, actions: Sequence[ImprovementAction]
) -> list[list[ImprovementTrendMonth]]:
    keys = [
        TrendKey(action.dimension, action.template_id, trend_start(context, action.created_at))
        for action in actions
        if action.dimension is not None
    ]
    found = iter(await context.loader(TrendLoader).load_level(keys))
    return [
        []
        if action.dimension is None
        else [
            ImprovementTrendMonth(month=m.month, mean=m.mean, csat=m.csat, count=m.count)
            for m in next(found)
        ]
        for action in actions
    ]


@strawberry.type(
    description="An action taken on frequent negative feedback, followed up to DONE, with the "
    "trend of the dimension it targets beside it."
)
class ImprovementAction(ModelNode[models.ImprovementAction]):
    by_id_loader = ActionByIdLoader
    id: relay.NodeID[int]
    title: str
    description: str
    due_on: dt.date | None
    status: ImprovementActionStatus
    dimension: str | None
    terms: list[str] = strawberry.field(description="The feedback terms it answers.")
    created_at: dt.datetime
    updated_at: dt.datetime
    completed_at: dt.datetime | None = strawberry.field(description="When it was DONE.")
    version: int
    owner_id: strawberry.Private[int | None]
    created_by_id: strawberry.Private[int | None]
    template_id: strawberry.Private[int | None]
    owner: UserSummary | None = batch_field(
        related(UserSummary, "owner_id"), description="Who follows it up."
    )
    created_by: UserSummary | None = batch_field(related(UserSummary, "created_by_id"))
    overdue: bool = batch_field(
        _overdue, description="OPEN or IN_PROGRESS with dueOn before today (in your time zone)."
    )
    responses: list[LazyResponse] = batch_field(
        _responses, description="The responses it answers that you may see, newest first."
    )
    trend: list[ImprovementTrendMonth] = batch_field(
        _trends,
        description="The monthly mean and CSAT of its dimension's ratings (of its template, "
        "or every template), over the responses you may see, from two months before the "
        "action was created until now (at most 36 months), so the later trend sits beside "
        "the earlier one; empty without a dimension.",
    )

    @classmethod
    def from_model(cls, row: Any) -> Self:
        return cls(
            id=row.id,
            title=row.title,
            description=row.description,
            due_on=row.due_on,
            status=ImprovementActionStatus(row.status),
            dimension=row.dimension,
            terms=list(row.terms or []),
            created_at=row.created_at,
            updated_at=row.updated_at,
            completed_at=row.completed_at,
            version=row.version,
            owner_id=row.owner_id,
            created_by_id=row.created_by_id,
            template_id=row.template_id,
        )


@strawberry.type
class ImprovementActionPayload:
    improvement_action: ImprovementAction | None
    errors: list[UserError]

    @classmethod
    def of(cls, row: models.ImprovementAction | None, errors: list[UserError]) -> Self:
        action = ImprovementAction.from_model(row) if row else None
        return cls(improvement_action=action, errors=errors)


@strawberry.type
class CreateImprovementActionPayload(ImprovementActionPayload):
    pass


@strawberry.type
class UpdateImprovementActionPayload(ImprovementActionPayload):
    pass


@strawberry.type
class SetImprovementActionStatusPayload(ImprovementActionPayload):
    pass


@strawberry.type
class DeleteImprovementActionPayload:
    deleted_id: strawberry.ID | None = strawberry.field(
        description="The global id of the action deleted."
    )
    errors: list[UserError]

    @classmethod
    def of(cls, deleted: int | None, errors: list[UserError]) -> Self:
        gid = strawberry.ID(relay.to_base64("ImprovementAction", deleted)) if deleted else None
        return cls(deleted_id=gid, errors=errors)


NODES: list[type[Any]] = [ImprovementAction]
"""Node types of this module (for ``node(id:)``)."""
