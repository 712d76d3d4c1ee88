"""The loyalty plugin's root query fields, one module per aggregate, merged into one type."""

from __future__ import annotations

from strawberry.tools import merge_types

from plugins.loyalty.queries.accounts import AccountQuery
from plugins.loyalty.queries.programme import ProgrammeQuery
from plugins.loyalty.queries.rewards import RewardQuery

LoyaltyQuery = merge_types("LoyaltyQuery", (AccountQuery, RewardQuery, ProgrammeQuery))
