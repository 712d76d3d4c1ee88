"""The competitor plugin's GraphQL types, one module per aggregate."""

from __future__ import annotations

from typing import Any

NODE_TYPES: list[type[Any]] = []
"""The node types ``node(id:)`` resolves."""
