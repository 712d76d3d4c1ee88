"""The programme and its tiers."""

from __future__ import annotations

import strawberry


@strawberry.type
class ProgrammeMutation:
    @strawberry.field(description="Placeholder until the module is written.")
    def programmemutation_placeholder(self) -> bool:
        return False
