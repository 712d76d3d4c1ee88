"""GraphQL inputs of encounters and win/loss figures."""

from __future__ import annotations

import datetime as dt
import decimal
import enum

import strawberry
from strawberry import relay

from core.plugin_api import OrderDirection
from plugins.competitor.enums import (
    EncounterOutcome,
    EncounterReason,
    EncounterSource,
    SegmentKind,
)


@strawberry.input(description="Days from one to another, both included.")
class EncounterDateRange:
    from_: dt.date | None = strawberry.field(default=None, name="from")
    to: dt.date | None = None


@strawberry.input
class CompetitorEncounterFilter:
    competitor_ids: list[relay.GlobalID] | None = None
    outcome: EncounterOutcome | None = None
    source: EncounterSource | None = None
    owner_id: relay.GlobalID | None = None
    customer_id: relay.GlobalID | None = None
    occurred: EncounterDateRange | None = None


@strawberry.enum(description="What an encounter list sorts by.")
class CompetitorEncounterOrderField(enum.Enum):
    OCCURRED_ON = "OCCURRED_ON"
    CREATED_AT = "CREATED_AT"


@strawberry.input(description="One entry of an encounter list's orderBy.")
class CompetitorEncounterOrder:
    field: CompetitorEncounterOrderField
    direction: OrderDirection = OrderDirection.ASC


@strawberry.input(description="A market segment: customers of an industry or a region.")
class StatsSegment:
    kind: SegmentKind
    value: str = strawberry.field(
        description="The customer's industry or region, compared case-insensitively."
    )


@strawberry.input
class CompetitorStatsFilter:
    period: EncounterDateRange | None = strawberry.field(
        default=None, description="The days the encounters occurred on, both included."
    )
    owner_id: relay.GlobalID | None = None
    segment: StatsSegment | None = None
    competitor_ids: list[relay.GlobalID] | None = None


@strawberry.input
class RecordEncounterInput:
    competitor_id: relay.GlobalID
    customer_id: relay.GlobalID
    outcome: EncounterOutcome
    reason: EncounterReason | None = strawberry.field(
        default=None, description="Why; required for a lost deal."
    )
    reason_text: str | None = strawberry.field(
        default=None, description="In words; required with reason OTHER."
    )
    amount: decimal.Decimal | None = strawberry.field(
        default=None, description="The deal's value; with currency, or neither."
    )
    currency: str | None = None
    occurred_on: dt.date | None = strawberry.field(
        default=None, description="From 1900-01-01, not in the future; today when left out."
    )
    owner_id: relay.GlobalID | None = strawberry.field(
        default=None,
        description="Who worked the deal: you when left out; another user only within your "
        "competitors:write scope.",
    )


@strawberry.input
class DeleteEncounterInput:
    id: relay.GlobalID
