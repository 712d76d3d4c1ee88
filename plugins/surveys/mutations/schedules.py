"""Relationship-survey schedules."""

from __future__ import annotations

import strawberry


@strawberry.type
class ScheduleMutation:
    @strawberry.field(description="Placeholder until the module is written.")
    def schedulemutation_placeholder(self) -> bool:
        return False
