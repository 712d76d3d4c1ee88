"""Dataloaders of improvement actions: by id (for holders of ``surveys:read``), the
responses each answers (those the caller may see), and the monthly trend of a dimension."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, false, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import ByIdLoader, Loader, among
from plugins.surveys import declarations
from plugins.surveys.models import (
    ImprovementAction,
    ImprovementActionResponse,
    SurveyAnswer,
    SurveyResponse,
)
from plugins.surveys.questions import CSAT_GOOD
from plugins.surveys.service.periods import bucket_of, mean_of, month_buckets, share


class ActionByIdLoader(ByIdLoader[ImprovementAction]):
    entity = ImprovementAction

    def statement(self) -> Select[Any]:
        caller = self.context.caller
        allowed = caller is not None and caller.scope(declarations.READ) is not None
        return select(ImprovementAction).where(true() if allowed else false())


class ActionResponsesLoader(Loader[int, list[SurveyResponse]]):
    """The responses each action answers that the caller may see, the newest first."""

    async def load_batch(
        self, session: AsyncSession, keys: Sequence[int]
    ) -> list[list[SurveyResponse]]:
        link = ImprovementActionResponse
        rows = await session.execute(
            select(link.action_id, SurveyResponse)
            .join(SurveyResponse, SurveyResponse.id == link.response_id)
            .where(among(link.action_id, keys), declarations.visible(self.context))
            .order_by(SurveyResponse.submitted_at.desc(), SurveyResponse.id.desc())
        )
        found: dict[int, list[SurveyResponse]] = defaultdict(list)
        for action_id, response in rows:
            found[action_id].append(response)
        return [found[key] for key in keys]


@dataclass(frozen=True)
class TrendKey:
    dimension: str
    template_id: int | None
    start: dt.datetime
    """The first month's start (UTC)."""


@dataclass(frozen=True)
class TrendMonth:
    month: str
    mean: float | None
    csat: float | None
    count: int


class TrendLoader(Loader[TrendKey, list[TrendMonth]]):
    """Monthly (deployment time zone) mean and CSAT of a dimension's ratings, from a month
    until now, over the responses the caller may see: one statement for every key."""

    async def load_batch(
        self, session: AsyncSession, keys: Sequence[TrendKey]
    ) -> list[list[TrendMonth]]:
        now = self.context.now()
        zone = self.context.settings.zone
        start = min(key.start for key in keys)
        buckets = month_buckets(zone, start, max(now, start + dt.timedelta(seconds=1)))
        month = bucket_of(SurveyResponse.submitted_at, buckets).label("month")
        inner = (
            select(
                SurveyAnswer.dimension.label("dimension"),
                SurveyResponse.template_id.label("template_id"),
                month,
                SurveyAnswer.score.label("score"),
            )
            .select_from(SurveyResponse)
            .join(SurveyAnswer, SurveyAnswer.response_id == SurveyResponse.id)
            .where(
                SurveyAnswer.dimension.in_(sorted({key.dimension for key in keys})),
                SurveyAnswer.kind == "RATING",
                SurveyAnswer.score.is_not(None),
                SurveyResponse.submitted_at >= start,
                SurveyResponse.submitted_at < now,
                declarations.visible(self.context),
            )
            .subquery("rated")
        )
        columns = [inner.c.dimension, inner.c.template_id, inner.c.month, inner.c.score]
        rows = await session.execute(
            select(*columns, func.count()).select_from(inner).group_by(*columns)
        )
        scores: dict[tuple[str, int, str], Counter[int]] = defaultdict(Counter)
        for row in rows:
            scores[(row[0], row[1], row[2])][row[3]] += row[4]
        out: list[list[TrendMonth]] = []
        for key in keys:
            months: list[TrendMonth] = []
            for label, begins in buckets:
                if begins < key.start:
                    continue
                counts: Counter[int] = Counter()
                for (dimension, template_id, found), part in scores.items():
                    if found != label or dimension != key.dimension:
                        continue
                    if key.template_id is None or key.template_id == template_id:
                        counts.update(part)
                total = sum(counts.values())
                good = sum(c for s, c in counts.items() if s >= CSAT_GOOD)
                months.append(TrendMonth(label, mean_of(counts), share(good, total), total))
            out.append(months)
        return out
