"""Placeholder: replaced by the products aggregate's mutations."""

from __future__ import annotations

import strawberry


@strawberry.type
class ProductMutation:
    @strawberry.field(description="Placeholder.")
    def competitor_products_mutations_placeholder(self) -> bool:
        return True
