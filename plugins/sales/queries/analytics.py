"""Root query fields of the sales analytics: ``salesFunnel``, ``salesForecast`` and
``salesPerformance`` (``sales:read``, over the opportunities the caller may read)."""

from __future__ import annotations

import re

import strawberry
from sqlalchemy import ColumnElement
from strawberry import relay

from core.plugin_api import Info, argument_id, bad_argument, in_range, requires, translator
from plugins.sales import declarations, models
from plugins.sales.inputs.analytics import (
    SalesForecastFilter,
    SalesFunnelFilter,
    SalesPerformanceFilter,
    SalesPerformanceGroupBy,
)
from plugins.sales.service import analytics
from plugins.sales.types.analytics import SalesForecast, SalesFunnel, SalesPerformance

_ = translator(__name__)

MAX_FORECAST_MONTHS = 36
_MONTH = re.compile(r"(\d{4})-(\d{2})")


def _people(
    info: Info, owner_id: relay.GlobalID | None, team_id: relay.GlobalID | None
) -> list[ColumnElement[bool]]:
    return analytics.scope(
        info.context,
        argument_id(owner_id, "User", "filter.ownerId"),
        argument_id(team_id, "Team", "filter.teamId"),
    )


def _month_index(value: str, argument: str) -> int:
    """Months since year 0 of a ``YYYY-MM`` argument; anything else is refused."""
    match = _MONTH.fullmatch(value.strip())
    if match is None or not 1 <= int(match[2]) <= 12 or int(match[1]) < 1:
        raise bad_argument(argument, _("must be a month written YYYY-MM, such as 2026-01"))
    return int(match[1]) * 12 + int(match[2]) - 1


def forecast_months(filter: SalesForecastFilter) -> list[str]:
    """The months ``filter.from`` to ``filter.to`` as ``YYYY-MM``, checked."""
    first = _month_index(filter.from_, "filter.from")
    last = _month_index(filter.to, "filter.to")
    if last < first:
        raise bad_argument("filter.to", _("must not be before from"))
    if last - first + 1 > MAX_FORECAST_MONTHS:
        raise bad_argument(
            "filter.to",
            _("must be at most {max} months from from", max=MAX_FORECAST_MONTHS),
        )
    return [f"{index // 12:04d}-{index % 12 + 1:02d}" for index in range(first, last + 1)]


@strawberry.type
class AnalyticsQuery:
    @strawberry.field(
        description="The sales funnel: how many opportunities (created in the period, of the "
        "owner or team) reached each stage, their amounts per currency and the conversion "
        "from each stage to the next and to WON. See SalesFunnelStage for what 'reached' "
        "means; the WON row counts the opportunities now WON (as won and winRate do: one "
        "won, then reopened, is not). Counts only the opportunities the caller may read.",
        extensions=requires(declarations.READ),
    )
    async def sales_funnel(
        self, info: Info, filter: SalesFunnelFilter | None = None
    ) -> SalesFunnel | None:
        filter = filter or SalesFunnelFilter()
        conditions = _people(info, filter.owner_id, filter.team_id)
        conditions += in_range(models.Opportunity.created_at, filter.period, "filter.period")
        async with info.context.db.read() as session:
            return await analytics.funnel(session, conditions)

    @strawberry.field(
        description="The forecast: open opportunities by expected-close month (from..to, at "
        "most 36 months), each month's count, amount and weighted amount per currency, "
        "optionally split by owner or team. Counts only the opportunities the caller may "
        "read.",
        extensions=requires(declarations.READ),
    )
    async def sales_forecast(self, info: Info, filter: SalesForecastFilter) -> SalesForecast | None:
        months = forecast_months(filter)
        conditions = _people(info, filter.owner_id, filter.team_id)
        async with info.context.db.read() as session:
            return await analytics.forecast(
                session, conditions, months, filter.group_by, info.context.db.dialect
            )

    @strawberry.field(
        description="Win/loss performance of the opportunities closed in the period: won and "
        "lost counts, win rate, won amount and average deal size per currency, average cycle "
        "length in days; in total and, with groupBy, per owner, team, source or month of "
        "closing. Counts only the opportunities the caller may read.",
        extensions=requires(declarations.READ),
    )
    async def sales_performance(
        self,
        info: Info,
        filter: SalesPerformanceFilter | None = None,
        group_by: SalesPerformanceGroupBy | None = None,
    ) -> SalesPerformance | None:
        filter = filter or SalesPerformanceFilter()
        conditions = _people(info, filter.owner_id, filter.team_id)
        conditions += in_range(models.Opportunity.closed_at, filter.period, "filter.period")
        async with info.context.db.read() as session:
            return await analytics.performance(
                session, conditions, group_by, info.context.db.dialect
            )
