"""The battlecard: what a salesperson needs on one page before meeting a competitor. Its
strengths and weaknesses (the SWOT), our record against it (deals met, won and lost, the win
rate and the three most common reasons we lost), how its prices compare with ours (the
average difference over its products matched to ours, and each product's comparison), and
the latest intel, as of the moment it was made.

Nothing is computed here that another aggregate computes: the SWOT comes from
:func:`.profiles.swot_items`, the record from :func:`.stats.win_loss` (only the encounters
the caller may read count), the prices from :func:`.prices.price_comparison` and
:func:`.prices.average_delta`, the intel from :func:`.intel.latest_intel`. The GraphQL
``Competitor.battlecard`` loads each part for a whole page of competitors at once
(:mod:`plugins.competitor.loaders.battlecard`); the PDF (:mod:`plugins.competitor.pdf`)
renders the :class:`Battlecard` that :func:`battlecard` builds.

Rates and the price delta stay exact decimals here; :func:`.prices.one_place` rounds them
once, half-up, where they are shown.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import RequestContext
from plugins.competitor import models
from plugins.competitor.enums import SwotKind
from plugins.competitor.service.intel import latest_intel
from plugins.competitor.service.prices import PriceComparisonRow, average_delta, price_comparison
from plugins.competitor.service.profiles import swot_items
from plugins.competitor.service.stats import StatsFilter, win_loss

TOP_REASONS = 3
"""How many loss reasons a battlecard shows."""
LATEST_INTEL = 5
"""How many intel entries a battlecard shows."""


@dataclasses.dataclass(frozen=True)
class Sides:
    """A competitor's strengths and weaknesses, each in its order."""

    strengths: list[models.SwotItem] = dataclasses.field(default_factory=list)
    weaknesses: list[models.SwotItem] = dataclasses.field(default_factory=list)


@dataclasses.dataclass(frozen=True)
class Record:
    """Our record against a competitor over all time: deals met, won and lost, the win rate
    (``won / (won + lost) * 100``, one place, ``None`` with nothing decided) and the most
    common reasons we lost, ``(reason, count, share of the deals lost in percent)``, the
    most common first (at most :data:`TOP_REASONS`)."""

    met: int = 0
    won: int = 0
    lost: int = 0
    win_rate: decimal.Decimal | None = None
    loss_reasons: list[tuple[str, int, decimal.Decimal | None]] = dataclasses.field(
        default_factory=list
    )


@dataclasses.dataclass(frozen=True)
class Prices:
    """A competitor's products compared with ours (one row per product with a price), and
    ``delta``: the mean difference in percent over the rows that compare (their price
    against ours in the same currency; positive: they are dearer), ``None`` when none do."""

    rows: list[PriceComparisonRow] = dataclasses.field(default_factory=list)
    delta: decimal.Decimal | None = None


@dataclasses.dataclass(frozen=True)
class Battlecard:
    """Everything a battlecard shows, for one competitor and one caller."""

    competitor_id: int
    name: str
    status: str
    threat_level: str
    positioning: str | None
    website: str | None
    country: str | None
    sides: Sides
    record: Record
    prices: Prices
    intel: list[models.Intel]
    """The latest entries, newest first (at most :data:`LATEST_INTEL`)."""
    generated_at: dt.datetime
    """When it was made (aware UTC; shown in the caller's zone)."""


async def sides(session: AsyncSession, competitor_ids: Sequence[int]) -> dict[int, Sides]:
    """The strengths and weaknesses of each of ``competitor_ids`` (every id is a key)."""
    found = await swot_items(session, competitor_ids)
    return {
        competitor_id: Sides(
            strengths=[
                i for i in found.get(competitor_id, []) if i.kind == SwotKind.STRENGTH.value
            ],
            weaknesses=[
                i for i in found.get(competitor_id, []) if i.kind == SwotKind.WEAKNESS.value
            ],
        )
        for competitor_id in competitor_ids
    }


async def records(
    session: AsyncSession, context: RequestContext, competitor_ids: Sequence[int]
) -> dict[int, Record]:
    """Our record against each of ``competitor_ids`` (every id is a key), counting the
    encounters the caller may read: one aggregate for them all."""
    found: dict[int, Record] = {competitor_id: Record() for competitor_id in competitor_ids}
    if not competitor_ids:
        return found
    for figures in await win_loss(session, context, StatsFilter(competitor_ids=competitor_ids)):
        if figures.competitor_id in found:
            found[figures.competitor_id] = Record(
                met=figures.met,
                won=figures.won,
                lost=figures.lost,
                win_rate=figures.win_rate,
                loss_reasons=[
                    (reason, count, figures.reason_share(count))
                    for reason, count in figures.loss_reasons[:TOP_REASONS]
                ],
            )
    return found


async def prices(
    session: AsyncSession, context: RequestContext, competitor_ids: Sequence[int]
) -> dict[int, Prices]:
    """The products of each of ``competitor_ids`` (archived ones too) matched to ours,
    compared with ours, and the average difference (every id is a key): one comparison for
    them all."""
    grouped: dict[int, list[PriceComparisonRow]] = {key: [] for key in competitor_ids}
    if grouped:
        for row in await price_comparison(session, context, competitor_ids=list(grouped)):
            grouped[row.competitor_id].append(row)
    return {
        competitor_id: Prices(rows=found, delta=average_delta(found))
        for competitor_id, found in grouped.items()
    }


async def intel(session: AsyncSession, competitor_id: int) -> list[models.Intel]:
    """The competitor's latest intel entries, newest first."""
    return await latest_intel(session, competitor_id, LATEST_INTEL)


async def battlecard(
    session: AsyncSession, context: RequestContext, competitor_id: int
) -> Battlecard | None:
    """The battlecard of a competitor as the caller sees it now; ``None`` when there is no
    such competitor. The caller must hold ``competitors:read`` (checked by the caller of
    this function)."""
    competitor = await session.get(models.Competitor, competitor_id)
    if competitor is None:
        return None
    ids = [competitor_id]
    return Battlecard(
        competitor_id=competitor.id,
        name=competitor.name,
        status=competitor.status,
        threat_level=competitor.threat_level,
        positioning=competitor.positioning,
        website=competitor.website,
        country=competitor.country,
        sides=(await sides(session, ids))[competitor_id],
        record=(await records(session, context, ids))[competitor_id],
        prices=(await prices(session, context, ids))[competitor_id],
        intel=await intel(session, competitor_id),
        generated_at=context.now(),
    )
