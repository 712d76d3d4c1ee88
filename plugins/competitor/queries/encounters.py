"""Root query fields of encounters and win/loss figures, and the fields added to the
Competitor type (``COMPETITOR_FIELDS``, wired in ``hooks.py``): ``encounters``,
``customers`` (the customers using it now) and ``winLoss``.

An encounter is read with ``competitors:read`` where the caller may read its customer or
owns it (:func:`plugins.competitor.service.encounters.readable`); the figures count those
only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

import strawberry
from sqlalchemy import Select, select

from core.plugin_api import (
    ORDER_BY_HELP,
    Connection,
    Info,
    ListOrder,
    PageArgs,
    RequestContext,
    argument_id,
    bad_argument,
    batch_field,
    requires,
    translator,
)
from plugins.competitor import declarations
from plugins.competitor.inputs.encounters import (
    CompetitorEncounterFilter,
    CompetitorEncounterOrder,
    CompetitorEncounterOrderField,
    CompetitorStatsFilter,
    EncounterDateRange,
)
from plugins.competitor.loaders import encounters as loaders
from plugins.competitor.models import Encounter
from plugins.competitor.queries.customers import competitor_customers
from plugins.competitor.service import stats
from plugins.competitor.service.encounters import readable
from plugins.competitor.types.customers import CustomerCompetitor
from plugins.competitor.types.encounters import CompetitorEncounter, CompetitorStats

_ = translator(__name__)

MAX_SEGMENT = 100
ENCOUNTER_ORDER = ListOrder(
    {
        CompetitorEncounterOrderField.OCCURRED_ON: Encounter.occurred_on,
        CompetitorEncounterOrderField.CREATED_AT: Encounter.created_at,
    },
    Encounter.id,
    default=[(CompetitorEncounterOrderField.OCCURRED_ON, True)],
)
"""Encounter lists' orderings: the latest first unless ``orderBy`` says otherwise."""


def _ids(values: list[Any] | None, type_name: str, argument: str) -> list[int] | None:
    if values is None:
        return None
    found: list[int] = []
    for index, value in enumerate(values):
        row_id = argument_id(value, type_name, f"{argument}.{index}")
        if row_id is not None and row_id not in found:
            found.append(row_id)
    return found


def _days(window: EncounterDateRange | None, argument: str) -> tuple[Any, Any]:
    if window is None:
        return None, None
    if window.from_ is not None and window.to is not None and window.to < window.from_:
        raise bad_argument(f"{argument}.to", _("must not be before from"))
    return window.from_, window.to


def encounter_statement(
    context: RequestContext, filter: CompetitorEncounterFilter | None
) -> Select[Any]:
    """The encounters the caller may read that ``filter`` keeps."""
    statement = select(Encounter).where(readable(context))
    if filter is None:
        return statement
    competitor_ids = _ids(filter.competitor_ids, "Competitor", "filter.competitorIds")
    if competitor_ids is not None:
        statement = statement.where(Encounter.competitor_id.in_(competitor_ids))
    if filter.outcome is not None:
        statement = statement.where(Encounter.outcome == filter.outcome.value)
    if filter.source is not None:
        statement = statement.where(Encounter.source == filter.source.value)
    owner_id = argument_id(filter.owner_id, "User", "filter.ownerId")
    if owner_id is not None:
        statement = statement.where(Encounter.owner_id == owner_id)
    customer_id = argument_id(filter.customer_id, "Customer", "filter.customerId")
    if customer_id is not None:
        statement = statement.where(Encounter.customer_id == customer_id)
    start, end = _days(filter.occurred, "filter.occurred")
    if start is not None:
        statement = statement.where(Encounter.occurred_on >= start)
    if end is not None:
        statement = statement.where(Encounter.occurred_on <= end)
    return statement


def stats_filter(filter: CompetitorStatsFilter | None) -> stats.StatsFilter:
    """The service's filter of ``competitorStats``' argument; a bad value is BAD_USER_INPUT
    naming it."""
    if filter is None:
        return stats.StatsFilter()
    start, end = _days(filter.period, "filter.period")
    kind = value = None
    if filter.segment is not None:
        value = filter.segment.value.strip()
        if not value:
            raise bad_argument("filter.segment.value", _("is required"))
        if len(value) > MAX_SEGMENT:
            raise bad_argument(
                "filter.segment.value", _("must be at most {max} characters", max=MAX_SEGMENT)
            )
        kind = filter.segment.kind
    return stats.StatsFilter(
        occurred_from=start,
        occurred_to=end,
        owner_id=argument_id(filter.owner_id, "User", "filter.ownerId"),
        segment_kind=kind,
        segment_value=value,
        competitor_ids=_ids(filter.competitor_ids, "Competitor", "filter.competitorIds"),
    )


@strawberry.type
class EncounterQuery:
    @strawberry.field(
        description="Deals met against competitors (those you may see), the latest first "
        "unless orderBy says otherwise.",
        extensions=requires(declarations.READ),
    )
    async def competitor_encounters(
        self,
        info: Info,
        filter: CompetitorEncounterFilter | None = None,
        order_by: Annotated[
            list[CompetitorEncounterOrder] | None, strawberry.argument(description=ORDER_BY_HELP)
        ] = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[CompetitorEncounter] | None:
        return await info.context.page(
            encounter_statement(info.context, filter),
            keys=ENCOUNTER_ORDER.keys(order_by),
            args=PageArgs(first=first, after=after, last=last, before=before),
            to_node=CompetitorEncounter.from_model,
        )

    @strawberry.field(
        description="Win/loss per competitor over the encounters you may see that the filter "
        "keeps: the most met first, then by name. Each competitor of filter.competitorIds "
        "appears, met or not.",
        extensions=requires(declarations.READ),
    )
    async def competitor_stats(
        self, info: Info, filter: CompetitorStatsFilter | None = None
    ) -> list[CompetitorStats] | None:
        wanted = stats_filter(filter)
        async with info.context.db.read() as session:
            found = await stats.win_loss(session, info.context, wanted)
        return [CompetitorStats.of(figures) for figures in found]


# ----------------------------------------------------------------- fields on Competitor


async def competitor_encounters(
    context: RequestContext,
    competitors: Sequence[Any],
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> list[Connection[CompetitorEncounter]]:
    """Deals met against each competitor (those you may see), the latest first."""
    return await context.child_pages(
        loaders.EncountersByCompetitorLoader,
        loaders.EncounterCountByCompetitorLoader,
        [competitor.id for competitor in competitors],
        PageArgs(first=first, after=after, last=last, before=before),
        CompetitorEncounter.from_model,
    )


async def competitor_win_loss(
    context: RequestContext, competitors: Sequence[Any]
) -> list[CompetitorStats]:
    """Win/loss against each competitor over all time (the encounters you may see)."""
    found = await context.loader(loaders.WinLossLoader).load_level(
        [competitor.id for competitor in competitors]
    )
    return [CompetitorStats.of(figures) for figures in found]


COMPETITOR_FIELDS: dict[str, Any] = {
    "encounters": batch_field(
        competitor_encounters,
        graphql_type=Connection[CompetitorEncounter],
        description="Deals met against it (those you may see), the latest first.",
    ),
    "customers": batch_field(
        competitor_customers,
        graphql_type=Connection[CustomerCompetitor],
        description="The customers (you may see) using it now, the contract ending soonest first.",
    ),
    "win_loss": batch_field(
        competitor_win_loss,
        graphql_type=CompetitorStats,
        description="Win/loss against it over all time (the encounters you may see).",
    ),
}
"""The fields the encounters and customer links add to the Competitor type."""
