"""GraphQL types of the sales analytics: the funnel, the forecast and performance.

Every figure counts only the opportunities the caller may read (``sales:read`` at their
scope). Amounts are lists of :class:`Money`, one per currency, sorted by currency:
currencies are never added together. Rates are fractions 0..1 rounded to 4 places, null
when their denominator is 0.
"""

from __future__ import annotations

import strawberry

from core.plugin_api import Money, UserSummary, batch_field, related

PER_CURRENCY = "One amount per currency (sorted by currency); currencies are never added."
RATE = "A fraction 0..1 rounded to 4 places."


@strawberry.type(
    description="One stage of the sales funnel. An opportunity *reached* an OPEN stage when "
    "it ever entered that stage, a later OPEN stage (higher position, active or not) or the "
    "WON stage; it reached WON when it is WON now. 'Entered' means its stage history "
    "has a change into the stage, or the stage is its current one. An opportunity entered "
    "at a later stage counts as having passed the earlier ones; one that only went to LOST "
    "reached no stage."
)
class SalesFunnelStage:
    key: str = strawberry.field(description="The stage's key, e.g. PROPOSAL.")
    name: str
    kind: str = strawberry.field(description="OPEN or WON.")
    position: int
    count: int = strawberry.field(description="Opportunities that reached this stage.")
    amount: list[Money] = strawberry.field(
        description="The amounts (as they are now) of the opportunities that reached this "
        "stage. " + PER_CURRENCY
    )
    conversion_to_next: float | None = strawberry.field(
        description="Of the opportunities that reached this stage, the share that reached the "
        "next row's stage (WON after the last OPEN stage); null for WON or when count is 0. " + RATE
    )
    conversion_to_won: float | None = strawberry.field(
        description="Of the opportunities that reached this stage, the share that reached "
        "WON; null when count is 0. " + RATE
    )


@strawberry.type(
    description="The sales funnel of the opportunities the filter selects: the active OPEN "
    "stages by position, then WON; LOST is reported apart (lost, lostAmount)."
)
class SalesFunnel:
    stages: list[SalesFunnelStage]
    entered: int = strawberry.field(description="Opportunities the filter selects.")
    amount: list[Money] = strawberry.field(
        description="Their amounts (as they are now). " + PER_CURRENCY
    )
    open: int = strawberry.field(description="Of them, those now in an OPEN stage.")
    won: int = strawberry.field(description="Of them, those now WON.")
    lost: int = strawberry.field(description="Of them, those now LOST.")
    lost_amount: list[Money] = strawberry.field(
        description="The amounts of those now LOST. " + PER_CURRENCY
    )
    win_rate: float | None = strawberry.field(
        description="won / (won + lost): the share won of those now closed; null if none is. "
        + RATE
    )


@strawberry.type(description="Forecast figures of a set of open opportunities.")
class SalesForecastFigures:
    count: int = strawberry.field(description="Open opportunities expected to close here.")
    amount: list[Money] = strawberry.field(description="Their amounts. " + PER_CURRENCY)
    weighted_amount: list[Money] = strawberry.field(
        description="Per currency, the sum of amount x effective probability / 100, rounded "
        "half up to the currency's places once per currency. The effective probability is "
        "the opportunity's override when set, else its stage's default."
    )


@strawberry.type(description="The forecast figures of one owner or team in one month.")
class SalesForecastGroup(SalesForecastFigures):
    key: str | None = strawberry.field(
        description="The owner's or team's global id; null for opportunities without an owner "
        "(OWNER) or whose owner is in no team (TEAM)."
    )
    team_name: str | None = strawberry.field(description="The team's name (TEAM only).")
    owner_id: strawberry.Private[int | None]
    owner: UserSummary | None = batch_field(
        related(UserSummary, "owner_id"), description="The owner (OWNER only)."
    )


@strawberry.type(description="The forecast of one month of expected close dates.")
class SalesForecastMonth(SalesForecastFigures):
    month: str = strawberry.field(description="YYYY-MM.")
    groups: list[SalesForecastGroup] = strawberry.field(
        description="The month split by groupBy (owners or teams by name, the one without "
        "last); empty for NONE. Only groups with opportunities appear."
    )


@strawberry.type(
    description="The weighted pipeline: opportunities now in an OPEN stage whose expected "
    "close date falls in the months asked for (those without one are left out), by month."
)
class SalesForecast:
    months: list[SalesForecastMonth] = strawberry.field(
        description="Every month from `from` to `to`, in order, empty ones included."
    )
    total: SalesForecastFigures = strawberry.field(description="All the months together.")


@strawberry.type(description="Win/loss figures of a set of closed opportunities (now WON or LOST).")
class SalesPerformanceFigures:
    won: int = strawberry.field(description="Opportunities now WON.")
    lost: int = strawberry.field(description="Opportunities now LOST.")
    win_rate: float | None = strawberry.field(
        description="won / (won + lost); null when both are 0. " + RATE
    )
    won_amount: list[Money] = strawberry.field(
        description="The amounts of the won ones. " + PER_CURRENCY
    )
    average_deal_size: list[Money] = strawberry.field(
        description="Per currency, the won amount divided by the number of won opportunities "
        "in that currency, rounded half up to the currency's places."
    )
    average_cycle_days: float | None = strawberry.field(
        description="The mean time from createdAt to closedAt of the won and lost ones, in "
        "days (fractional, rounded to 2 places); null when there are none."
    )


@strawberry.type(description="The performance figures of one group.")
class SalesPerformanceGroup(SalesPerformanceFigures):
    key: str | None = strawberry.field(
        description="OWNER: the owner's global id; TEAM: the owner's team's global id; "
        "SOURCE: the lead source; MONTH: YYYY-MM of closedAt in UTC. Null for no owner, no "
        "team or no source."
    )
    team_name: str | None = strawberry.field(description="The team's name (TEAM only).")
    owner_id: strawberry.Private[int | None]
    owner: UserSummary | None = batch_field(
        related(UserSummary, "owner_id"), description="The owner (OWNER only)."
    )


@strawberry.type(
    description="Sales performance: opportunities now WON or LOST whose closedAt is in the "
    "period (an opportunity reopened since is open, and not counted)."
)
class SalesPerformance:
    groups: list[SalesPerformanceGroup] = strawberry.field(
        description="One per group (owners and teams by name, sources by value, months in "
        "order; the null key last); empty without groupBy. Only groups with opportunities "
        "appear."
    )
    total: SalesPerformanceFigures = strawberry.field(description="All groups together.")
