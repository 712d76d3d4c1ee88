"""The sales plugin's root query fields, one module per aggregate, merged into one type."""

from __future__ import annotations

from strawberry.tools import merge_types

# Each aggregate's query class is added here (and to the tuple below).
from plugins.sales.queries.opportunities import OpportunityQuery
from plugins.sales.queries.pipeline import PipelineQuery
from plugins.sales.queries.products import ProductQuery

SalesQuery = merge_types("SalesQuery", (ProductQuery, PipelineQuery, OpportunityQuery))
