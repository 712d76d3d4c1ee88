"""One record by its global id or by its number (or SKU): the lookup every sales aggregate's
root field shares."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import select
from strawberry import relay

from core.plugin_api import Info, ModelNode, argument_id, bad_argument, translator

_ = translator(__name__)

N = TypeVar("N", bound=ModelNode[Any])


async def by_id_or_key(
    info: Info,
    node: type[N],
    id: relay.GlobalID | None,
    key: str | None,
    *,
    column: Any,
    conditions: tuple[Any, ...] = (),
    key_name: str = "number",
) -> N | None:
    """The node of global id ``id``, or of the row whose ``column`` is ``key`` (upper case;
    ``conditions`` scope it as the node's loader does); exactly one of the two is given."""
    if (id is None) == (key is None):
        message = (
            _("give exactly one of id and sku")
            if key_name == "sku"
            else _("give exactly one of id and number")
        )
        raise bad_argument("id", message)
    if id is not None:
        return await node.load(info, argument_id(id, node.__name__, "id") or 0)
    async with info.context.db.read() as session:
        row = await session.scalar(
            select(column.class_).where(column == (key or "").strip().upper(), *conditions)
        )
    return node.from_model(row) if row is not None else None
