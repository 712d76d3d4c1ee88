"""The sales plugin's mutations, one module per aggregate, merged into one type."""

from __future__ import annotations

from strawberry.tools import merge_types

from plugins.sales.mutations.contracts import ContractMutation
from plugins.sales.mutations.opportunities import OpportunityMutation
from plugins.sales.mutations.order_import import OrderImportMutation
from plugins.sales.mutations.orders import OrderMutation
from plugins.sales.mutations.pipeline import PipelineMutation
from plugins.sales.mutations.products import ProductMutation

SalesMutation = merge_types(
    "SalesMutation",
    (
        ProductMutation,
        PipelineMutation,
        OpportunityMutation,
        ContractMutation,
        OrderMutation,
        OrderImportMutation,
    ),
)
