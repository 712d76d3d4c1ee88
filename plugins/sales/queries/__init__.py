"""The sales plugin's root query fields, one module per aggregate, merged into one type."""

from __future__ import annotations

from strawberry.tools import merge_types

from plugins.sales.queries.analytics import AnalyticsQuery
from plugins.sales.queries.orders import OrderQuery

SalesQuery = merge_types("SalesQuery", (OrderQuery, AnalyticsQuery))
