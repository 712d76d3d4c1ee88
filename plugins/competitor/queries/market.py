"""Placeholder: replaced by the market aggregate's queries."""

from __future__ import annotations

from typing import Any

import strawberry


@strawberry.type
class MarketQuery:
    @strawberry.field(description="Placeholder.")
    def competitor_market_queries_placeholder(self) -> bool:
        return True


COMPETITOR_FIELDS: dict[str, Any] = {}
