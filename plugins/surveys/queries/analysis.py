"""Survey statistics and frequent negative feedback."""

from __future__ import annotations

import strawberry


@strawberry.type
class AnalysisQuery:
    @strawberry.field(description="Placeholder until the module is written.")
    def analysisquery_placeholder(self) -> bool:
        return False


CUSTOMER_FIELDS: dict[str, object] = {}
