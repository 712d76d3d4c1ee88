"""Placeholder: replaced by the profiles aggregate's mutations."""

from __future__ import annotations

import strawberry


@strawberry.type
class ProfileMutation:
    @strawberry.field(description="Placeholder.")
    def competitor_profiles_mutations_placeholder(self) -> bool:
        return True
