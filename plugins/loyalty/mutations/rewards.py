"""Rewards and coupons."""

from __future__ import annotations

import strawberry


@strawberry.type
class RewardMutation:
    @strawberry.field(description="Placeholder until the module is written.")
    def rewardmutation_placeholder(self) -> bool:
        return False
