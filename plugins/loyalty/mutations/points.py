"""Enrolling, earning, adjusting points."""

from __future__ import annotations

import strawberry


@strawberry.type
class PointsMutation:
    @strawberry.field(description="Placeholder until the module is written.")
    def pointsmutation_placeholder(self) -> bool:
        return False
