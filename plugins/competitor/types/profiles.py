"""GraphQL types of competitor profiles: the Competitor node (other aggregates add their
fields to it through ``crm_graphql_type_fields``), its SWOT items, channels and campaigns,
and the payloads of their mutations."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, Self

import strawberry
from strawberry import relay

from core.plugin_api import (
    BatchLoad,
    ModelNode,
    RequestContext,
    UserError,
    UserSummary,
    batch_field,
    related,
)
from plugins.competitor import models
from plugins.competitor.enums import (
    CompetitorStatus,
    SalesChannel,
    SizeBand,
    SwotKind,
    ThreatLevel,
)
from plugins.competitor.loaders import profiles as loaders
from plugins.competitor.loaders.products import ProductsByCompetitorLoader
from plugins.competitor.types.products import CompetitorProduct


@strawberry.type(description="A strength, weakness, opportunity or threat of a competitor.")
class CompetitorSwotItem(ModelNode[models.SwotItem]):
    by_id_loader = loaders.SwotItemByIdLoader
    id: relay.NodeID[int]
    kind: SwotKind
    text: str
    competitor_id: strawberry.Private[int]

    @classmethod
    def from_model(cls, row: models.SwotItem) -> Self:
        return cls(
            id=row.id, kind=SwotKind(row.kind), text=row.text, competitor_id=row.competitor_id
        )


@strawberry.type(description="A sales channel a competitor uses.")
class CompetitorChannel:
    channel: SalesChannel
    notes: str | None


@strawberry.type(description="A marketing campaign of a competitor's that was observed.")
class CompetitorCampaign(ModelNode[models.Campaign]):
    by_id_loader = loaders.CampaignByIdLoader
    id: relay.NodeID[int]
    name: str
    started_on: dt.date | None
    ended_on: dt.date | None = strawberry.field(description="null: running, or not known.")
    channels: list[str] = strawberry.field(
        description='Where it ran: free labels such as "WeChat" or "trade fair".'
    )
    notes: str | None
    created_at: dt.datetime
    competitor_id: strawberry.Private[int]
    competitor: Competitor | None = batch_field(related(lambda: Competitor, "competitor_id"))

    @classmethod
    def from_model(cls, row: models.Campaign) -> Self:
        return cls(
            id=row.id,
            name=row.name,
            started_on=row.started_on,
            ended_on=row.ended_on,
            channels=list(row.channels or []),
            notes=row.notes,
            created_at=row.created_at,
            competitor_id=row.competitor_id,
        )


def swot_items(kind: SwotKind, competitor: str = "id") -> BatchLoad:
    """The batch function of a list of one kind of SWOT items, for parents that name their
    competitor's id by the attribute ``competitor`` (a profile, a battlecard)."""

    async def load(context: RequestContext, parents: Sequence[Any]) -> list[list[Any]]:
        found = await context.loader(loaders.SwotItemsLoader).load_level(
            [getattr(parent, competitor) for parent in parents]
        )
        return [
            [CompetitorSwotItem.from_model(row) for row in rows if row.kind == kind.value]
            for rows in found
        ]

    load.__qualname__ = load.__name__ = f"swot_{kind.value.lower()}"
    return load


async def _channels(
    context: RequestContext, competitors: Sequence[Competitor]
) -> list[list[CompetitorChannel]]:
    found = await context.loader(loaders.ChannelsLoader).load_level(
        [competitor.id for competitor in competitors]
    )
    return [
        [CompetitorChannel(channel=SalesChannel(r.channel), notes=r.notes) for r in rows]
        for rows in found
    ]


async def _campaigns(
    context: RequestContext, competitors: Sequence[Competitor]
) -> list[list[CompetitorCampaign]]:
    found = await context.loader(loaders.CampaignsLoader).load_level(
        [competitor.id for competitor in competitors]
    )
    return [[CompetitorCampaign.from_model(row) for row in rows] for rows in found]


async def _products(
    context: RequestContext, competitors: Sequence[Competitor]
) -> list[list[CompetitorProduct]]:
    found = await context.loader(ProductsByCompetitorLoader).load_level(
        [competitor.id for competitor in competitors]
    )
    return [[CompetitorProduct.from_model(row) for row in rows] for rows in found]


@strawberry.type(
    description="A competitor's profile: who they are, where they stand with us, their SWOT, "
    "how they sell and market, and their products."
)
class Competitor(ModelNode[models.Competitor]):
    by_id_loader = loaders.CompetitorByIdLoader
    id: relay.NodeID[int]
    name: str = strawberry.field(description="Unique regardless of case.")
    website: str | None
    country: str | None = strawberry.field(description="Headquarters country (ISO 3166-1 alpha-2).")
    size_band: SizeBand | None
    description: str | None
    positioning: str | None
    status: CompetitorStatus
    threat_level: ThreatLevel
    created_at: dt.datetime
    updated_at: dt.datetime
    version: int
    created_by_id: strawberry.Private[int | None]
    strengths: list[CompetitorSwotItem] = batch_field(
        swot_items(SwotKind.STRENGTH), description="In the order given."
    )
    weaknesses: list[CompetitorSwotItem] = batch_field(
        swot_items(SwotKind.WEAKNESS), description="In the order given."
    )
    opportunities: list[CompetitorSwotItem] = batch_field(
        swot_items(SwotKind.OPPORTUNITY), description="In the order given."
    )
    threats: list[CompetitorSwotItem] = batch_field(
        swot_items(SwotKind.THREAT), description="In the order given."
    )
    channels: list[CompetitorChannel] = batch_field(
        _channels, description="The sales channels it uses."
    )
    campaigns: list[CompetitorCampaign] = batch_field(
        _campaigns, description="Its campaigns, the latest started first."
    )
    products: list[CompetitorProduct] = batch_field(_products, description="Its products, by name.")
    created_by: UserSummary | None = batch_field(
        related(UserSummary, "created_by_id"), description="Who created the profile."
    )

    @classmethod
    def from_model(cls, row: models.Competitor) -> Self:
        return cls(
            id=row.id,
            name=row.name,
            website=row.website,
            country=row.country,
            size_band=SizeBand(row.size_band) if row.size_band else None,
            description=row.description,
            positioning=row.positioning,
            status=CompetitorStatus(row.status),
            threat_level=ThreatLevel(row.threat_level),
            created_at=row.created_at,
            updated_at=row.updated_at,
            version=row.version,
            created_by_id=row.created_by_id,
        )


@strawberry.type
class CompetitorPayload:
    competitor: Competitor | None
    errors: list[UserError]

    @classmethod
    def of(cls, row: models.Competitor | None, errors: list[UserError]) -> Self:
        return cls(competitor=Competitor.from_model(row) if row else None, errors=errors)


@strawberry.type
class CreateCompetitorPayload(CompetitorPayload):
    pass


@strawberry.type
class UpdateCompetitorPayload(CompetitorPayload):
    pass


@strawberry.type
class SetCompetitorChannelsPayload(CompetitorPayload):
    pass


@strawberry.type
class CompetitorCampaignPayload:
    competitor_campaign: CompetitorCampaign | None
    errors: list[UserError]

    @classmethod
    def of(cls, row: models.Campaign | None, errors: list[UserError]) -> Self:
        campaign = CompetitorCampaign.from_model(row) if row else None
        return cls(competitor_campaign=campaign, errors=errors)


@strawberry.type
class AddCompetitorCampaignPayload(CompetitorCampaignPayload):
    pass


@strawberry.type
class UpdateCompetitorCampaignPayload(CompetitorCampaignPayload):
    pass


@strawberry.type
class RemoveCompetitorCampaignPayload:
    removed_id: relay.GlobalID | None = strawberry.field(
        description="The id of the campaign removed; null when refused."
    )
    errors: list[UserError]

    @classmethod
    def of(cls, row: models.Campaign | None, errors: list[UserError]) -> Self:
        removed = relay.GlobalID("CompetitorCampaign", str(row.id)) if row and not errors else None
        return cls(removed_id=removed, errors=errors)


NODES: list[type[Any]] = [Competitor, CompetitorSwotItem, CompetitorCampaign]
"""Node types of this module (for ``node(id:)``)."""
