"""Mutations of the pipeline's stages (``sales:manage``)."""

from __future__ import annotations

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import Check, Info, mutate, requires
from plugins.sales import declarations, models
from plugins.sales.inputs.pipeline import CreateSalesStageInput, UpdateSalesStageInput
from plugins.sales.service import pipeline as service
from plugins.sales.types.pipeline import CreateSalesStagePayload, UpdateSalesStagePayload


@strawberry.type
class PipelineMutation:
    @strawberry.mutation(
        description="Add an OPEN stage to the pipeline.", extensions=requires(declarations.MANAGE)
    )
    async def create_sales_stage(
        self, info: Info, input: CreateSalesStageInput
    ) -> CreateSalesStagePayload | None:
        async def work(session: AsyncSession) -> models.Stage:
            return await service.create_stage(
                session, info.context, input.key, input.name, input.probability, input.position
            )

        return await mutate(info, work, CreateSalesStagePayload.of)

    @strawberry.mutation(
        description="Rename, reorder, re-weigh or retire a stage.",
        extensions=requires(declarations.MANAGE),
    )
    async def update_sales_stage(
        self, info: Info, input: UpdateSalesStageInput
    ) -> UpdateSalesStagePayload | None:
        async def work(session: AsyncSession) -> models.Stage:
            check = Check()
            stage_id = check.node_id("id", input.id, "SalesStage")
            check.done()
            changes = {
                name: getattr(input, name)
                for name in ("name", "probability", "position", "active")
                if getattr(input, name) is not strawberry.UNSET
            }
            return await service.update_stage(session, info.context, stage_id, changes)

        return await mutate(info, work, UpdateSalesStagePayload.of)
