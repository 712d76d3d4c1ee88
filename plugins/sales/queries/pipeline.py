"""Root query fields of the pipeline."""

from __future__ import annotations

import strawberry

from core.plugin_api import Info, requires
from plugins.sales import declarations
from plugins.sales.service import pipeline as service
from plugins.sales.types.pipeline import SalesStage


@strawberry.type
class PipelineQuery:
    @strawberry.field(
        description="The pipeline's stages: the OPEN ones in order, then WON, then LOST "
        "(inactive ones included, marked active: false).",
        extensions=requires(declarations.READ),
    )
    async def sales_stages(self, info: Info) -> list[SalesStage] | None:
        async with info.context.db.read() as session:
            rows = await service.stages(session)
        return [SalesStage.from_model(row) for row in rows]
