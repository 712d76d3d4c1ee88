"""The battlecard as GraphQL: ``Competitor.battlecard``, what a salesperson needs before
meeting a competitor. Each part is loaded when asked for, for a whole page of competitors
at once, through the loader of the aggregate it belongs to: the SWOT items (profiles), our
record (win/loss over the encounters the caller may read), the price comparison (products,
:class:`~plugins.competitor.loaders.battlecard.BattlecardPricesLoader`) and the intel log.
The PDF (``/competitors/{id}/battlecard.pdf``) shows the same figures."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated

import strawberry

from core.plugin_api import PageArgs, RequestContext, batch_field
from plugins.competitor.enums import SwotKind
from plugins.competitor.loaders.battlecard import BattlecardPricesLoader
from plugins.competitor.service.battlecard import LATEST_INTEL, TOP_REASONS
from plugins.competitor.service.prices import rounded_percent
from plugins.competitor.types.profiles import swot_items

if TYPE_CHECKING:
    from plugins.competitor.service.battlecard import Prices
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


def _ids(cards: Sequence[CompetitorBattlecard]) -> list[int]:
    return [card.competitor_id for card in cards]


async def _figures(
    context: RequestContext, cards: Sequence[CompetitorBattlecard]
) -> list[CompetitorFigures]:
    from plugins.competitor.loaders.encounters import WinLossLoader

    found: list[CompetitorFigures] = await context.loader(WinLossLoader).load_level(_ids(cards))
    return found


async def _win_rates(
    context: RequestContext, cards: Sequence[CompetitorBattlecard]
) -> list[float | None]:
    rates = [figures.win_rate for figures in await _figures(context, cards)]
    return [float(rate) if rate is not None else None for rate in rates]


async def _met(context: RequestContext, cards: Sequence[CompetitorBattlecard]) -> list[int]:
    return [figures.met for figures in await _figures(context, cards)]


async def _won(context: RequestContext, cards: Sequence[CompetitorBattlecard]) -> list[int]:
    return [figures.won for figures in await _figures(context, cards)]


async def _lost(context: RequestContext, cards: Sequence[CompetitorBattlecard]) -> list[int]:
    return [figures.lost for figures in await _figures(context, cards)]


async def _common_loss_reasons(
    context: RequestContext, cards: Sequence[CompetitorBattlecard]
) -> list[list[LossReasonShare]]:
    from plugins.competitor.types.encounters import CompetitorStats

    return [
        CompetitorStats.of(figures).loss_reasons[:TOP_REASONS]
        for figures in await _figures(context, cards)
    ]


async def _prices(context: RequestContext, cards: Sequence[CompetitorBattlecard]) -> list[Prices]:
    found: list[Prices] = await context.loader(BattlecardPricesLoader).load_level(_ids(cards))
    return found


async def _price_deltas(
    context: RequestContext, cards: Sequence[CompetitorBattlecard]
) -> list[float | None]:
    return [rounded_percent(prices.delta) for prices in await _prices(context, cards)]


async def _price_comparisons(
    context: RequestContext, cards: Sequence[CompetitorBattlecard]
) -> list[list[PriceComparison]]:
    from plugins.competitor.types.products import PriceComparison

    return [
        [PriceComparison.from_row(row) for row in prices.rows]
        for prices in await _prices(context, cards)
    ]


async def _latest_intel(
    context: RequestContext, cards: Sequence[CompetitorBattlecard]
) -> list[list[IntelEntry]]:
    from plugins.competitor.loaders.intel import INTEL_KEYS, intel_loaders
    from plugins.competitor.types.intel import IntelEntry

    pages, _counts = intel_loaders(frozenset())
    found = await context.child_pages(
        pages,
        None,
        _ids(cards),
        PageArgs(first=LATEST_INTEL),
        IntelEntry.from_model,
        INTEL_KEYS,
    )
    return [[edge.node for edge in page.edges] for page in found]


@strawberry.type(
    description="A competitor summed up for a sales conversation: its strengths and "
    "weaknesses, our record against it (the deals you may see), how its prices compare with "
    "ours, and the latest intel. Also a PDF: GET /competitors/{id}/battlecard.pdf with the "
    "same bearer token."
)
class CompetitorBattlecard:
    generated_at: dt.datetime = strawberry.field(description="When it was made.")
    competitor_id: strawberry.Private[int]
    strengths: list[LazySwotItem] = batch_field(
        swot_items(SwotKind.STRENGTH, competitor="competitor_id"),
        description="Its strengths, in the order given.",
    )
    weaknesses: list[LazySwotItem] = batch_field(
        swot_items(SwotKind.WEAKNESS, competitor="competitor_id"),
        description="Its weaknesses, in the order given.",
    )
    win_rate: float | None = batch_field(
        _win_rates,
        description="Our win rate against it: won / (won + lost) in percent, one place (66.7 "
        "means 66.7%); null with no deal decided.",
    )
    met: int = batch_field(_met, description="Deals met against it (those you may see).")
    won: int = batch_field(_won, description="Deals we won against it.")
    lost: int = batch_field(_lost, description="Deals we lost to it.")
    common_loss_reasons: list[LazyLossReason] = batch_field(
        _common_loss_reasons,
        description=f"The {TOP_REASONS} most common reasons we lost to it, the most common "
        "first (ties by reason).",
    )
    price_delta: float | None = batch_field(
        _price_deltas,
        description="How much dearer (positive) or cheaper (negative) its products are than "
        "ours, in percent, one place: the mean difference over its products matched to ours "
        "and priced in the same currency; null when none is.",
    )
    price_comparisons: list[LazyPriceComparison] = batch_field(
        _price_comparisons,
        description="Its products matched to ours, each with its latest price beside ours, by "
        "product name.",
    )
    latest_intel: list[LazyIntelEntry] = batch_field(
        _latest_intel,
        description=f"The latest {LATEST_INTEL} intel entries about it, newest first (by "
        "occurredOn).",
    )
