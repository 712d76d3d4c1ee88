"""The sales plugin's mutations, one module per aggregate, merged into one type."""

from __future__ import annotations

from strawberry.tools import merge_types

from plugins.sales.mutations.contracts import ContractMutation

# Each aggregate's mutation class is added here (and to the tuple below).

SalesMutation = merge_types("SalesMutation", (ContractMutation,))
