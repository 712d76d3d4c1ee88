"""Placeholder: replaced by the products aggregate's queries."""

from __future__ import annotations

import strawberry


@strawberry.type
class ProductQuery:
    @strawberry.field(description="Placeholder.")
    def competitor_products_queries_placeholder(self) -> bool:
        return True
