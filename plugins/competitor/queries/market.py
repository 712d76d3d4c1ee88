"""Root query fields of market share and trends (``competitors:read``), and
``Competitor.marketShare``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

import strawberry
from sqlalchemy import Select, select
from strawberry import relay

from core.plugin_api import (
    ORDER_BY_HELP,
    Connection,
    Info,
    ListOrder,
    PageArgs,
    RequestContext,
    argument_id,
    bad_argument,
    batch_field,
    requires,
    translator,
)
from plugins.competitor import declarations, models
from plugins.competitor.enums import PeriodKind, SegmentKind
from plugins.competitor.inputs.market import (
    MarketShareFilter,
    MarketShareOrder,
    MarketShareOrderField,
)
from plugins.competitor.loaders.intel import LatestSharesLoader
from plugins.competitor.periods import next_period, parse_period
from plugins.competitor.service import shares, trends
from plugins.competitor.types.market import (
    MarketSegment,
    MarketShare,
    MarketShareSeries,
    PriceTrendSeries,
)

_ = translator(__name__)

READ = requires(declarations.READ)
SHARE_ORDER = ListOrder(
    {
        MarketShareOrderField.PERIOD: models.MarketShare.period_start,
        MarketShareOrderField.SHARE_PERCENT: models.MarketShare.share_percent,
        MarketShareOrderField.CREATED_AT: models.MarketShare.created_at,
    },
    models.MarketShare.id,
    default=[(MarketShareOrderField.PERIOD, True)],
)


def _period(label: str | None, argument: str) -> tuple[PeriodKind, Any] | None:
    if label is None or not label.strip():
        return None
    try:
        return parse_period(label)
    except ValueError:
        raise bad_argument(
            argument, _("must be a period such as 2026-11, 2026-Q3 or 2026")
        ) from None


def share_statement(filter: MarketShareFilter | None) -> Select[Any]:
    """The observations ``filter`` keeps (every one without a filter)."""
    m = models.MarketShare
    statement = select(m)
    if filter is None:
        return statement
    if filter.segment_kind is not None:
        statement = statement.where(m.segment_kind == filter.segment_kind.value)
    segment = shares.segment_key(filter.segment or "")
    if segment:
        statement = statement.where(m.segment_key == segment)
    competitor_id = argument_id(filter.competitor_id, "Competitor", "filter.competitorId")
    if competitor_id is not None:
        statement = statement.where(m.competitor_id == competitor_id)
    if filter.ours is True:
        statement = statement.where(m.competitor_id.is_(None))
    elif filter.ours is False:
        statement = statement.where(m.competitor_id.is_not(None))
    first = _period(filter.from_, "filter.from")
    last = _period(filter.to, "filter.to")
    if first is not None:
        statement = statement.where(m.period_start >= first[1])
    if last is not None:
        end = next_period(last[1], last[0])
        if first is not None and end <= first[1]:
            raise bad_argument("filter.to", _("must not be before from"))
        statement = statement.where(m.period_start < end)
    return statement


@strawberry.type
class MarketQuery:
    @strawberry.field(
        description="Market-share observations, latest period first unless orderBy says otherwise.",
        extensions=READ,
    )
    async def market_shares(
        self,
        info: Info,
        filter: MarketShareFilter | None = None,
        order_by: Annotated[
            list[MarketShareOrder] | None, strawberry.argument(description=ORDER_BY_HELP)
        ] = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[MarketShare] | None:
        return await info.context.page(
            share_statement(filter),
            keys=SHARE_ORDER.keys(order_by),
            args=PageArgs(first, after, last, before),
            to_node=MarketShare.from_model,
        )

    @strawberry.field(
        description="The segments with market-share observations and their periods, by kind "
        "and name.",
        extensions=READ,
    )
    async def market_segments(
        self, info: Info, kind: SegmentKind | None = None
    ) -> list[MarketSegment] | None:
        async with info.context.db.read() as session:
            found = await trends.segments(session, kind)
        return [
            MarketSegment(
                kind=SegmentKind(entry["kind"]), segment=entry["segment"], periods=entry["periods"]
            )
            for entry in found
        ]

    @strawberry.field(
        description="The share of every subject of a segment (ours first, then each "
        "competitor by name) over the last `periods` periods up to the current one, each "
        "with its forecast of the next period.",
        extensions=READ,
    )
    async def market_share_series(
        self,
        info: Info,
        segment_kind: SegmentKind,
        segment: str,
        period_kind: PeriodKind = PeriodKind.QUARTER,
        periods: Annotated[int, strawberry.argument(description="1-40.")] = 8,
    ) -> list[MarketShareSeries] | None:
        async with info.context.db.read() as session:
            found = await trends.share_series(
                session, info.context, segment_kind, segment, period_kind, periods
            )
        return [MarketShareSeries.of(series) for series in found]

    @strawberry.field(
        description="Competitors' average observed prices per period and currency over the "
        "last `periods` periods up to the current one, each with its forecast of the next "
        "period: the products of a category (case does not matter) or one product; give one "
        "of the two. `region` keeps that region's observations (case does not matter).",
        extensions=READ,
    )
    async def price_trend(
        self,
        info: Info,
        category: str | None = None,
        competitor_product_id: relay.GlobalID | None = None,
        region: str | None = None,
        period_kind: PeriodKind = PeriodKind.QUARTER,
        periods: Annotated[int, strawberry.argument(description="1-40.")] = 8,
    ) -> list[PriceTrendSeries] | None:
        product_id = argument_id(competitor_product_id, "CompetitorProduct", "competitorProductId")
        wanted = (category or "").strip()
        if wanted and product_id is not None:
            raise bad_argument("category", _("give category or competitorProductId, not both"))
        if not wanted and product_id is None:
            raise bad_argument("category", _("give category or competitorProductId"))
        async with info.context.db.read() as session:
            found = await trends.price_series(
                session,
                info.context,
                category=wanted or None,
                product_id=product_id,
                region=(region or "").strip() or None,
                period_kind=period_kind,
                periods=periods,
            )
        return [PriceTrendSeries.of(series) for series in found]


async def competitor_market_share(
    context: RequestContext,
    competitors: Sequence[Any],
    segment_kind: SegmentKind | None = None,
    segment: str | None = None,
) -> list[list[MarketShare]]:
    """Each competitor's latest observation of each segment (of that kind, or that segment,
    when given), by segment kind and segment."""
    key = shares.segment_key(segment or "") or None
    kind = segment_kind.value if segment_kind is not None else None
    found = await context.loader(LatestSharesLoader).load_level(
        [(int(competitor.id), kind, key) for competitor in competitors]
    )
    return [[MarketShare.from_model(row) for row in rows] for rows in found]


COMPETITOR_FIELDS: dict[str, Any] = {
    "market_share": batch_field(
        competitor_market_share,
        graphql_type=list[MarketShare],
        description="The competitor's latest market share in each segment (the observation "
        "of the period that starts last), by segment kind and segment; segmentKind and "
        "segment narrow it.",
    ),
}
