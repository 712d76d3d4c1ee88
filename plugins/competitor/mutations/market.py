"""Root mutation fields of market share: each takes one input, runs in one transaction and
answers with a payload."""

from __future__ import annotations

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import Check, Info, mutate, requires
from plugins.competitor import declarations, models
from plugins.competitor.inputs.market import (
    DeleteMarketShareInput,
    RecordMarketShareInput,
    UpdateMarketShareInput,
)
from plugins.competitor.service import shares
from plugins.competitor.types.market import (
    DeleteMarketSharePayload,
    RecordMarketSharePayload,
    UpdateMarketSharePayload,
)

SHARE_FIELDS = ("segment_kind", "segment", "period", "share_percent", "source", "confidence")


@strawberry.type
class MarketMutation:
    @strawberry.mutation(
        description="Record a market-share observation: a competitor's share of a segment in "
        "a period, or ours (no competitorId). One per subject, segment and period; the "
        "shares of a segment and period may not add up past 100%.",
        extensions=requires(declarations.WRITE),
    )
    async def record_market_share(
        self, info: Info, input: RecordMarketShareInput
    ) -> RecordMarketSharePayload | None:
        async def work(session: AsyncSession) -> models.MarketShare:
            check = Check()
            competitor_id = check.node_id("competitorId", input.competitor_id, "Competitor")
            values = {name: getattr(input, name) for name in SHARE_FIELDS}
            return await shares.record_share(session, info.context, check, competitor_id, values)

        return await mutate(info, work, RecordMarketSharePayload.of)

    @strawberry.mutation(
        description="Correct a market-share observation; fields left out stay as they are.",
        extensions=requires(declarations.MANAGE),
    )
    async def update_market_share(
        self, info: Info, input: UpdateMarketShareInput
    ) -> UpdateMarketSharePayload | None:
        async def work(session: AsyncSession) -> models.MarketShare:
            check = Check()
            share_id = check.node_id("id", input.id, "MarketShare")
            check.done()
            changes = {
                name: getattr(input, name)
                for name in SHARE_FIELDS
                if getattr(input, name) is not strawberry.UNSET
            }
            return await shares.update_share(
                session, info.context, share_id, input.version, changes
            )

        return await mutate(info, work, UpdateMarketSharePayload.of)

    @strawberry.mutation(
        description="Delete a market-share observation.",
        extensions=requires(declarations.MANAGE),
    )
    async def delete_market_share(
        self, info: Info, input: DeleteMarketShareInput
    ) -> DeleteMarketSharePayload | None:
        async def work(session: AsyncSession) -> models.MarketShare:
            check = Check()
            share_id = check.node_id("id", input.id, "MarketShare")
            check.done()
            return await shares.delete_share(session, info.context, share_id, input.version)

        return await mutate(info, work, DeleteMarketSharePayload.of)
