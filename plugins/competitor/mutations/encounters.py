"""Placeholder: replaced by the encounters aggregate's mutations."""

from __future__ import annotations

import strawberry


@strawberry.type
class EncounterMutation:
    @strawberry.field(description="Placeholder.")
    def competitor_encounters_mutations_placeholder(self) -> bool:
        return True
