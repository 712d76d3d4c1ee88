"""The competitor plugin's GraphQL types, one module per aggregate."""

from __future__ import annotations

from typing import Any

from plugins.competitor.types import customers, encounters, intel, market, products, profiles

NODE_TYPES: list[type[Any]] = [
    *profiles.NODES,
    *products.NODES,
    *intel.NODES,
    *market.NODES,
    *customers.NODES,
    *encounters.NODES,
]
"""The node types ``node(id:)`` resolves."""
