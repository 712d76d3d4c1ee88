"""Placeholder: replaced by the customers aggregate's queries."""

from __future__ import annotations

from typing import Any

import strawberry


@strawberry.type
class CustomerLinkQuery:
    @strawberry.field(description="Placeholder.")
    def competitor_customers_queries_placeholder(self) -> bool:
        return True


CUSTOMER_FIELDS: dict[str, Any] = {}
