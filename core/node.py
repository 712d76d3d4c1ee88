"""Relay ``node`` / ``nodes``: look records up by opaque global id.

Each ``relay.Node`` type answers for its own ids through ``resolve_nodes`` (which applies
the same visibility rules as the type's root list); an id of a type this schema does not
have, or of a record the caller may not see, resolves to ``null``.
"""

from __future__ import annotations

import inspect
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from strawberry import relay
from strawberry.types.base import StrawberryObjectDefinition

from core.context import Info


def _node_type(info: Info, type_name: str) -> type[relay.Node] | None:
    definition = info.schema.get_type_by_name(type_name)
    if not isinstance(definition, StrawberryObjectDefinition):
        return None
    origin = definition.origin
    if isinstance(origin, type) and issubclass(origin, relay.Node):
        return origin
    return None


async def resolve_global_ids(info: Info, ids: Sequence[relay.GlobalID]) -> list[Any]:
    """Resolve ids to nodes (or ``None``), one batch per type, in the order given."""
    by_type: dict[str, list[int]] = defaultdict(list)
    for index, global_id in enumerate(ids):
        by_type[global_id.type_name].append(index)
    results: list[Any] = [None] * len(ids)
    for type_name, positions in by_type.items():
        node_type = _node_type(info, type_name)
        if node_type is None:
            continue
        found = node_type.resolve_nodes(
            info=info, node_ids=[ids[i].node_id for i in positions], required=False
        )
        if inspect.isawaitable(found):
            found = await found
        for position, node in zip(positions, list(found), strict=True):
            results[position] = node
    return results
