"""``ticketStats``: ticket figures, optionally grouped by assignee, type, priority, month of
opening, or the customer's grade or stage, each group with what its customers said of it
(from the surveys plugin, through ``crm_ticket_satisfaction``)."""

from __future__ import annotations

import datetime as dt
import inspect
import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import strawberry
from sqlalchemy import case, null, select
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import relay

from core.plugin_api import Customer as CustomerRow
from core.plugin_api import (
    CustomerGrade,
    CustomerStage,
    Info,
    Loader,
    RequestContext,
    UserSummary,
    batch_field,
    customer_visible,
    related,
    requires,
)
from plugins.tickets import models
from plugins.tickets.domain import Clock, TicketPriority, TicketStatus, TicketType, sla_view
from plugins.tickets.inputs import TicketFilter, TicketGroupBy
from plugins.tickets.loaders import SlaSettingsLoader
from plugins.tickets.queries import ticket_statement

HIDDEN = "hidden"
"""The group key of the tickets whose customer the caller may not read (by grade or stage)."""


@dataclass(frozen=True)
class Figures:
    """What customers said of tickets, as counts that add up over tickets."""

    responses: int = 0
    satisfied: int = 0
    dissatisfied: int = 0
    ratings: int = 0
    good_ratings: int = 0
    rating_total: int = 0

    @classmethod
    def read(cls, answer: Any) -> Figures:
        """The figures of one ticket, read by the attributes the hook documents."""
        return cls(
            *(
                int(getattr(answer, name, 0) or 0)
                for name in (
                    "responses",
                    "satisfied",
                    "dissatisfied",
                    "ratings",
                    "good_ratings",
                    "rating_total",
                )
            )
        )

    def __add__(self, other: Figures) -> Figures:
        return Figures(
            self.responses + other.responses,
            self.satisfied + other.satisfied,
            self.dissatisfied + other.dissatisfied,
            self.ratings + other.ratings,
            self.good_ratings + other.good_ratings,
            self.rating_total + other.rating_total,
        )


class TicketSatisfactionLoader(Loader[int, Figures | None]):
    """Each ticket's figures through ``crm_ticket_satisfaction``; ``None`` for every ticket
    when nobody answers (the surveys plugin is disabled, or the caller reads no responses)."""

    async def load_batch(self, session: AsyncSession, keys: Sequence[int]) -> list[Figures | None]:
        hook = getattr(self.context.pm.hook, "crm_ticket_satisfaction", None)
        answer: Any = None
        if hook is not None:
            answer = hook(session=session, ticket_ids=list(keys), context=self.context)
            if inspect.isawaitable(answer):
                answer = await answer
        if answer is None:
            return [None for _ in keys]
        return [Figures.read(answer[key]) if key in answer else Figures() for key in keys]


def _ratio(hits: int, total: int, places: int) -> float | None:
    return round(hits / total, places) if total else None


@strawberry.type(description="What the customers said of a group's tickets in their surveys.")
class TicketSatisfaction:
    responses: int = strawberry.field(description="Survey responses about these tickets.")
    csat: float | None = strawberry.field(
        description="Share of rating answers of 4 or 5 (of 5); null without ratings."
    )
    mean_rating: float | None = strawberry.field(description="Mean rating answer (1 to 5).")
    satisfied_share: float | None = strawberry.field(
        description="Share of the overall yes/no answers that said satisfied."
    )

    @classmethod
    def of(cls, figures: Figures) -> TicketSatisfaction:
        return cls(
            responses=figures.responses,
            csat=_ratio(figures.good_ratings, figures.ratings, 4),
            mean_rating=_ratio(figures.rating_total, figures.ratings, 2),
            satisfied_share=_ratio(figures.satisfied, figures.satisfied + figures.dissatisfied, 4),
        )


@strawberry.type
class StatusCount:
    status: TicketStatus
    count: int


async def _satisfaction(
    context: RequestContext, groups: Sequence[TicketStatsGroup]
) -> list[TicketSatisfaction | None]:
    found = await context.loader(TicketSatisfactionLoader).load_level(
        [ticket_id for group in groups for ticket_id in group.ticket_ids]
    )
    figures = iter(found)
    answers: list[TicketSatisfaction | None] = []
    for group in groups:
        mine = [next(figures) for _ in group.ticket_ids]
        if any(each is None for each in mine):
            answers.append(None)
            continue
        total = Figures()
        for each in mine:
            assert each is not None
            total = total + each
        answers.append(TicketSatisfaction.of(total))
    return answers


@strawberry.type(description="Ticket figures for one group (or all tickets, without groupBy).")
class TicketStatsGroup:
    key: list[str] = strawberry.field(
        description="The group's value per groupBy entry (assignee global id or 'unassigned', "
        "type, priority, YYYY-MM of opening, customer grade or stage or 'hidden'). The typed "
        "fields below say the same and are what a client should read."
    )
    type: TicketType | None = strawberry.field(description="Grouped by TYPE: the type.")
    priority: TicketPriority | None = strawberry.field(
        description="Grouped by PRIORITY: the priority."
    )
    month: str | None = strawberry.field(
        description="Grouped by MONTH: the month of opening, YYYY-MM (UTC)."
    )
    customer_grade: CustomerGrade | None = strawberry.field(
        description="Grouped by CUSTOMER_GRADE: the grade; null for customers you may not read."
    )
    customer_stage: CustomerStage | None = strawberry.field(
        description="Grouped by CUSTOMER_STAGE: the stage; null for customers you may not read."
    )
    total: int
    by_status: list[StatusCount]
    mean_first_response_minutes: float | None
    median_first_response_minutes: float | None
    mean_resolution_minutes: float | None
    median_resolution_minutes: float | None
    first_response_sla_compliance: float | None = strawberry.field(
        description="Share of responded tickets that met the first-response target."
    )
    resolution_sla_compliance: float | None = strawberry.field(
        description="Share of resolved tickets that met the resolution target."
    )
    reopen_rate: float | None = strawberry.field(
        description="Share of tickets reopened at least once."
    )
    backlog_age_hours: float | None = strawberry.field(description="Mean age of the open tickets.")
    assignee_id: strawberry.Private[int | None]
    ticket_ids: strawberry.Private[list[int]]
    assignee: UserSummary | None = batch_field(
        related(UserSummary, "assignee_id"),
        description="Grouped by ASSIGNEE: who the tickets are assigned to, by name; null for "
        "the unassigned ones (and when not grouped by ASSIGNEE).",
    )
    satisfaction: TicketSatisfaction | None = batch_field(
        _satisfaction,
        description="What the customers said of these tickets in satisfaction surveys, within "
        "your surveys:read scope; null when the surveys plugin is disabled or you may read no "
        "survey responses.",
    )


def _minutes(start: dt.datetime, end: dt.datetime | None) -> float | None:
    return (end - start).total_seconds() / 60 if end is not None else None


def _share(hits: int, total: int) -> float | None:
    return round(hits / total, 4) if total else None


def _mean(values: list[float]) -> float | None:
    return round(statistics.fmean(values), 2) if values else None


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 2) if values else None


_CUSTOMER_GROUPS = (TicketGroupBy.CUSTOMER_GRADE, TicketGroupBy.CUSTOMER_STAGE)


def _group_key(
    row: models.Ticket, grade: str | None, stage: str | None, group: TicketGroupBy
) -> str:
    if group is TicketGroupBy.ASSIGNEE:
        return relay.to_base64("User", row.assignee_id) if row.assignee_id else "unassigned"
    if group is TicketGroupBy.TYPE:
        return row.type
    if group is TicketGroupBy.PRIORITY:
        return row.priority
    if group is TicketGroupBy.CUSTOMER_GRADE:
        return grade or HIDDEN
    if group is TicketGroupBy.CUSTOMER_STAGE:
        return stage or HIDDEN
    return row.created_at.strftime("%Y-%m")


def _typed(
    group_by: Sequence[TicketGroupBy], key: tuple[str, ...], rows: list[models.Ticket]
) -> dict[str, Any]:
    """The typed group fields of a group: those of its groupBy entries, the rest null."""
    values = dict(zip(group_by, key, strict=True))
    grade, stage = (
        values.get(TicketGroupBy.CUSTOMER_GRADE),
        values.get(TicketGroupBy.CUSTOMER_STAGE),
    )
    return {
        "assignee_id": rows[0].assignee_id if TicketGroupBy.ASSIGNEE in values else None,
        "type": TicketType(values[TicketGroupBy.TYPE]) if TicketGroupBy.TYPE in values else None,
        "priority": (
            TicketPriority(values[TicketGroupBy.PRIORITY])
            if TicketGroupBy.PRIORITY in values
            else None
        ),
        "month": values.get(TicketGroupBy.MONTH),
        "customer_grade": CustomerGrade(grade) if grade and grade != HIDDEN else None,
        "customer_stage": CustomerStage(stage) if stage and stage != HIDDEN else None,
    }


@strawberry.type
class TicketStatsQuery:
    @strawberry.field(
        description="Ticket figures, optionally grouped.", extensions=requires("tickets:read")
    )
    async def ticket_stats(
        self,
        info: Info,
        filter: TicketFilter | None = None,
        group_by: list[TicketGroupBy] | None = None,
    ) -> list[TicketStatsGroup] | None:
        group_by = list(group_by or [])
        t = models.Ticket
        statement = ticket_statement(info.context, filter)
        if any(g in _CUSTOMER_GROUPS for g in group_by):
            # The customer's grade and stage now, of customers the caller may read only.
            visible = customer_visible(info.context, t.customer_id)
            of_customer = CustomerRow.id == t.customer_id
            grade = select(CustomerRow.grade).where(of_customer).scalar_subquery()
            stage = select(CustomerRow.stage).where(of_customer).scalar_subquery()
            statement = statement.add_columns(
                case((visible, grade), else_=null()), case((visible, stage), else_=null())
            )
        else:
            statement = statement.add_columns(null(), null())
        targets, calendar = await info.context.loader(SlaSettingsLoader).load(0)
        now = info.context.now()
        groups: dict[tuple[str, ...], list[models.Ticket]] = defaultdict(list)
        async with info.context.db.read() as session:
            result = await session.stream(statement.execution_options(yield_per=1000))
            async for row, grade_value, stage_value in result:
                key = tuple(_group_key(row, grade_value, stage_value, g) for g in group_by)
                groups[key].append(row)
        out = []
        for key, rows in sorted(groups.items()):
            views = [
                sla_view(Clock.of(r), targets.of(r.priority, r.sla_grade), calendar, now)
                for r in rows
            ]
            responded = [(r, v) for r, v in zip(rows, views, strict=True) if r.first_responded_at]
            resolved = [(r, v) for r, v in zip(rows, views, strict=True) if r.resolved_at]
            by_status: dict[str, int] = defaultdict(int)
            for r in rows:
                by_status[r.status] += 1
            first = [
                m
                for r, _ in responded
                if (m := _minutes(r.created_at, r.first_responded_at)) is not None
            ]
            resolution = [
                m for r, _ in resolved if (m := _minutes(r.created_at, r.resolved_at)) is not None
            ]
            open_rows = [r for r in rows if r.status not in ("RESOLVED", "CLOSED")]
            out.append(
                TicketStatsGroup(
                    key=list(key),
                    **_typed(group_by, key, rows),
                    total=len(rows),
                    by_status=[
                        StatusCount(status=TicketStatus(s), count=c)
                        for s, c in sorted(by_status.items())
                    ],
                    mean_first_response_minutes=_mean(first),
                    median_first_response_minutes=_median(first),
                    mean_resolution_minutes=_mean(resolution),
                    median_resolution_minutes=_median(resolution),
                    first_response_sla_compliance=_share(
                        sum(
                            1
                            for r, v in responded
                            if r.first_responded_at
                            and r.first_responded_at <= v.first_response_due_at
                        ),
                        len(responded),
                    ),
                    resolution_sla_compliance=_share(
                        sum(
                            1
                            for r, v in resolved
                            if r.resolved_at and r.resolved_at <= v.resolution_due_at
                        ),
                        len(resolved),
                    ),
                    reopen_rate=_share(sum(1 for r in rows if r.reopen_count > 0), len(rows)),
                    backlog_age_hours=_mean(
                        [(now - r.created_at).total_seconds() / 3600 for r in open_rows]
                    ),
                    ticket_ids=[r.id for r in rows],
                )
            )
        return out
