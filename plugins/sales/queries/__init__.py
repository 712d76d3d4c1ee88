"""The sales plugin's root query fields, one module per aggregate, merged into one type."""

from __future__ import annotations

from typing import Any

from strawberry.tools import merge_types

from plugins.sales.queries.analytics import AnalyticsQuery

# Each aggregate's query class is added here (and to the tuple below).

PARTS: tuple[type[Any], ...] = (AnalyticsQuery,)

SalesQuery: type[Any] | None = merge_types("SalesQuery", PARTS) if PARTS else None
