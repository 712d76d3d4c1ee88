"""Placeholder: replaced by the customers aggregate's mutations."""

from __future__ import annotations

import strawberry


@strawberry.type
class CustomerLinkMutation:
    @strawberry.field(description="Placeholder.")
    def competitor_customers_mutations_placeholder(self) -> bool:
        return True
