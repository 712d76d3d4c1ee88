"""Placeholder: replaced by the intel aggregate's queries."""

from __future__ import annotations

from typing import Any

import strawberry


@strawberry.type
class IntelQuery:
    @strawberry.field(description="Placeholder.")
    def competitor_intel_queries_placeholder(self) -> bool:
        return True


COMPETITOR_FIELDS: dict[str, Any] = {}
SWOT_ITEM_FIELDS: dict[str, Any] = {}
