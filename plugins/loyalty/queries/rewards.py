"""The rewards catalogue and coupons."""

from __future__ import annotations

import strawberry


@strawberry.type
class RewardQuery:
    @strawberry.field(description="Placeholder until the module is written.")
    def rewardquery_placeholder(self) -> bool:
        return False
