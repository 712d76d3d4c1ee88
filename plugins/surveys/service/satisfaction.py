"""A customer's satisfaction (``Customer.satisfaction``): CSAT, NPS, how many responses and
the latest, from the responses the caller may see; for many customers in one statement."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import RequestContext
from plugins.surveys import declarations, models
from plugins.surveys.questions import CSAT_GOOD, DETRACTOR, PROMOTER
from plugins.surveys.service.periods import nps_score, share

Resp = models.SurveyResponse
Ans = models.SurveyAnswer


@dataclass(frozen=True)
class Satisfaction:
    csat: float | None
    nps: float | None
    responses: int
    last_response_at: dt.datetime | None


NONE = Satisfaction(csat=None, nps=None, responses=0, last_response_at=None)


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


async def of_customers(
    session: AsyncSession, context: RequestContext, customer_ids: Sequence[int]
) -> list[Satisfaction]:
    """Each customer's figures, in the order of ``customer_ids``: one statement."""
    rating = Ans.kind == "RATING"
    nps = Ans.kind == "NPS"
    rows = await session.execute(
        select(
            Resp.customer_id,
            func.count(func.distinct(Resp.id)),
            func.max(Resp.submitted_at),
            _count(rating),
            _count(rating & (Ans.score >= CSAT_GOOD)),
            _count(nps),
            _count(nps & (Ans.score >= PROMOTER)),
            _count(nps & (Ans.score <= DETRACTOR)),
        )
        .select_from(Resp)
        .outerjoin(
            Ans,
            and_(
                Ans.response_id == Resp.id,
                Ans.kind.in_(("RATING", "NPS")),
                Ans.score.is_not(None),
            ),
        )
        .where(Resp.customer_id.in_(list(customer_ids)), declarations.visible(context))
        .group_by(Resp.customer_id)
    )
    found: dict[int, Satisfaction] = {}
    for customer_id, count, last, rated, good, answers, promoters, detractors in rows:
        found[customer_id] = Satisfaction(
            csat=share(int(good), int(rated)),
            nps=nps_score(int(promoters), int(detractors), int(answers)),
            responses=int(count),
            last_response_at=last,
        )
    return [found.get(customer_id, NONE) for customer_id in customer_ids]
