"""Dataloaders of the intel log, its watchers and market share.

What is known of competitors belongs to nobody: anyone holding ``competitors:read`` (at any
scope) reads every intel entry and market-share observation, and nobody else reads any. Each
loader answers a whole page of competitors (or SWOT items) in one statement.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Sequence
from typing import Any, ClassVar

from sqlalchemy import ColumnElement, Select, false, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import (
    ByIdLoader,
    ChildCountLoader,
    ChildPageLoader,
    Loader,
    RequestContext,
    SortKey,
    User,
    among,
)
from plugins.competitor import declarations
from plugins.competitor.models import Intel, MarketShare, SwotEvidence, Watcher
from plugins.competitor.service import trends


def readable(context: RequestContext) -> ColumnElement[bool]:
    """Everything, for a caller holding ``competitors:read`` at any scope; else nothing."""
    caller = context.caller
    return true() if caller is not None and caller.scope(declarations.READ) is not None else false()


class IntelByIdLoader(ByIdLoader[Intel]):
    entity = Intel

    def statement(self) -> Select[Any]:
        return select(Intel).where(readable(self.context))


class MarketShareByIdLoader(ByIdLoader[MarketShare]):
    entity = MarketShare

    def statement(self) -> Select[Any]:
        return select(MarketShare).where(readable(self.context))


INTEL_KEYS = (SortKey(Intel.occurred_on, True), SortKey(Intel.id, True))
"""A competitor's intel, newest first."""


class _IntelOfCompetitor:
    entity = Intel
    parent = Intel.competitor_id
    kinds: ClassVar[frozenset[str]] = frozenset()
    context: Any

    def statement(self) -> Select[Any]:
        statement = select(Intel).where(readable(self.context))
        if self.kinds:
            statement = statement.where(Intel.kind.in_(sorted(self.kinds)))
        return statement


@functools.cache
def intel_loaders(
    kinds: frozenset[str],
) -> tuple[type[ChildPageLoader], type[ChildCountLoader]]:
    """The pages and counts loaders of ``Competitor.intel`` for one set of kinds (empty:
    all): one pair of classes per set, so that each request batches the competitors asking
    for the same kinds."""

    class IntelPagesByCompetitorLoader(_IntelOfCompetitor, ChildPageLoader):
        keys = INTEL_KEYS

    class IntelCountByCompetitorLoader(_IntelOfCompetitor, ChildCountLoader):
        pass

    IntelPagesByCompetitorLoader.kinds = kinds
    IntelCountByCompetitorLoader.kinds = kinds
    return IntelPagesByCompetitorLoader, IntelCountByCompetitorLoader


class EvidenceBySwotItemLoader(Loader[int, list[Intel]]):
    """The intel entries each SWOT item cites, newest first (``CompetitorSwotItem.evidence``)."""

    async def load_batch(self, session: AsyncSession, keys: Sequence[int]) -> list[list[Intel]]:
        rows = (
            await session.execute(
                select(SwotEvidence.item_id, Intel)
                .join(Intel, Intel.id == SwotEvidence.intel_id)
                .where(among(SwotEvidence.item_id, keys), readable(self.context))
                .order_by(Intel.occurred_on.desc(), Intel.id.desc())
            )
        ).all()
        found: dict[int, list[Intel]] = defaultdict(list)
        for item_id, intel in rows:
            found[item_id].append(intel)
        return [found.get(key, []) for key in keys]


class WatchedByMeLoader(Loader[int, bool]):
    """Whether the caller watches each competitor (``Competitor.watchedByMe``)."""

    async def load_batch(self, session: AsyncSession, keys: Sequence[int]) -> list[bool]:
        caller = self.context.caller
        if caller is None:
            return [False for _key in keys]
        watched = set(
            (
                await session.scalars(
                    select(Watcher.competitor_id).where(
                        Watcher.user_id == caller.user_id,
                        among(Watcher.competitor_id, keys),
                    )
                )
            ).all()
        )
        return [key in watched for key in keys]


class WatcherCountLoader(Loader[int, int]):
    """How many active users watch each competitor (``Competitor.watcherCount``)."""

    async def load_batch(self, session: AsyncSession, keys: Sequence[int]) -> list[int]:
        rows = (
            await session.execute(
                select(Watcher.competitor_id, func.count())
                .join(User, User.id == Watcher.user_id)
                .where(among(Watcher.competitor_id, keys), User.is_active.is_(True))
                .group_by(Watcher.competitor_id)
            )
        ).all()
        counts = {competitor_id: int(count) for competitor_id, count in rows}
        return [counts.get(key, 0) for key in keys]


LatestSharesKey = tuple[int, str | None, str | None]
"""A competitor's id, a segment kind (or None: both) and a segment key (or None: all)."""


class LatestSharesLoader(Loader[LatestSharesKey, list[MarketShare]]):
    """Each competitor's latest observation per segment (``Competitor.marketShare``): one
    statement per distinct (segment kind, segment) asked for, whatever the competitors."""

    async def load_batch(
        self, session: AsyncSession, keys: Sequence[LatestSharesKey]
    ) -> list[list[MarketShare]]:
        by_filter: dict[tuple[str | None, str | None], list[int]] = defaultdict(list)
        for competitor_id, kind, segment_key in keys:
            by_filter[(kind, segment_key)].append(competitor_id)
        found: dict[LatestSharesKey, list[MarketShare]] = {}
        for (kind, segment_key), competitor_ids in by_filter.items():
            statement = select(MarketShare).where(
                MarketShare.competitor_id.in_(competitor_ids), readable(self.context)
            )
            if kind is not None:
                statement = statement.where(MarketShare.segment_kind == kind)
            if segment_key is not None:
                statement = statement.where(MarketShare.segment_key == segment_key)
            rows = (await session.scalars(statement)).all()
            latest = trends.latest_per_segment(rows)
            for competitor_id in competitor_ids:
                found[(competitor_id, kind, segment_key)] = latest.get(competitor_id, [])
        return [found[key] for key in keys]
