"""GraphQL inputs and enums of the sales analytics (funnel, forecast, performance)."""

from __future__ import annotations

import enum

import strawberry
from strawberry import relay

from core.plugin_api import DateTimeRange

OWNER_HELP = "Only opportunities owned by this user."
TEAM_HELP = (
    "Only opportunities whose owner is in this team now (a user's team is the one on their "
    "user record; moving a user moves their figures)."
)


@strawberry.input(description="Which opportunities the sales funnel counts.")
class SalesFunnelFilter:
    period: DateTimeRange | None = strawberry.field(
        default=None,
        description="Opportunities created in this span (createdAt, from inclusive, to "
        "exclusive); all of them when left out.",
    )
    owner_id: relay.GlobalID | None = strawberry.field(default=None, description=OWNER_HELP)
    team_id: relay.GlobalID | None = strawberry.field(default=None, description=TEAM_HELP)


@strawberry.enum(description="How the sales forecast splits each month.")
class SalesForecastGroupBy(enum.Enum):
    NONE = "NONE"
    OWNER = "OWNER"
    TEAM = "TEAM"


@strawberry.input(description="Which months and opportunities the sales forecast covers.")
class SalesForecastFilter:
    from_: str = strawberry.field(
        name="from",
        description="The first month (YYYY-MM, inclusive) of expected close dates.",
    )
    to: str = strawberry.field(
        description="The last month (YYYY-MM, inclusive); at most 36 months from `from`."
    )
    owner_id: relay.GlobalID | None = strawberry.field(default=None, description=OWNER_HELP)
    team_id: relay.GlobalID | None = strawberry.field(default=None, description=TEAM_HELP)
    group_by: SalesForecastGroupBy = strawberry.field(
        default=SalesForecastGroupBy.NONE,
        description="NONE: figures per month only; OWNER or TEAM (the owner's team): each "
        "month also split into groups.",
    )


@strawberry.enum(
    description="How sales performance is grouped: by the owner, the owner's team (now), "
    "the lead source, or the month (UTC) the opportunity was closed."
)
class SalesPerformanceGroupBy(enum.Enum):
    OWNER = "OWNER"
    TEAM = "TEAM"
    SOURCE = "SOURCE"
    MONTH = "MONTH"


@strawberry.input(description="Which closed opportunities sales performance counts.")
class SalesPerformanceFilter:
    period: DateTimeRange | None = strawberry.field(
        default=None,
        description="Opportunities closed (won or lost, closedAt) in this span, from "
        "inclusive, to exclusive; all closed ones when left out.",
    )
    owner_id: relay.GlobalID | None = strawberry.field(default=None, description=OWNER_HELP)
    team_id: relay.GlobalID | None = strawberry.field(default=None, description=TEAM_HELP)
