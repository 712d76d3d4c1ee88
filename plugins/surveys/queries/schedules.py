"""Relationship-survey schedules."""

from __future__ import annotations

import strawberry


@strawberry.type
class ScheduleQuery:
    @strawberry.field(description="Placeholder until the module is written.")
    def schedulequery_placeholder(self) -> bool:
        return False
