"""The sales plugin's root query fields, one module per aggregate, merged into one type."""

from __future__ import annotations

from strawberry.tools import merge_types

from plugins.sales.queries.analytics import AnalyticsQuery
from plugins.sales.queries.contracts import ContractQuery
from plugins.sales.queries.opportunities import OpportunityQuery
from plugins.sales.queries.orders import OrderQuery
from plugins.sales.queries.pipeline import PipelineQuery
from plugins.sales.queries.products import ProductQuery

SalesQuery = merge_types(
    "SalesQuery",
    (ProductQuery, PipelineQuery, OpportunityQuery, ContractQuery, OrderQuery, AnalyticsQuery),
)
