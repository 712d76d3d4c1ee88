"""Survey statistics: invitations, responses, response rate, CSAT, means per dimension and
NPS of one template over a period, in total and grouped.

Three aggregated statements, whatever the number of rows: the invitations sent in the period
(by ``sent_at``), the responses submitted in it (by ``submitted_at``), and their scored
answers counted per score (at most 11 scores per group and dimension). Python only adds up
those grouped rows. WEEK and MONTH buckets are calendar weeks and months in the deployment's
time zone: their bounds are computed here, in UTC, and the database puts each row in its
bucket with a ``CASE`` over them, the same on SQLite and PostgreSQL. The definitions of the
figures are the GraphQL descriptions in :mod:`plugins.surveys.types.analysis`.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import relay

from core.plugin_api import Customer, RequestContext, User, bad_argument, translator
from plugins.surveys import declarations, models
from plugins.surveys.inputs.analysis import SurveyGroupBy
from plugins.surveys.questions import CSAT_GOOD, DETRACTOR, PROMOTER
from plugins.surveys.service.periods import (
    Buckets,
    bucket_of,
    mean_of,
    month_buckets,
    nps_score,
    share,
    week_buckets,
)
from plugins.surveys.types.analysis import (
    SurveyDimensionStats,
    SurveyGroupKey,
    SurveyNps,
    SurveyStats,
    SurveyStatsGroup,
)

_ = translator(__name__)

Inv = models.SurveyInvitation
Resp = models.SurveyResponse
Ans = models.SurveyAnswer

MAX_GROUP_BY = 3
MAX_WEEKS = 265
MAX_MONTHS = 61
TICKET_GROUPINGS = (SurveyGroupBy.HANDLER, SurveyGroupBy.TICKET_TYPE)
CUSTOMER_COLUMNS = {
    SurveyGroupBy.CUSTOMER_STAGE: Customer.stage,
    SurveyGroupBy.CUSTOMER_GRADE: Customer.grade,
    SurveyGroupBy.CUSTOMER_KIND: Customer.kind,
}


def tickets_enabled(context: RequestContext) -> bool:
    """Whether the tickets plugin is enabled: its hook specification is known."""
    hook = getattr(context.pm.hook, "crm_ticket_resolved", None)
    return hook is not None and getattr(hook, "spec", None) is not None


def check_group_by(context: RequestContext, group_by: Sequence[SurveyGroupBy]) -> None:
    """At most three groupings, none twice; the ticket groupings need the tickets plugin."""
    if len(group_by) > MAX_GROUP_BY:
        raise bad_argument("groupBy", _("at most {max} groupings", max=MAX_GROUP_BY))
    if len(set(group_by)) != len(group_by):
        raise bad_argument("groupBy", _("a grouping may be given only once"))
    for item in group_by:
        if item in TICKET_GROUPINGS and not tickets_enabled(context):
            raise bad_argument(
                "groupBy", _("{grouping} needs the tickets plugin", grouping=item.value)
            )


# ---------------------------------------------------------------------------- figures


@dataclass
class Figures:
    invitations: int = 0
    answered: int = 0
    responses: int = 0
    scores: dict[tuple[str | None, str], Counter[int]] = field(
        default_factory=lambda: defaultdict(Counter)
    )
    """(dimension, kind) -> how many answers gave each score."""

    def add_scores(self, dimension: str | None, kind: str, score: int, count: int) -> None:
        self.scores[(dimension, kind)][score] += count

    def to_group(self, key: list[SurveyGroupKey]) -> SurveyStatsGroup:
        ratings: Counter[int] = Counter()
        nps: Counter[int] = Counter()
        dimensions: list[SurveyDimensionStats] = []
        for (dimension, kind), counts in sorted(
            self.scores.items(), key=lambda item: (item[0][0] or "", item[0][1])
        ):
            if kind == "NPS":
                nps.update(counts)
                continue
            ratings.update(counts)
            if dimension is None:
                continue
            total = sum(counts.values())
            good = sum(c for score, c in counts.items() if score >= CSAT_GOOD)
            dimensions.append(
                SurveyDimensionStats(
                    dimension=dimension,
                    mean=mean_of(counts),
                    count=total,
                    csat=share(good, total),
                )
            )
        rated = sum(ratings.values())
        good = sum(c for score, c in ratings.items() if score >= CSAT_GOOD)
        answers = sum(nps.values())
        promoters = sum(c for score, c in nps.items() if score >= PROMOTER)
        detractors = sum(c for score, c in nps.items() if score <= DETRACTOR)
        return SurveyStatsGroup(
            key=key,
            invitations=self.invitations,
            answered=self.answered,
            response_rate=share(self.answered, self.invitations),
            responses=self.responses,
            csat=share(good, rated),
            dimensions=dimensions,
            nps=SurveyNps(
                score=nps_score(promoters, detractors, answers),
                promoters=promoters,
                passives=answers - promoters - detractors,
                detractors=detractors,
                responses=answers,
            ),
        )


@dataclass(frozen=True)
class StatsQuery:
    """What to count: the template, the period and the narrowing filters (database ids)."""

    template_id: int
    start: dt.datetime | None
    end: dt.datetime | None
    customer_ids: list[int] | None = None
    handler_ids: list[int] | None = None
    subject_kinds: list[str] | None = None

    def conditions(self, table: Any, moment: Any) -> list[ColumnElement[bool]]:
        found: list[ColumnElement[bool]] = [table.template_id == self.template_id]
        if self.start is not None:
            found.append(moment >= self.start)
        if self.end is not None:
            found.append(moment < self.end)
        if self.customer_ids is not None:
            found.append(table.customer_id.in_(self.customer_ids))
        if self.handler_ids is not None:
            found.append(table.handler_id.in_(self.handler_ids))
        if self.subject_kinds is not None:
            found.append(table.subject_kind.in_(self.subject_kinds))
        return found


def _buckets_for(
    context: RequestContext, query: StatsQuery, group_by: Sequence[SurveyGroupBy]
) -> dict[SurveyGroupBy, Buckets]:
    out: dict[SurveyGroupBy, Buckets] = {}
    for item, make, limit in (
        (SurveyGroupBy.WEEK, week_buckets, MAX_WEEKS),
        (SurveyGroupBy.MONTH, month_buckets, MAX_MONTHS),
    ):
        if item not in group_by:
            continue
        if query.start is None or query.end is None:
            raise bad_argument(
                "filter.period", _("grouping by {grouping} needs from and to", grouping=item.value)
            )
        longest = dt.timedelta(days=7 if item is SurveyGroupBy.WEEK else 31) * limit
        too_long = query.end - query.start > longest
        try:
            buckets = [] if too_long else make(context.settings.zone, query.start, query.end)
        except (OverflowError, ValueError):
            # A bucket would begin or end beyond the year 9999 (or before the year 1).
            raise bad_argument(
                "filter.period", _("is beyond the calendar's years 1 to 9999")
            ) from None
        if too_long or len(buckets) > limit:
            raise bad_argument("filter.period", _("is too long to group by {g}", g=item.value))
        out[item] = buckets
    return out


def _key_columns(
    table: Any,
    moment: Any,
    group_by: Sequence[SurveyGroupBy],
    buckets: dict[SurveyGroupBy, Buckets],
) -> list[Any]:
    """One labelled column per grouping but DIMENSION, for the invitations or responses."""
    columns: list[Any] = []
    for index, item in enumerate(group_by):
        if item is SurveyGroupBy.DIMENSION:
            continue
        if item is SurveyGroupBy.HANDLER:
            column: Any = table.handler_id
        elif item is SurveyGroupBy.TICKET_TYPE:
            column = table.subject_type
        elif item in CUSTOMER_COLUMNS:
            column = CUSTOMER_COLUMNS[item]
        else:
            column = bucket_of(moment, buckets[item])
        columns.append(column.label(f"k{index}"))
    return columns


def _needs_customer(group_by: Sequence[SurveyGroupBy]) -> bool:
    return any(item in CUSTOMER_COLUMNS for item in group_by)


async def stats(
    session: AsyncSession,
    context: RequestContext,
    query: StatsQuery,
    group_by: Sequence[SurveyGroupBy],
) -> SurveyStats:
    """The figures of ``query`` in total and per group of ``group_by``: three statements
    (and one for the handlers' names when grouped by HANDLER)."""
    check_group_by(context, group_by)
    buckets = _buckets_for(context, query, group_by)
    dim_at = group_by.index(SurveyGroupBy.DIMENSION) if SurveyGroupBy.DIMENSION in group_by else -1
    base_slots = [i for i, item in enumerate(group_by) if item is not SurveyGroupBy.DIMENSION]
    width = len(base_slots)

    def join_customer(statement: Any, table: Any) -> Any:
        if _needs_customer(group_by):
            return statement.join(Customer, Customer.id == table.customer_id)
        return statement

    # Invitations sent in the period, by sent_at.
    keys = _key_columns(Inv, Inv.sent_at, group_by, buckets)
    inner = join_customer(select(*keys, Inv.status.label("status")).select_from(Inv), Inv).where(
        *query.conditions(Inv, Inv.sent_at),
        Inv.status.in_(("SENT", "ANSWERED")),
        Inv.sent_at.is_not(None),
        declarations.visible(context, declarations.RESOURCE),
    )
    sub = inner.subquery("sent")
    columns = [sub.c[f"k{i}"] for i in base_slots]
    invitation_rows = (
        await session.execute(
            select(
                *columns,
                func.count(),
                func.coalesce(func.sum(case((sub.c.status == "ANSWERED", 1), else_=0)), 0),
            )
            .select_from(sub)
            .group_by(*columns)
        )
    ).all()

    # Responses submitted in the period, by submitted_at.
    keys = _key_columns(Resp, Resp.submitted_at, group_by, buckets)
    responses = join_customer(select(*keys, Resp.id.label("rid")).select_from(Resp), Resp).where(
        *query.conditions(Resp, Resp.submitted_at), declarations.visible(context)
    )
    sub = responses.subquery("submitted")
    columns = [sub.c[f"k{i}"] for i in base_slots]
    response_rows = (
        await session.execute(select(*columns, func.count()).select_from(sub).group_by(*columns))
    ).all()

    # Their scored answers, per dimension, kind and score.
    keys = _key_columns(Resp, Resp.submitted_at, group_by, buckets)
    answers = join_customer(
        select(*keys, Ans.dimension.label("dimension"), Ans.kind.label("kind"), Ans.score)
        .select_from(Resp)
        .join(Ans, Ans.response_id == Resp.id),
        Resp,
    ).where(
        *query.conditions(Resp, Resp.submitted_at),
        declarations.visible(context),
        Ans.kind.in_(("RATING", "NPS")),
        Ans.score.is_not(None),
    )
    sub = answers.subquery("scored")
    columns = [sub.c[f"k{i}"] for i in base_slots]
    extra = [sub.c.dimension, sub.c.kind, sub.c.score]
    answer_rows = (
        await session.execute(
            select(*columns, *extra, func.count()).select_from(sub).group_by(*columns, *extra)
        )
    ).all()

    total = Figures()
    per_base: dict[tuple[Any, ...], Figures] = defaultdict(Figures)
    per_key: dict[tuple[Any, ...], Figures] = defaultdict(Figures)

    def full_key(base: tuple[Any, ...], dimension: Any) -> tuple[Any, ...]:
        if dim_at < 0:
            return base
        return (*base[:dim_at], dimension, *base[dim_at:])

    for row in invitation_rows:
        base = tuple(row[:width])
        count, answered = int(row[width]), int(row[width + 1])
        for target in (total, per_base[base]):
            target.invitations += count
            target.answered += answered
    for row in response_rows:
        base = tuple(row[:width])
        total.responses += int(row[width])
        per_base[base].responses += int(row[width])
    for row in answer_rows:
        base = tuple(row[:width])
        dimension, kind, score, count = row[width:]
        total.add_scores(dimension, kind, score, count)
        if dim_at < 0:
            per_base[base].add_scores(dimension, kind, score, count)
        elif dimension is not None:
            per_key[full_key(base, dimension)].add_scores(dimension, kind, score, count)
    if dim_at < 0:
        per_key = per_base
    else:
        for key, figures in per_key.items():
            base = (*key[:dim_at], *key[dim_at + 1 :])
            counts = per_base.get(base, Figures())
            figures.invitations, figures.answered = counts.invitations, counts.answered
            figures.responses = counts.responses

    groups: list[SurveyStatsGroup] = []
    if group_by:
        names = await _handler_names(session, context, group_by, per_key)
        ordered = sorted(per_key.items(), key=lambda item: _sort_key(group_by, item[0], names))
        for key, figures in ordered:
            groups.append(figures.to_group(_describe(group_by, key, names)))
    return SurveyStats(total=total.to_group([]), groups=groups)


async def _handler_names(
    session: AsyncSession,
    context: RequestContext,
    group_by: Sequence[SurveyGroupBy],
    keys: Any,
) -> dict[int, str]:
    """The names of the handlers in ``keys`` that the caller may see (``users:read``)."""
    if SurveyGroupBy.HANDLER not in group_by:
        return {}
    at = group_by.index(SurveyGroupBy.HANDLER)
    ids = sorted({key[at] for key in keys if key[at] is not None})
    if not ids:
        return {}
    rows = await session.execute(
        select(User.id, User.name).where(User.id.in_(ids), context.visible("users:read"))
    )
    return {row[0]: row[1] for row in rows}


def _value(item: SurveyGroupBy, raw: Any) -> str | None:
    if raw is None:
        return None
    if item is SurveyGroupBy.HANDLER:
        return relay.to_base64("User", raw)
    return str(raw)


def _describe(
    group_by: Sequence[SurveyGroupBy], key: tuple[Any, ...], names: dict[int, str]
) -> list[SurveyGroupKey]:
    out = []
    for item, raw in zip(group_by, key, strict=True):
        value = _value(item, raw)
        label = names.get(raw, value) if item is SurveyGroupBy.HANDLER else value
        out.append(SurveyGroupKey(by=item, value=value, label=label))
    return out


def _sort_key(
    group_by: Sequence[SurveyGroupBy], key: tuple[Any, ...], names: dict[int, str]
) -> tuple[Any, ...]:
    parts: list[Any] = []
    for item, raw in zip(group_by, key, strict=True):
        if item is SurveyGroupBy.HANDLER and raw is not None:
            parts.append((False, names.get(raw, "\uffff").casefold(), raw))
        else:
            parts.append((raw is None, "" if raw is None else str(raw), 0))
    return tuple(parts)
