"""The loyalty plugin's mutations, one module per aggregate, merged into one type."""

from __future__ import annotations

from strawberry.tools import merge_types

from plugins.loyalty.mutations.points import PointsMutation
from plugins.loyalty.mutations.programme import ProgrammeMutation
from plugins.loyalty.mutations.rewards import RewardMutation

LoyaltyMutation = merge_types(
    "LoyaltyMutation", (PointsMutation, RewardMutation, ProgrammeMutation)
)
