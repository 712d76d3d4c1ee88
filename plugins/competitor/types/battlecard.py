"""The battlecard as GraphQL: ``Competitor.battlecard``, what a salesperson needs before
meeting a competitor. Each part is loaded when asked for, for a whole page of competitors
at once, through the loader of the aggregate it belongs to: the SWOT items (profiles), our
record (win/loss over the encounters the caller may read), the price comparison (products,
:class:`~plugins.competitor.loaders.battlecard.BattlecardPricesLoader`) and the intel log.
The PDF (``/competitors/{id}/battlecard.pdf``) shows the same figures."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated

import strawberry

from core.plugin_api import Info, PageArgs
from plugins.competitor.enums import SwotKind
from plugins.competitor.loaders.battlecard import BattlecardPricesLoader
from plugins.competitor.service.battlecard import LATEST_INTEL, TOP_REASONS
from plugins.competitor.service.prices import rounded_percent

if TYPE_CHECKING:
    from plugins.competitor.service.stats import CompetitorFigures
    from plugins.competitor.types.encounters import LossReasonShare
    from plugins.competitor.types.intel import IntelEntry
    from plugins.competitor.types.products import PriceComparison
    from plugins.competitor.types.profiles import CompetitorSwotItem

LazySwotItem = Annotated["CompetitorSwotItem", strawberry.lazy("plugins.competitor.types.profiles")]
LazyPriceComparison = Annotated[
    "PriceComparison", strawberry.lazy("plugins.competitor.types.products")
]
LazyIntelEntry = Annotated["IntelEntry", strawberry.lazy("plugins.competitor.types.intel")]
LazyLossReason = Annotated[
    "LossReasonShare", strawberry.lazy("plugins.competitor.types.encounters")
]


@strawberry.type(
    description="A competitor summed up for a sales conversation: its strengths and "
    "weaknesses, our record against it (the deals you may see), how its prices compare with "
    "ours, and the latest intel. Also a PDF: GET /competitors/{id}/battlecard.pdf with the "
    "same bearer token."
)
class CompetitorBattlecard:
    generated_at: dt.datetime = strawberry.field(description="When it was made.")
    competitor_id: strawberry.Private[int]

    async def _swot(self, info: Info, kind: SwotKind) -> list[CompetitorSwotItem]:
        from plugins.competitor.loaders.profiles import SwotItemsLoader
        from plugins.competitor.types.profiles import CompetitorSwotItem

        rows = await info.context.loader(SwotItemsLoader).load(self.competitor_id)
        return [CompetitorSwotItem.from_model(row) for row in rows if row.kind == kind.value]

    @strawberry.field(description="Its strengths, in the order given.")
    async def strengths(self, info: Info) -> list[LazySwotItem]:
        return await self._swot(info, SwotKind.STRENGTH)

    @strawberry.field(description="Its weaknesses, in the order given.")
    async def weaknesses(self, info: Info) -> list[LazySwotItem]:
        return await self._swot(info, SwotKind.WEAKNESS)

    async def _figures(self, info: Info) -> CompetitorFigures:
        from plugins.competitor.loaders.encounters import WinLossLoader

        return await info.context.loader(WinLossLoader).load(self.competitor_id)

    @strawberry.field(
        description="Our win rate against it: won / (won + lost) in percent, one place (66.7 "
        "means 66.7%); null with no deal decided."
    )
    async def win_rate(self, info: Info) -> float | None:
        rate = (await self._figures(info)).win_rate
        return float(rate) if rate is not None else None

    @strawberry.field(description="Deals met against it (those you may see).")
    async def met(self, info: Info) -> int:
        return (await self._figures(info)).met

    @strawberry.field(description="Deals we won against it.")
    async def won(self, info: Info) -> int:
        return (await self._figures(info)).won

    @strawberry.field(description="Deals we lost to it.")
    async def lost(self, info: Info) -> int:
        return (await self._figures(info)).lost

    @strawberry.field(
        description=f"The {TOP_REASONS} most common reasons we lost to it, the most common "
        "first (ties by reason)."
    )
    async def common_loss_reasons(self, info: Info) -> list[LazyLossReason]:
        from plugins.competitor.types.encounters import CompetitorStats

        return CompetitorStats.of(await self._figures(info)).loss_reasons[:TOP_REASONS]

    @strawberry.field(
        description="How much dearer (positive) or cheaper (negative) its products are than "
        "ours, in percent, one place: the mean difference over its products matched to ours "
        "and priced in the same currency; null when none is."
    )
    async def price_delta(self, info: Info) -> float | None:
        prices = await info.context.loader(BattlecardPricesLoader).load(self.competitor_id)
        return rounded_percent(prices.delta)

    @strawberry.field(
        description="Its products matched to ours, each with its latest price beside ours, by "
        "product name."
    )
    async def price_comparisons(self, info: Info) -> list[LazyPriceComparison]:
        from plugins.competitor.types.products import PriceComparison

        prices = await info.context.loader(BattlecardPricesLoader).load(self.competitor_id)
        return [PriceComparison.from_row(row) for row in prices.rows]

    @strawberry.field(
        description=f"The latest {LATEST_INTEL} intel entries about it, newest first (by "
        "occurredOn)."
    )
    async def latest_intel(self, info: Info) -> list[LazyIntelEntry]:
        from plugins.competitor.loaders.intel import INTEL_KEYS, intel_loaders
        from plugins.competitor.types.intel import IntelEntry

        pages, _counts = intel_loaders(frozenset())
        page = await info.context.child_page(
            pages,
            None,
            self.competitor_id,
            PageArgs(first=LATEST_INTEL),
            IntelEntry.from_model,
            INTEL_KEYS,
        )
        return [edge.node for edge in page.edges]
