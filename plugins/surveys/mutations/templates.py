"""Survey templates."""

from __future__ import annotations

import strawberry


@strawberry.type
class TemplateMutation:
    @strawberry.field(description="Placeholder until the module is written.")
    def templatemutation_placeholder(self) -> bool:
        return False
