"""Survey templates."""

from __future__ import annotations

import strawberry


@strawberry.type
class TemplateQuery:
    @strawberry.field(description="Placeholder until the module is written.")
    def templatequery_placeholder(self) -> bool:
        return False
