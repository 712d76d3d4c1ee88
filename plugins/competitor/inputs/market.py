"""GraphQL inputs of market share: the observations' list filter and order, and the inputs of
recording, correcting and deleting an observation."""

from __future__ import annotations

import decimal
import enum

import strawberry
from strawberry import relay

from core.plugin_api import OrderDirection
from plugins.competitor.enums import Confidence, SegmentKind


@strawberry.input
class MarketShareFilter:
    segment_kind: SegmentKind | None = None
    segment: str | None = strawberry.field(
        default=None, description="Exactly this segment (case does not matter)."
    )
    competitor_id: relay.GlobalID | None = strawberry.field(
        default=None, description="That competitor's observations."
    )
    ours: bool | None = strawberry.field(
        default=None,
        description="true: our own share only; false: competitors' only; null: both.",
    )
    from_: str | None = strawberry.field(
        default=None,
        name="from",
        description="A period label (2026-11, 2026-Q3, 2026): observations of periods that "
        "start on or after its first day.",
    )
    to: str | None = strawberry.field(
        default=None,
        description="A period label: observations of periods that start before its end.",
    )


@strawberry.enum(description="What a market-share list sorts by.")
class MarketShareOrderField(enum.Enum):
    PERIOD = "PERIOD"
    """The period's first day."""
    SHARE_PERCENT = "SHARE_PERCENT"
    CREATED_AT = "CREATED_AT"


@strawberry.input(description="One entry of a market-share list's orderBy.")
class MarketShareOrder:
    field: MarketShareOrderField
    direction: OrderDirection = OrderDirection.ASC


@strawberry.input
class RecordMarketShareInput:
    competitor_id: relay.GlobalID | None = strawberry.field(
        default=None, description="The competitor whose share it is; null: our own share."
    )
    segment_kind: SegmentKind
    segment: str = strawberry.field(
        description="The industry or region (up to 100 characters; case does not matter)."
    )
    period: str = strawberry.field(
        description="A period that has begun: 2026-11 (a month), 2026-Q3 (a quarter) or 2026 "
        "(a year)."
    )
    share_percent: decimal.Decimal = strawberry.field(
        description="0-100, at most two decimal places (35.5 means 35.5%). The shares of one "
        "segment and period, ours included, add up to 100 at most."
    )
    source: str | None = strawberry.field(
        default=None, description="Where the figure comes from (a report, a URL)."
    )
    confidence: Confidence = Confidence.MEDIUM


@strawberry.input(description="Fields left out stay as they are; the subject cannot change.")
class UpdateMarketShareInput:
    id: relay.GlobalID
    version: int = strawberry.field(description="The version you read; a stale one is refused.")
    segment_kind: SegmentKind | None = strawberry.UNSET
    segment: str | None = strawberry.UNSET
    period: str | None = strawberry.UNSET
    share_percent: decimal.Decimal | None = strawberry.UNSET
    source: str | None = strawberry.field(default=strawberry.UNSET, description="null clears.")
    confidence: Confidence | None = strawberry.UNSET


@strawberry.input
class DeleteMarketShareInput:
    id: relay.GlobalID
    version: int = strawberry.field(description="The version you read; a stale one is refused.")
