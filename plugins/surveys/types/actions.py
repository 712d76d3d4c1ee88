"""GraphQL types of improvement actions: the ImprovementAction node, its trend and the
payloads of its mutations."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated, Any, Self

import strawberry
from strawberry import relay

from core.plugin_api import Info, ModelNode, UserError, UserSummary
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

    @strawberry.field(description="Who follows it up.")
    async def owner(self, info: Info) -> UserSummary | None:
        return await UserSummary.load(info, self.owner_id)

    @strawberry.field
    async def created_by(self, info: Info) -> UserSummary | None:
        return await UserSummary.load(info, self.created_by_id)

    @strawberry.field(
        description="OPEN or IN_PROGRESS with dueOn before today (in your time zone)."
    )
    def overdue(self, info: Info) -> bool:
        return (
            self.status.value in OPEN_STATUSES
            and self.due_on is not None
            and self.due_on < info.context.today()
        )

    @strawberry.field(description="The responses it answers that you may see, newest first.")
    async def responses(self, info: Info) -> list[LazyResponse]:
        from plugins.surveys.types.invitations import SurveyResponse

        rows = await info.context.loader(ActionResponsesLoader).load(self.id)
        return [SurveyResponse.from_model(row) for row in rows]

    @strawberry.field(
        description="The monthly mean and CSAT of its dimension's ratings (of its template, "
        "or every template), over the responses you may see, from two months before the "
        "action was created until now (at most 36 months), so the later trend sits beside "
        "the earlier one; empty without a dimension."
    )
    async def trend(self, info: Info) -> list[ImprovementTrendMonth]:
        if self.dimension is None:
            return []
        start = trend_start(info.context, self.created_at)
        key = TrendKey(self.dimension, self.template_id, start)
        months = await info.context.loader(TrendLoader).load(key)
        return [
            ImprovementTrendMonth(month=m.month, mean=m.mean, csat=m.csat, count=m.count)
            for m in months
        ]


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
