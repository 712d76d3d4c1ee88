"""Root query fields of competitor profiles (``competitors:read``)."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from sqlalchemy import Select, case, func, or_, select
from strawberry import relay

from core.plugin_api import (
    ORDER_BY_HELP,
    Connection,
    Info,
    ListOrder,
    PageArgs,
    argument_id,
    like_pattern,
    requires,
    search_text,
)
from plugins.competitor import declarations, models
from plugins.competitor.enums import ThreatLevel
from plugins.competitor.inputs.profiles import (
    CompetitorFilter,
    CompetitorOrder,
    CompetitorOrderField,
)
from plugins.competitor.service.profiles import ARCHIVED
from plugins.competitor.types.profiles import Competitor

THREAT_RANK = case(
    {level.value: rank for rank, level in enumerate(ThreatLevel)},
    value=models.Competitor.threat_level,
    else_=len(ThreatLevel),
)
"""LOW, MEDIUM, HIGH, CRITICAL as 0 to 3: the threat level's order."""

COMPETITOR_ORDER = ListOrder(
    {
        CompetitorOrderField.NAME: models.Competitor.name_key,
        CompetitorOrderField.THREAT_LEVEL: THREAT_RANK,
        CompetitorOrderField.CREATED_AT: models.Competitor.created_at,
        CompetitorOrderField.UPDATED_AT: models.Competitor.updated_at,
    },
    models.Competitor.id,
    default=[(CompetitorOrderField.NAME, False)],
)
"""Competitor lists' orderings: by name (regardless of case) unless ``orderBy`` says
otherwise."""


def competitor_statement(filter: CompetitorFilter | None) -> Select[Any]:
    c = models.Competitor
    statement = select(c)
    statuses = sorted({status.value for status in (filter.status if filter else None) or []})
    if statuses:
        statement = statement.where(c.status.in_(statuses))
    else:
        statement = statement.where(c.status != ARCHIVED)
    if filter is None:
        return statement
    if filter.threat_level:
        statement = statement.where(
            c.threat_level.in_(sorted({level.value for level in filter.threat_level}))
        )
    text = search_text(filter.search)
    if text:
        # The name by its case-folded key, alike on both databases (SQLite's lower() knows
        # ASCII letters only); the website as it is stored.
        statement = statement.where(
            or_(
                c.name_key.like(like_pattern(text.casefold()), escape="\\"),
                func.lower(c.website).like(like_pattern(text), escape="\\"),
            )
        )
    return statement


@strawberry.type
class ProfileQuery:
    @strawberry.field(
        description="Competitors, by name unless orderBy says otherwise; archived ones only "
        "when filter.status asks for them.",
        extensions=requires(declarations.READ),
    )
    async def competitors(
        self,
        info: Info,
        filter: CompetitorFilter | None = None,
        order_by: Annotated[
            list[CompetitorOrder] | None, strawberry.argument(description=ORDER_BY_HELP)
        ] = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Competitor] | None:
        return await info.context.page(
            competitor_statement(filter),
            keys=COMPETITOR_ORDER.keys(order_by),
            args=PageArgs(first, after, last, before),
            to_node=Competitor.from_model,
        )

    @strawberry.field(
        description="One competitor (archived ones too); null when there is none with this id.",
        extensions=requires(declarations.READ),
    )
    async def competitor(self, info: Info, id: relay.GlobalID) -> Competitor | None:
        return await Competitor.load(info, argument_id(id, "Competitor", "id"))
