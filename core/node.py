"""Relay ``node`` / ``nodes``: look records up by opaque global id.

Each ``relay.Node`` type answers for its own ids through ``resolve_nodes`` (which applies
the same visibility rules as the type's root list); an id of a type this schema does not
have, or of a record the caller may not see, resolves to ``null``.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Self, TypeVar

from strawberry import relay
from strawberry.types.base import StrawberryObjectDefinition

from core.context import Info

if TYPE_CHECKING:
    from core.context import RequestContext
    from core.loaders import Loader

M = TypeVar("M")


MAX_ROW_ID = 2**31 - 1
"""The largest database id: every id column is an ``INTEGER``, a signed 32-bit integer on
PostgreSQL (a larger number sent to it fails the statement instead of matching nothing)."""


def row_id(node_id: str) -> int | None:
    """The database id a global id's node part names, or ``None`` when it names none.

    Only ASCII digits count (``str.isdigit`` also accepts ``²`` and other digits ``int``
    refuses), and at most :data:`MAX_ROW_ID`: a longer number cannot be an id and would not
    fit the database's integer column (or, past 4,300 digits, even convert to an ``int``).
    """
    if not node_id.isascii() or not node_id.isdigit() or len(node_id) > len(str(MAX_ROW_ID)):
        return None
    value = int(node_id)
    return value if value <= MAX_ROW_ID else None


def int_ids(node_ids: Iterable[str]) -> list[int]:
    """The integer keys of global ids' node parts; one that is not an id matches nothing."""
    found = (row_id(node_id) for node_id in node_ids)
    return [-1 if value is None else value for value in found]


class ModelNode(relay.Node, Generic[M]):
    """Base of a ``relay.Node`` type backed by one model row (``class Ticket(ModelNode[
    models.Ticket])``): ``node(id:)`` and ``nodes(ids:)`` load its rows through the type's
    by-id loader, which applies the same scoping as the type's root list, so an id the
    caller may not see resolves to ``null``.

    A subclass sets ``by_id_loader`` (a :class:`core.loaders.ByIdLoader`); ``from_model(row)``
    copies same-named attributes unless the subclass defines its own.
    """

    by_id_loader: ClassVar[type[Loader[int, Any]]]
    read_columns: ClassVar[Mapping[str, str | tuple[str, Callable[[Any], Any]]]] = {}
    """The column each attribute is read from, for a nested page whose nodes a query reads
    plain fields of only (:func:`core.light_nodes.light_nodes`): a column's name, or the
    name and the conversion ``from_model`` applies to it (``("channel",
    InteractionChannel)``). An attribute not named here makes such a page read whole rows
    and build nodes with ``from_model``. A type that keeps the default ``from_model`` needs
    none: its fields' same-named columns are used (:meth:`column_reads`)."""

    plain_rows: ClassVar[bool] = False
    """Whether :meth:`from_model` reads its row's column attributes only (no relationship,
    no method or property of the model): a root list's page of these nodes is then read
    with Core, each row a plain record (:func:`core.pagination.paginate`,
    :mod:`core.rows`), without the cost of an ORM object per row."""

    @classmethod
    def column_reads(cls) -> Mapping[str, str | tuple[str, Callable[[Any], Any]]]:
        """:attr:`read_columns`; for a type that keeps the default :meth:`from_model` and
        declares none, each field's column of the same name."""
        if cls.read_columns:
            return cls.read_columns
        if cls.from_model.__func__ is not ModelNode.from_model.__func__:  # type: ignore[attr-defined]
            return {}
        table = getattr(getattr(cls.by_id_loader, "entity", None), "__table__", None)
        if table is None:
            return {}
        return {f.name: f.name for f in dataclasses.fields(cls) if f.init and f.name in table.c}

    @classmethod
    def from_model(cls, row: M) -> Self:
        """The node of ``row``: each field set at construction (private ones included) from
        the row's attribute of the same name. Override it where a value needs converting
        (a stored string to an enum, a JSON column to an object)."""
        return cls(**{f.name: getattr(row, f.name) for f in dataclasses.fields(cls) if f.init})

    @classmethod
    async def load(cls, info: Info, row_id: int | None) -> Self | None:
        """The node of ``row_id`` through the scoped by-id loader; ``None`` when there is no
        id, no such row, or the caller may not see it."""
        if row_id is None:
            return None
        row = await info.context.loader(cls.by_id_loader).load(row_id)
        return cls.from_model(row) if row is not None else None

    @classmethod
    async def load_many(
        cls, context: RequestContext, row_ids: Sequence[int | None]
    ) -> list[Self | None]:
        """The nodes of ``row_ids`` (in order) through the scoped by-id loader: the batch
        form of :meth:`load`, for :func:`core.batch_fields.related`."""
        wanted = list(dict.fromkeys(row_id for row_id in row_ids if row_id is not None))
        rows = await context.loader(cls.by_id_loader).load_level(wanted)
        found = dict(zip(wanted, rows, strict=True))
        return [
            None if row_id is None or found[row_id] is None else cls.from_model(found[row_id])
            for row_id in row_ids
        ]

    @classmethod
    async def resolve_nodes(  # type: ignore[override]  # one signature of relay's overloads
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Self | None]:
        rows = await info.context.loader(cls.by_id_loader).load_many(int_ids(node_ids))
        return [cls.from_model(row) if row is not None else None for row in rows]


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
