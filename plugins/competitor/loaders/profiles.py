"""Dataloaders of competitor profiles: the competitors, their SWOT items, channels and
campaigns. What is known of competitors belongs to nobody: whoever holds
``competitors:read`` (at any scope) reads all of it, and nobody else any of it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from sqlalchemy import Select, false, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import ByIdLoader, Loader, RequestContext, among, group_by_key
from plugins.competitor import declarations
from plugins.competitor.models import Campaign, Channel, Competitor, SwotItem
from plugins.competitor.service.campaigns import CHANNEL_ORDER
from plugins.competitor.service.profiles import swot_items


def readable(context: RequestContext) -> bool:
    """Whether the caller holds ``competitors:read`` at any scope."""
    caller = context.caller
    return caller is not None and caller.scope(declarations.READ) is not None


class Readable:
    """The ``statement`` of a loader of ``entity`` rows: every row for a caller who holds
    ``competitors:read``, none for anyone else."""

    entity: ClassVar[Any]
    context: Any

    def statement(self) -> Select[Any]:
        statement = select(self.entity)
        return statement if readable(self.context) else statement.where(false())


class CompetitorByIdLoader(Readable, ByIdLoader[Competitor]):
    entity = Competitor


class SwotItemByIdLoader(Readable, ByIdLoader[SwotItem]):
    entity = SwotItem


class CampaignByIdLoader(Readable, ByIdLoader[Campaign]):
    entity = Campaign


class SwotItemsLoader(Loader[int, list[SwotItem]]):
    """Each competitor's SWOT items, strengths first, each kind in its order."""

    async def load_batch(self, session: AsyncSession, keys: Sequence[int]) -> list[list[SwotItem]]:
        if not readable(self.context):
            return [[] for _key in keys]
        found = await swot_items(session, keys)
        return [found[key] for key in keys]


class ChannelsLoader(Loader[int, list[Channel]]):
    """Each competitor's sales channels, in the order of ``SalesChannel``."""

    async def load_batch(self, session: AsyncSession, keys: Sequence[int]) -> list[list[Channel]]:
        if not readable(self.context):
            return [[] for _key in keys]
        rows = (
            await session.scalars(select(Channel).where(among(Channel.competitor_id, keys)))
        ).all()
        ordered = sorted(rows, key=lambda row: (CHANNEL_ORDER.get(row.channel, 99), row.id))
        return group_by_key(keys, ordered, "competitor_id")


class CampaignsLoader(Loader[int, list[Campaign]]):
    """Each competitor's campaigns, the latest started first (undated ones last)."""

    async def load_batch(self, session: AsyncSession, keys: Sequence[int]) -> list[list[Campaign]]:
        if not readable(self.context):
            return [[] for _key in keys]
        rows = (
            await session.scalars(select(Campaign).where(among(Campaign.competitor_id, keys)))
        ).all()
        ordered = sorted(
            rows,
            key=lambda row: (
                row.started_on is None,
                -(row.started_on.toordinal() if row.started_on else 0),
                -row.id,
            ),
        )
        return group_by_key(keys, ordered, "competitor_id")
