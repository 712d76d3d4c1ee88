"""The sales plugin's mutations, one module per aggregate, merged into one type."""

from __future__ import annotations

from strawberry.tools import merge_types

from plugins.sales.mutations.order_import import OrderImportMutation
from plugins.sales.mutations.orders import OrderMutation

SalesMutation = merge_types("SalesMutation", (OrderMutation, OrderImportMutation))
