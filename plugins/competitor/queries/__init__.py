"""The competitor plugin's root query fields, one module per aggregate, merged into one type."""

from __future__ import annotations

from strawberry.tools import merge_types

from plugins.competitor.queries.customers import CustomerLinkQuery
from plugins.competitor.queries.encounters import EncounterQuery
from plugins.competitor.queries.intel import IntelQuery
from plugins.competitor.queries.market import MarketQuery
from plugins.competitor.queries.products import ProductQuery
from plugins.competitor.queries.profiles import ProfileQuery

CompetitorQuery = merge_types(
    "CompetitorQuery",
    (ProfileQuery, ProductQuery, MarketQuery, IntelQuery, CustomerLinkQuery, EncounterQuery),
)
