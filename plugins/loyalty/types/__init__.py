"""The loyalty plugin's GraphQL types, one module per aggregate."""

from __future__ import annotations

from typing import Any

from plugins.loyalty.types import accounts, programme, rewards

NODE_TYPES: list[type[Any]] = [*accounts.NODES, *rewards.NODES, *programme.NODES]
"""The node types ``node(id:)`` resolves."""
