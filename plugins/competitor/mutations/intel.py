"""Placeholder: replaced by the intel aggregate's mutations."""

from __future__ import annotations

import strawberry


@strawberry.type
class IntelMutation:
    @strawberry.field(description="Placeholder.")
    def competitor_intel_mutations_placeholder(self) -> bool:
        return True
