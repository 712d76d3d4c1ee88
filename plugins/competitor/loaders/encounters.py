"""Dataloaders of encounters and win/loss figures; each filters through the caller's reach
of encounters (:func:`plugins.competitor.service.encounters.readable`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import ByIdLoader, ChildCountLoader, ChildPageLoader, Loader, SortKey
from plugins.competitor.models import Encounter
from plugins.competitor.service import stats
from plugins.competitor.service.encounters import readable


class _ReadableEncounters:
    entity = Encounter
    parent = Encounter.competitor_id
    context: Any

    def statement(self) -> Select[Any]:
        return select(Encounter).where(readable(self.context))


class EncounterByIdLoader(_ReadableEncounters, ByIdLoader[Encounter]):
    pass


class EncountersByCompetitorLoader(_ReadableEncounters, ChildPageLoader):
    """``Competitor.encounters``: the latest first."""

    keys = (SortKey(Encounter.occurred_on, True), SortKey(Encounter.id, True))


class EncounterCountByCompetitorLoader(_ReadableEncounters, ChildCountLoader):
    pass


class WinLossLoader(Loader[int, stats.CompetitorFigures]):
    """``Competitor.winLoss``: each competitor's figures over all time, one aggregate for a
    page of competitors."""

    async def load_batch(
        self, session: AsyncSession, keys: Sequence[int]
    ) -> list[stats.CompetitorFigures]:
        found = await stats.win_loss(
            session, self.context, stats.StatsFilter(competitor_ids=list(keys))
        )
        by_id = {figures.competitor_id: figures for figures in found}
        return [by_id.get(key) or stats.CompetitorFigures(key) for key in keys]
