"""The competitor plugin's mutations, one module per aggregate, merged into one type."""

from __future__ import annotations

from strawberry.tools import merge_types

from plugins.competitor.mutations.customers import CustomerLinkMutation
from plugins.competitor.mutations.encounters import EncounterMutation
from plugins.competitor.mutations.intel import IntelMutation
from plugins.competitor.mutations.market import MarketMutation
from plugins.competitor.mutations.products import ProductMutation
from plugins.competitor.mutations.profiles import ProfileMutation

CompetitorMutation = merge_types(
    "CompetitorMutation",
    (
        ProfileMutation,
        ProductMutation,
        MarketMutation,
        IntelMutation,
        CustomerLinkMutation,
        EncounterMutation,
    ),
)
