"""GraphQL types of market share and trends: the MarketShare node, the segments observed, the
share and price series with their forecasts, and the payloads of the share mutations.

Shares are percentages as ``Float``: an observation as recorded (two decimal places at
most), a forecast rounded to one decimal place (66.7 means 66.7%)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any, Self

import strawberry
from strawberry import relay

from core.plugin_api import (
    ModelNode,
    Money,
    RequestContext,
    UserError,
    UserSummary,
    batch_field,
    related,
)
from plugins.competitor import models
from plugins.competitor.enums import Confidence, PeriodKind, SegmentKind
from plugins.competitor.loaders.intel import MarketShareByIdLoader
from plugins.competitor.periods import period_label
from plugins.competitor.service import trends

if TYPE_CHECKING:
    from plugins.competitor.types.products import CompetitorProduct
    from plugins.competitor.types.profiles import Competitor

CompetitorRef = Annotated["Competitor", strawberry.lazy("plugins.competitor.types.profiles")]
ProductRef = Annotated["CompetitorProduct", strawberry.lazy("plugins.competitor.types.products")]


def _competitor_type() -> type[Competitor]:
    from plugins.competitor.types.profiles import Competitor

    return Competitor


def _product_type() -> type[CompetitorProduct]:
    from plugins.competitor.types.products import CompetitorProduct

    return CompetitorProduct


async def _ours(_context: RequestContext, shares: Sequence[MarketShare]) -> list[bool]:
    return [share.competitor_id is None for share in shares]


@strawberry.type(
    description="A market-share observation: a competitor's share of a segment in a period, "
    "or ours (competitor null)."
)
class MarketShare(ModelNode[models.MarketShare]):
    by_id_loader = MarketShareByIdLoader
    id: relay.NodeID[int]
    segment_kind: SegmentKind
    segment: str = strawberry.field(
        description="The industry or region as this observation spells it (segments are "
        "compared regardless of case)."
    )
    period: str = strawberry.field(description="The period's label: 2026-11, 2026-Q3 or 2026.")
    period_kind: PeriodKind
    period_start: dt.date = strawberry.field(description="The period's first day.")
    share_percent: float = strawberry.field(description="The share, 0-100, as recorded.")
    source: str | None
    confidence: Confidence
    created_at: dt.datetime
    updated_at: dt.datetime
    version: int
    competitor_id: strawberry.Private[int | None]
    reporter_id: strawberry.Private[int | None]
    ours: bool = batch_field(_ours, description="true: our own share (competitor is null).")
    competitor: CompetitorRef | None = batch_field(
        related(_competitor_type, "competitor_id"), description="Whose share it is; null: ours."
    )
    reporter: UserSummary | None = batch_field(
        related(UserSummary, "reporter_id"),
        description="Who recorded it; null when nobody is known.",
    )

    @classmethod
    def from_model(cls, row: Any) -> Self:
        kind = PeriodKind(row.period_kind)
        return cls(
            id=row.id,
            segment_kind=SegmentKind(row.segment_kind),
            segment=row.segment,
            period=period_label(row.period_start, kind),
            period_kind=kind,
            period_start=row.period_start,
            share_percent=float(row.share_percent),
            source=row.source,
            confidence=Confidence(row.confidence),
            created_at=row.created_at,
            updated_at=row.updated_at,
            version=row.version,
            competitor_id=row.competitor_id,
            reporter_id=row.reporter_id,
        )


@strawberry.type(description="A market segment observed, and the periods it was observed in.")
class MarketSegment:
    kind: SegmentKind
    segment: str
    periods: list[str] = strawberry.field(description="Period labels, earliest first.")


@strawberry.type(description="A share in a period: observed, or forecast (isForecast).")
class MarketSharePoint:
    period: str
    period_start: dt.date
    share_percent: float
    is_forecast: bool = strawberry.field(
        description="true: the least-squares forecast, not an observation."
    )

    @classmethod
    def of(cls, point: trends.Point, forecast: bool) -> Self:
        return cls(
            period=point.label,
            period_start=point.start,
            share_percent=float(point.value),
            is_forecast=forecast,
        )


@strawberry.type(description="One subject's share of a segment over the periods asked for.")
class MarketShareSeries:
    ours: bool = strawberry.field(description="true: our own share (competitor is null).")
    points: list[MarketSharePoint] = strawberry.field(
        description="The observed periods, in order; a period without an observation is "
        "absent (not zero)."
    )
    forecast: MarketSharePoint | None = strawberry.field(
        description="The next period after the last point, by least squares over the last "
        "consecutive points (CRM_COMPETITOR_FORECAST_PERIODS of them at most), within "
        "0-100; null with fewer than two consecutive points."
    )
    competitor_id: strawberry.Private[int | None]
    competitor: CompetitorRef | None = batch_field(
        related(_competitor_type, "competitor_id"), description="Whose share it is; null: ours."
    )

    @classmethod
    def of(cls, series: trends.ShareSeries) -> Self:
        return cls(
            ours=series.competitor_id is None,
            points=[MarketSharePoint.of(point, False) for point in series.points],
            forecast=MarketSharePoint.of(series.forecast, True) if series.forecast else None,
            competitor_id=series.competitor_id,
        )


@strawberry.type(
    description="A competitor product's average observed price in a period: observed, or "
    "forecast (isForecast)."
)
class PriceTrendPoint:
    period: str
    period_start: dt.date
    price: Money = strawberry.field(
        description="The average of the period's observations (or the forecast), at the "
        "currency's places."
    )
    observations: int = strawberry.field(description="Prices averaged; 0 for a forecast.")
    is_forecast: bool = strawberry.field(
        description="true: the least-squares forecast, not an observation."
    )

    @classmethod
    def of(cls, point: trends.Point, currency: str, forecast: bool) -> Self:
        return cls(
            period=point.label,
            period_start=point.start,
            price=Money.of(point.value, currency),
            observations=point.observations,
            is_forecast=forecast,
        )


@strawberry.type(description="A competitor product's price in one currency over the periods.")
class PriceTrendSeries:
    product_name: str
    competitor_name: str
    currency: str
    points: list[PriceTrendPoint] = strawberry.field(
        description="The periods with observations, in order; others are absent."
    )
    forecast: PriceTrendPoint | None = strawberry.field(
        description="The next period after the last point, by least squares over the last "
        "consecutive points (CRM_COMPETITOR_FORECAST_PERIODS of them at most), not below 0; "
        "null with fewer than two consecutive points."
    )
    product_id: strawberry.Private[int]
    competitor_id: strawberry.Private[int]
    product: ProductRef | None = batch_field(
        related(_product_type, "product_id"), description="The competitor's product."
    )
    competitor: CompetitorRef | None = batch_field(
        related(_competitor_type, "competitor_id"), description="The competitor."
    )

    @classmethod
    def of(cls, series: trends.PriceSeries) -> Self:
        currency = series.currency
        return cls(
            product_name=series.product_name,
            competitor_name=series.competitor_name,
            currency=currency,
            points=[PriceTrendPoint.of(point, currency, False) for point in series.points],
            forecast=(
                PriceTrendPoint.of(series.forecast, currency, True) if series.forecast else None
            ),
            product_id=series.product_id,
            competitor_id=series.competitor_id,
        )


@strawberry.type
class MarketSharePayload:
    market_share: MarketShare | None
    errors: list[UserError]

    @classmethod
    def of(cls, row: models.MarketShare | None, errors: list[UserError]) -> Self:
        return cls(market_share=MarketShare.from_model(row) if row else None, errors=errors)


@strawberry.type
class RecordMarketSharePayload(MarketSharePayload):
    pass


@strawberry.type
class UpdateMarketSharePayload(MarketSharePayload):
    pass


@strawberry.type
class DeleteMarketSharePayload:
    deleted_id: relay.GlobalID | None = strawberry.field(
        description="The id of the observation removed; null when refused."
    )
    errors: list[UserError]

    @classmethod
    def of(cls, row: models.MarketShare | None, errors: list[UserError]) -> Self:
        deleted = (
            relay.GlobalID("MarketShare", str(row.id)) if row is not None and not errors else None
        )
        return cls(deleted_id=deleted, errors=errors)


NODES: list[type[Any]] = [MarketShare]
"""Node types of this module (for ``node(id:)``)."""
