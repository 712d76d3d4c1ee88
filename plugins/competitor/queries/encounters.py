"""Placeholder: replaced by the encounters aggregate's queries."""

from __future__ import annotations

from typing import Any

import strawberry


@strawberry.type
class EncounterQuery:
    @strawberry.field(description="Placeholder.")
    def competitor_encounters_queries_placeholder(self) -> bool:
        return True


COMPETITOR_FIELDS: dict[str, Any] = {}
