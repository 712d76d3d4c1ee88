"""GraphQL types: accounts."""

from __future__ import annotations

from typing import Any

NODES: list[type[Any]] = []
"""Node types of this module (for ``node(id:)``)."""
