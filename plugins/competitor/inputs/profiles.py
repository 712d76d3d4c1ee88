"""GraphQL inputs of competitor profiles: the profile itself, its SWOT items, sales channels
and campaigns, and the filter and ordering of the ``competitors`` list."""

from __future__ import annotations

import datetime as dt
import enum

import strawberry
from strawberry import relay

from core.plugin_api import OrderDirection
from plugins.competitor.enums import CompetitorStatus, SalesChannel, SizeBand, ThreatLevel


@strawberry.input
class CompetitorFilter:
    search: str | None = strawberry.field(default=None, description="Part of name or website.")
    status: list[CompetitorStatus] | None = strawberry.field(
        default=None,
        description="Any of these; null or empty: every status but ARCHIVED (archived "
        "competitors are listed only when asked for).",
    )
    threat_level: list[ThreatLevel] | None = strawberry.field(
        default=None, description="Any of these."
    )


@strawberry.enum(description="What a competitor list sorts by.")
class CompetitorOrderField(enum.Enum):
    NAME = "NAME"
    THREAT_LEVEL = "THREAT_LEVEL"
    """From LOW to CRITICAL (descending: the most threatening first)."""
    CREATED_AT = "CREATED_AT"
    UPDATED_AT = "UPDATED_AT"


@strawberry.input(description="One entry of a competitor list's orderBy.")
class CompetitorOrder:
    field: CompetitorOrderField
    direction: OrderDirection = OrderDirection.ASC


@strawberry.input(description="A strength, weakness, opportunity or threat, with its evidence.")
class CompetitorSwotItemInput:
    text: str = strawberry.field(description="Up to 500 characters.")
    evidence_ids: list[relay.GlobalID] = strawberry.field(
        default_factory=list,
        description="Intel entries (IntelEntry ids) about this competitor that back it; at "
        "most 10.",
    )


@strawberry.input
class CreateCompetitorInput:
    name: str = strawberry.field(description="Unique regardless of case; up to 120 characters.")
    website: str | None = strawberry.field(
        default=None, description="An http(s) URL; example.com is read as https://example.com."
    )
    country: str | None = strawberry.field(
        default=None,
        description="Headquarters country: an ISO 3166-1 code or an English or Chinese name.",
    )
    size_band: SizeBand | None = None
    description: str | None = None
    positioning: str | None = strawberry.field(
        default=None, description="How they present themselves to the market, and to whom."
    )
    status: CompetitorStatus = CompetitorStatus.ACTIVE
    threat_level: ThreatLevel = ThreatLevel.MEDIUM
    strengths: list[CompetitorSwotItemInput] = strawberry.field(default_factory=list)
    weaknesses: list[CompetitorSwotItemInput] = strawberry.field(default_factory=list)
    opportunities: list[CompetitorSwotItemInput] = strawberry.field(default_factory=list)
    threats: list[CompetitorSwotItemInput] = strawberry.field(default_factory=list)


SWOT_HELP = "Replaces the whole list (in this order); null or []: none."


@strawberry.input(description="Fields left out stay as they are.")
class UpdateCompetitorInput:
    id: relay.GlobalID
    version: int = strawberry.field(description="The version you read; a stale one is refused.")
    name: str | None = strawberry.UNSET
    website: str | None = strawberry.field(default=strawberry.UNSET, description="null clears.")
    country: str | None = strawberry.field(default=strawberry.UNSET, description="null clears.")
    size_band: SizeBand | None = strawberry.field(
        default=strawberry.UNSET, description="null clears."
    )
    description: str | None = strawberry.UNSET
    positioning: str | None = strawberry.UNSET
    status: CompetitorStatus | None = strawberry.field(
        default=strawberry.UNSET, description="ARCHIVED hides it from lists."
    )
    threat_level: ThreatLevel | None = strawberry.UNSET
    strengths: list[CompetitorSwotItemInput] | None = strawberry.field(
        default=strawberry.UNSET, description=SWOT_HELP
    )
    weaknesses: list[CompetitorSwotItemInput] | None = strawberry.field(
        default=strawberry.UNSET, description=SWOT_HELP
    )
    opportunities: list[CompetitorSwotItemInput] | None = strawberry.field(
        default=strawberry.UNSET, description=SWOT_HELP
    )
    threats: list[CompetitorSwotItemInput] | None = strawberry.field(
        default=strawberry.UNSET, description=SWOT_HELP
    )


@strawberry.input(description="A sales channel a competitor uses.")
class CompetitorChannelInput:
    channel: SalesChannel
    notes: str | None = strawberry.field(default=None, description="Up to 1,000 characters.")


@strawberry.input(description="Replaces every channel of the competitor.")
class SetCompetitorChannelsInput:
    competitor_id: relay.GlobalID
    channels: list[CompetitorChannelInput] = strawberry.field(
        description="Each channel at most once; []: none."
    )


@strawberry.input
class AddCompetitorCampaignInput:
    competitor_id: relay.GlobalID
    name: str = strawberry.field(description="Up to 200 characters.")
    started_on: dt.date | None = None
    ended_on: dt.date | None = strawberry.field(
        default=None, description="Not before startedOn; null: running, or not known."
    )
    channels: list[str] = strawberry.field(
        default_factory=list,
        description='Where it ran: free labels ("WeChat", "trade fair"), at most 20 of up to '
        "60 characters; repeats (regardless of case) are dropped.",
    )
    notes: str | None = None


@strawberry.input(description="Fields left out stay as they are.")
class UpdateCompetitorCampaignInput:
    id: relay.GlobalID
    name: str | None = strawberry.UNSET
    started_on: dt.date | None = strawberry.field(
        default=strawberry.UNSET, description="null clears."
    )
    ended_on: dt.date | None = strawberry.field(
        default=strawberry.UNSET, description="null clears."
    )
    channels: list[str] | None = strawberry.field(
        default=strawberry.UNSET, description="Replaces the labels; null or []: none."
    )
    notes: str | None = strawberry.UNSET


@strawberry.input
class RemoveCompetitorCampaignInput:
    id: relay.GlobalID
