"""GraphQL types of the pipeline: its stages, and the payloads of their mutations."""

from __future__ import annotations

import enum
from typing import Self

import strawberry
from strawberry import relay

from core.plugin_api import ModelNode, UserError
from plugins.sales import models
from plugins.sales.loaders.pipeline import StageByIdLoader


@strawberry.enum(description="OPEN stages are worked in order; WON and LOST close a deal.")
class StageKind(enum.Enum):
    OPEN = "OPEN"
    WON = "WON"
    LOST = "LOST"


@strawberry.type(name="SalesStage", description="A stage of the sales pipeline.")
class SalesStage(ModelNode[models.Stage]):
    by_id_loader = StageByIdLoader
    id: relay.NodeID[int]
    key: str = strawberry.field(description="Upper snake case, unique, never changes: LEAD.")
    name: str
    kind: StageKind
    position: int = strawberry.field(
        description="Order of the OPEN stages, from 1; WON and LOST come after them."
    )
    probability: int = strawberry.field(
        description="Default win probability in percent (0-100) of an opportunity here."
    )
    active: bool = strawberry.field(
        description="false: no opportunity can be moved here (WON and LOST are always active)."
    )

    @classmethod
    def from_model(cls, row: models.Stage) -> Self:
        return cls(
            id=row.id,
            key=row.key,
            name=row.name,
            kind=StageKind(row.kind),
            position=row.position,
            probability=row.probability,
            active=row.active,
        )


@strawberry.type
class SalesStagePayload:
    stage: SalesStage | None
    errors: list[UserError]

    @classmethod
    def of(cls, row: models.Stage | None, errors: list[UserError]) -> Self:
        return cls(stage=SalesStage.from_model(row) if row else None, errors=errors)


@strawberry.type
class CreateSalesStagePayload(SalesStagePayload):
    pass


@strawberry.type
class UpdateSalesStagePayload(SalesStagePayload):
    pass
