"""The sales plugin's mutations, one module per aggregate, merged into one type."""

from __future__ import annotations

from strawberry.tools import merge_types

# Each aggregate's mutation class is added here (and to the tuple below).
from plugins.sales.mutations.opportunities import OpportunityMutation
from plugins.sales.mutations.pipeline import PipelineMutation
from plugins.sales.mutations.products import ProductMutation

SalesMutation = merge_types(
    "SalesMutation", (ProductMutation, PipelineMutation, OpportunityMutation)
)
