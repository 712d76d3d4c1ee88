"""The programme, its tiers and its figures."""

from __future__ import annotations

import strawberry


@strawberry.type
class ProgrammeQuery:
    @strawberry.field(description="Placeholder until the module is written.")
    def programmequery_placeholder(self) -> bool:
        return False
