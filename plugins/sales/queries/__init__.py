"""The sales plugin's root query fields, one module per aggregate, merged into one type."""

from __future__ import annotations

from strawberry.tools import merge_types

from plugins.sales.queries.contracts import ContractQuery

# Each aggregate's query class is added here (and to the tuple below).

SalesQuery = merge_types("SalesQuery", (ContractQuery,))
