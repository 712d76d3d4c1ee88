"""Root mutation fields of the intel log and of watching competitors: each takes one input,
runs in one transaction and answers with a payload."""

from __future__ import annotations

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import Check, Info, mutate, requires
from plugins.competitor import declarations, models
from plugins.competitor.inputs.intel import (
    DeleteIntelInput,
    LogIntelInput,
    UnwatchCompetitorInput,
    UpdateIntelInput,
    WatchCompetitorInput,
)
from plugins.competitor.service import intel as service
from plugins.competitor.types.intel import (
    DeleteIntelPayload,
    LogIntelPayload,
    UnwatchCompetitorPayload,
    UpdateIntelPayload,
    WatchCompetitorPayload,
)

INTEL_FIELDS = ("kind", "summary", "source_url", "confidence", "occurred_on")


@strawberry.type
class IntelMutation:
    @strawberry.mutation(
        description="Log an intel entry about a competitor; everyone watching it but you is told.",
        extensions=requires(declarations.WRITE),
    )
    async def log_intel(self, info: Info, input: LogIntelInput) -> LogIntelPayload | None:
        async def work(session: AsyncSession) -> models.Intel:
            check = Check()
            competitor_id = check.node_id("competitorId", input.competitor_id, "Competitor")
            values = {name: getattr(input, name) for name in INTEL_FIELDS}
            return await service.log_intel(session, info.context, check, competitor_id, values)

        return await mutate(info, work, LogIntelPayload.of)

    @strawberry.mutation(
        description="Correct an intel entry (its reporter, or with competitors:manage); "
        "fields left out stay as they are.",
        extensions=requires(),
    )
    async def update_intel(self, info: Info, input: UpdateIntelInput) -> UpdateIntelPayload | None:
        async def work(session: AsyncSession) -> models.Intel:
            check = Check()
            intel_id = check.node_id("id", input.id, "IntelEntry")
            check.done()
            changes = {
                name: getattr(input, name)
                for name in INTEL_FIELDS
                if getattr(input, name) is not strawberry.UNSET
            }
            return await service.update_intel(session, info.context, intel_id, changes)

        return await mutate(info, work, UpdateIntelPayload.of)

    @strawberry.mutation(
        description="Delete an intel entry; the SWOT items citing it cite it no more.",
        extensions=requires(declarations.MANAGE),
    )
    async def delete_intel(self, info: Info, input: DeleteIntelInput) -> DeleteIntelPayload | None:
        async def work(session: AsyncSession) -> models.Intel:
            check = Check()
            intel_id = check.node_id("id", input.id, "IntelEntry")
            check.done()
            return await service.delete_intel(session, info.context, intel_id)

        return await mutate(info, work, DeleteIntelPayload.of)

    @strawberry.mutation(
        description="Watch a competitor: you are told of each intel entry others log about "
        "it. Watching it already is no error.",
        extensions=requires(declarations.READ),
    )
    async def watch_competitor(
        self, info: Info, input: WatchCompetitorInput
    ) -> WatchCompetitorPayload | None:
        async def work(session: AsyncSession) -> int:
            check = Check()
            competitor_id = check.node_id("id", input.id, "Competitor")
            check.done()
            return await service.watch(session, info.context, competitor_id)

        return await mutate(info, work, WatchCompetitorPayload.of)

    @strawberry.mutation(
        description="Stop watching a competitor. Not watching it is no error.",
        extensions=requires(declarations.READ),
    )
    async def unwatch_competitor(
        self, info: Info, input: UnwatchCompetitorInput
    ) -> UnwatchCompetitorPayload | None:
        async def work(session: AsyncSession) -> int:
            check = Check()
            competitor_id = check.node_id("id", input.id, "Competitor")
            check.done()
            return await service.unwatch(session, info.context, competitor_id)

        return await mutate(info, work, UnwatchCompetitorPayload.of)
