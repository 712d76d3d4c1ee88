"""The programme, its tiers and its figures."""

from __future__ import annotations

import strawberry

from core.plugin_api import DateTimeRange, Info, requires
from plugins.loyalty import declarations
from plugins.loyalty.service import programme as service
from plugins.loyalty.service import stats
from plugins.loyalty.types.programme import LoyaltyProgramme
from plugins.loyalty.types.stats import LoyaltyStats


@strawberry.type
class ProgrammeQuery:
    @strawberry.field(
        description="The loyalty programme's settings and tiers.",
        extensions=requires(declarations.READ),
    )
    async def loyalty_programme(self, info: Info) -> LoyaltyProgramme | None:
        async with info.context.db.read() as session:
            return LoyaltyProgramme.from_model(await service.load(session))

    @strawberry.field(
        description=(
            "The programme's figures over the accounts you may read: the liability now, and "
            "per calendar month of the period (the deployment's time zone) what was earned, "
            "redeemed, expired and reversed. Without a period: this month and the 11 before."
        ),
        extensions=requires(declarations.READ),
    )
    async def loyalty_stats(
        self, info: Info, period: DateTimeRange | None = None
    ) -> LoyaltyStats | None:
        starts_at = period.from_ if period is not None else None
        ends_at = period.to if period is not None else None
        async with info.context.db.read() as session:
            found = await stats.stats(session, info.context, starts_at, ends_at)
        return LoyaltyStats.of(found)
