"""Placeholder: replaced by the market aggregate's mutations."""

from __future__ import annotations

import strawberry


@strawberry.type
class MarketMutation:
    @strawberry.field(description="Placeholder.")
    def competitor_market_mutations_placeholder(self) -> bool:
        return True
