"""Root mutation fields of competitor profiles (``competitors:manage``): each takes one
input, runs in one transaction and answers with a payload."""

from __future__ import annotations

from collections.abc import Sequence

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import Check, Info, mutate, requires
from plugins.competitor import declarations, models
from plugins.competitor.enums import SwotKind
from plugins.competitor.inputs.profiles import (
    AddCompetitorCampaignInput,
    CompetitorSwotItemInput,
    CreateCompetitorInput,
    RemoveCompetitorCampaignInput,
    SetCompetitorChannelsInput,
    UpdateCompetitorCampaignInput,
    UpdateCompetitorInput,
)
from plugins.competitor.service import campaigns
from plugins.competitor.service import profiles as service
from plugins.competitor.types.profiles import (
    AddCompetitorCampaignPayload,
    CreateCompetitorPayload,
    RemoveCompetitorCampaignPayload,
    SetCompetitorChannelsPayload,
    UpdateCompetitorCampaignPayload,
    UpdateCompetitorPayload,
)

MANAGE = requires(declarations.MANAGE)
PROFILE_FIELDS = (
    "website",
    "country",
    "size_band",
    "description",
    "positioning",
    "status",
    "threat_level",
)
CAMPAIGN_FIELDS = ("name", "started_on", "ended_on", "channels", "notes")


def _drafts(
    check: Check, field: str, items: Sequence[CompetitorSwotItemInput] | None
) -> list[service.SwotDraft]:
    """The items of one SWOT list, their evidence ids read (a wrong one refused by place)."""
    return [
        service.SwotDraft(
            item.text,
            [
                check.node_id(f"{field}.{index}.evidenceIds.{position}", value, "IntelEntry")
                for position, value in enumerate(item.evidence_ids)
            ],
        )
        for index, item in enumerate(items or [])
    ]


def _swot(
    check: Check, input: CreateCompetitorInput | UpdateCompetitorInput
) -> dict[SwotKind, list[service.SwotDraft]]:
    """The SWOT lists the input gives (an update's left-out lists stay as they are)."""
    return {
        kind: _drafts(check, field, getattr(input, field))
        for kind, field in service.SWOT_FIELDS.items()
        if getattr(input, field) is not strawberry.UNSET
    }


@strawberry.type
class ProfileMutation:
    @strawberry.mutation(
        description="Add a competitor's profile, with its SWOT lists if given.", extensions=MANAGE
    )
    async def create_competitor(
        self, info: Info, input: CreateCompetitorInput
    ) -> CreateCompetitorPayload | None:
        async def work(session: AsyncSession) -> models.Competitor:
            check = Check()
            swot = _swot(check, input)
            values = {name: getattr(input, name) for name in ("name", *PROFILE_FIELDS)}
            return await service.create_competitor(session, info.context, check, values, swot)

        return await mutate(info, work, CreateCompetitorPayload.of)

    @strawberry.mutation(
        description="Change a competitor's profile; fields left out stay as they are, a SWOT "
        "list given replaces the old one. Status ARCHIVED archives it.",
        extensions=MANAGE,
    )
    async def update_competitor(
        self, info: Info, input: UpdateCompetitorInput
    ) -> UpdateCompetitorPayload | None:
        async def work(session: AsyncSession) -> models.Competitor:
            check = Check()
            competitor_id = check.node_id("id", input.id, "Competitor")
            if competitor_id is None:
                check.done()
            swot = _swot(check, input)
            changes = {
                name: getattr(input, name)
                for name in ("name", *PROFILE_FIELDS)
                if getattr(input, name) is not strawberry.UNSET
            }
            return await service.update_competitor(
                session, info.context, check, competitor_id, input.version, changes, swot
            )

        return await mutate(info, work, UpdateCompetitorPayload.of)

    @strawberry.mutation(
        description="Replace the sales channels a competitor uses.", extensions=MANAGE
    )
    async def set_competitor_channels(
        self, info: Info, input: SetCompetitorChannelsInput
    ) -> SetCompetitorChannelsPayload | None:
        async def work(session: AsyncSession) -> models.Competitor:
            check = Check()
            competitor_id = check.node_id("competitorId", input.competitor_id, "Competitor")
            check.done()
            channels = [(item.channel, item.notes) for item in input.channels]
            return await campaigns.set_channels(session, info.context, competitor_id, channels)

        return await mutate(info, work, SetCompetitorChannelsPayload.of)

    @strawberry.mutation(
        description="Record a marketing campaign of a competitor's.", extensions=MANAGE
    )
    async def add_competitor_campaign(
        self, info: Info, input: AddCompetitorCampaignInput
    ) -> AddCompetitorCampaignPayload | None:
        async def work(session: AsyncSession) -> models.Campaign:
            check = Check()
            competitor_id = check.node_id("competitorId", input.competitor_id, "Competitor")
            check.done()
            values = {name: getattr(input, name) for name in CAMPAIGN_FIELDS}
            return await campaigns.add_campaign(session, info.context, competitor_id, values)

        return await mutate(info, work, AddCompetitorCampaignPayload.of)

    @strawberry.mutation(
        description="Change a campaign; fields left out stay as they are.", extensions=MANAGE
    )
    async def update_competitor_campaign(
        self, info: Info, input: UpdateCompetitorCampaignInput
    ) -> UpdateCompetitorCampaignPayload | None:
        async def work(session: AsyncSession) -> models.Campaign:
            check = Check()
            campaign_id = check.node_id("id", input.id, "CompetitorCampaign")
            check.done()
            changes = {
                name: getattr(input, name)
                for name in CAMPAIGN_FIELDS
                if getattr(input, name) is not strawberry.UNSET
            }
            return await campaigns.update_campaign(session, info.context, campaign_id, changes)

        return await mutate(info, work, UpdateCompetitorCampaignPayload.of)

    @strawberry.mutation(description="Remove a campaign.", extensions=MANAGE)
    async def remove_competitor_campaign(
        self, info: Info, input: RemoveCompetitorCampaignInput
    ) -> RemoveCompetitorCampaignPayload | None:
        async def work(session: AsyncSession) -> models.Campaign:
            check = Check()
            campaign_id = check.node_id("id", input.id, "CompetitorCampaign")
            check.done()
            return await campaigns.remove_campaign(session, info.context, campaign_id)

        return await mutate(info, work, RemoveCompetitorCampaignPayload.of)
