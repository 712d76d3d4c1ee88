"""Placeholder: replaced by the profiles aggregate's queries."""

from __future__ import annotations

import strawberry


@strawberry.type
class ProfileQuery:
    @strawberry.field(description="Placeholder.")
    def competitor_profiles_queries_placeholder(self) -> bool:
        return True
