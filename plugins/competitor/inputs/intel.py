"""GraphQL inputs of the intel log: the feed's filter and order, logging, correcting and
deleting an entry, and watching a competitor."""

from __future__ import annotations

import datetime as dt
import enum

import strawberry
from strawberry import relay

from core.plugin_api import OrderDirection
from plugins.competitor.enums import Confidence, IntelKind


@strawberry.input(description="A span of calendar days, both ends included; either may be open.")
class IntelDateRange:
    from_: dt.date | None = strawberry.field(default=None, name="from")
    to: dt.date | None = None


@strawberry.input
class IntelFilter:
    competitor_ids: list[relay.GlobalID] | None = strawberry.field(
        default=None, description="Entries about any of these competitors."
    )
    kinds: list[IntelKind] | None = None
    search: str | None = strawberry.field(
        default=None, description="Part of the summary (case does not matter)."
    )
    occurred: IntelDateRange | None = strawberry.field(
        default=None, description="Entries whose occurredOn falls in this span."
    )
    reporter_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Entries this user (User id) logged."
    )
    min_confidence: Confidence | None = strawberry.field(
        default=None, description="Entries at least this trustworthy (LOW < MEDIUM < HIGH)."
    )


@strawberry.enum(description="What an intel list sorts by.")
class IntelOrderField(enum.Enum):
    OCCURRED_ON = "OCCURRED_ON"
    CREATED_AT = "CREATED_AT"


@strawberry.input(description="One entry of an intel list's orderBy.")
class IntelOrder:
    field: IntelOrderField
    direction: OrderDirection = OrderDirection.ASC


@strawberry.input
class LogIntelInput:
    competitor_id: relay.GlobalID
    kind: IntelKind
    summary: str = strawberry.field(description="What was learnt (up to 5,000 characters).")
    source_url: str | None = strawberry.field(
        default=None, description="Where it was learnt: an http(s) address."
    )
    confidence: Confidence = Confidence.MEDIUM
    occurred_on: dt.date | None = strawberry.field(
        default=None,
        description="When it happened; not in the future (the deployment's calendar). Null: today.",
    )


@strawberry.input(description="Fields left out stay as they are.")
class UpdateIntelInput:
    id: relay.GlobalID
    kind: IntelKind | None = strawberry.UNSET
    summary: str | None = strawberry.UNSET
    source_url: str | None = strawberry.field(default=strawberry.UNSET, description="null clears.")
    confidence: Confidence | None = strawberry.UNSET
    occurred_on: dt.date | None = strawberry.UNSET


@strawberry.input
class DeleteIntelInput:
    id: relay.GlobalID


@strawberry.input
class WatchCompetitorInput:
    id: relay.GlobalID = strawberry.field(description="The competitor (Competitor id).")


@strawberry.input
class UnwatchCompetitorInput:
    id: relay.GlobalID = strawberry.field(description="The competitor (Competitor id).")
