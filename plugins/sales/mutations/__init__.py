"""The sales plugin's mutations, one module per aggregate, merged into one type."""

from __future__ import annotations

from typing import Any

from strawberry.tools import merge_types

# Each aggregate's mutation class is added here (and to the tuple below).

PARTS: tuple[type[Any], ...] = ()

SalesMutation: type[Any] | None = merge_types("SalesMutation", PARTS) if PARTS else None
