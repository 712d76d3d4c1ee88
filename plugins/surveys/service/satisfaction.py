"""A customer's satisfaction (``Customer.satisfaction``): CSAT, NPS, how many responses and
the latest, from the responses the caller may see; for many customers in one statement.
And the same figures per ticket, for the tickets plugin's ``ticketStats`` (its
``crm_ticket_satisfaction`` hook)."""

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
BATCH = 500
"""Ticket ids per statement (SQLite's bound-parameter limit)."""


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


@dataclass(frozen=True)
class TicketFigures:
    """What the customer said of one ticket (the tickets plugin's
    ``crm_ticket_satisfaction``): counts that add up over tickets."""

    responses: int
    satisfied: int
    dissatisfied: int
    ratings: int
    good_ratings: int
    rating_total: int


async def of_tickets(
    session: AsyncSession, context: RequestContext, ticket_ids: Sequence[int]
) -> dict[int, TicketFigures] | None:
    """The figures of the tickets of ``ticket_ids`` answered for, from the responses the
    caller may see (one statement per ``BATCH`` tickets); ``None`` when the caller may read
    no responses at all."""
    caller = context.caller
    if caller is None or not caller.can(declarations.READ):
        return None
    rating = Ans.kind == "RATING"
    found: dict[int, TicketFigures] = {}
    ids = sorted(set(ticket_ids))
    for start in range(0, len(ids), BATCH):
        rows = await session.execute(
            select(
                Resp.subject_id,
                func.count(func.distinct(Resp.id)),
                func.count(func.distinct(case((Resp.satisfied.is_(True), Resp.id)))),
                func.count(func.distinct(case((Resp.satisfied.is_(False), Resp.id)))),
                _count(rating),
                _count(rating & (Ans.score >= CSAT_GOOD)),
                func.coalesce(func.sum(case((rating, Ans.score), else_=0)), 0),
            )
            .select_from(Resp)
            .outerjoin(
                Ans,
                and_(Ans.response_id == Resp.id, Ans.kind == "RATING", Ans.score.is_not(None)),
            )
            .where(
                Resp.subject_kind == "TICKET",
                Resp.subject_id.in_(ids[start : start + BATCH]),
                declarations.visible(context),
            )
            .group_by(Resp.subject_id)
        )
        for ticket_id, count, yes, no, rated, good, total in rows:
            found[int(ticket_id)] = TicketFigures(
                responses=int(count),
                satisfied=int(yes),
                dissatisfied=int(no),
                ratings=int(rated),
                good_ratings=int(good),
                rating_total=int(total),
            )
    return found
