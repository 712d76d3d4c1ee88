"""Lists of edges answered as one level, for :class:`core.read_run.Runner`.

A connection's ``edges { cursor node { ... } }`` would be three levels level by level: the
list, each edge, each node, every level checking and grouping its objects again. These
answer the list at once: the edges' plain fields in place and their nodes as one level of
their own. A page's connection (:func:`core.pagination.connection_of`) is answered from its
nodes and their sort values, before any edge object is made.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from itertools import repeat
from typing import TYPE_CHECKING, Any

from graphql.pyutils import Path, Undefined

from core.cursors import encode_cursor
from core.pagination import unread_page
from core.read_plan import EDGE_CURSOR, EDGE_NODE, EdgesPlan, FieldPlan, ObjectPlan
from core.read_rows import all_taken_as_is, is_of

PathOf = Callable[[int], Path]
"""The path of a level's value by its number in the level."""


def field_paths(path_of: PathOf, key: str, type_name: str) -> PathOf:
    return lambda index: path_of(index).add_key(key, type_name)


class EdgeLevels:
    """The runner's answers to lists of edges (a mixin of :class:`core.read_run.Runner`)."""

    if TYPE_CHECKING:

        async def _fields(
            self, object_plan: ObjectPlan, objects: list[Any], path_of: PathOf
        ) -> list[Any]: ...

        def _info(self, plan: FieldPlan, path: Path) -> Any: ...

    async def _edges(
        self,
        field: FieldPlan,
        edges: EdgesPlan,
        lists: list[Any],
        path_of: PathOf,
        type_name: str,
    ) -> list[Any] | None:
        """The completed lists of edges of ``field`` (``lists``: one per object of the
        level), each edge's plain fields by the edges' builder and their nodes as one level,
        or ``None`` when a value needs the general completion (decided before any node is
        completed, so the general completion starts from nothing done)."""
        for value in lists:
            if type(value) is not list and not (value is None and edges.nullable):
                return None
        items, owners, positions = _spread(value if type(value) is list else [] for value in lists)
        if not items:
            return [None if type(value) is not list else [] for value in lists]
        edge_type = edges.edge.type
        node = edges.node
        node_plan = node.only
        assert node_plan is not None
        assert node.attribute is not None
        list_path = field_paths(path_of, field.key, type_name)

        def item_path(number: int) -> Path:
            return list_path(owners[number]).add_key(positions[number], None)

        node_path = field_paths(item_path, node.key, edge_type.name)
        try:
            nodes = [getattr(item, node.attribute) for item in items]
            if not self._all_of(edges.edge, field, items, item_path) or not self._usable(
                node_plan, node, nodes, node_path
            ):
                return None
        except Exception:
            return None
        rows = edges.build(items)
        if rows is None:
            return None
        key = node.key
        for row, done in zip(rows, await self._fields(node_plan, nodes, node_path), strict=True):
            row[key] = done
        return _grouped([[] if type(value) is list else None for value in lists], owners, rows)

    async def _page_edges(
        self,
        field: FieldPlan,
        edges: EdgesPlan,
        connections: list[Any],
        path_of: PathOf,
        type_name: str,
    ) -> list[Any] | None:
        """The completed edges of pages' connections (:func:`core.pagination.unread_page`)
        from their nodes and sort values: the nodes as one level, each edge's type name and
        cursor written in place, no edge object made. ``None`` when a value is anything else,
        or when the edges ask for more than their type name, cursor and node; the general
        completion then reads the edges (decided before any node is completed)."""
        layout = edges.layout
        if layout is None:
            return None
        pages = []
        for connection in connections:
            page = unread_page(connection)
            if page is None:
                return None
            pages.append(page)
        node_plan = edges.node.only
        assert node_plan is not None
        nodes, owners, positions = _spread(page_nodes for page_nodes, _values, _tag in pages)
        if not nodes:
            return [[] for _ in pages]
        edge_name = edges.edge.type.name
        list_path = field_paths(path_of, field.key, type_name)

        def item_path(number: int) -> Path:
            return list_path(owners[number]).add_key(positions[number], None)

        node_path = field_paths(item_path, edges.node.key, edge_name)
        try:
            if not self._usable(node_plan, edges.node, nodes, node_path):
                return None
            # Encoded before the nodes are completed: a sort value no cursor can hold fails
            # where the general completion puts it (at the edge's cursor).
            cursors = (
                [encode_cursor(values, tag) for _nodes, page, tag in pages for values in page]
                if any(part == EDGE_CURSOR for _key, part in layout)
                else []
            )
        except Exception:
            return None
        done = await self._fields(node_plan, nodes, node_path)
        if len(layout) == 1:  # the node alone: { node { ... } }
            key = layout[0][0]
            rows = [{key: row} for row in done]
        else:
            parts = {EDGE_NODE: done, EDGE_CURSOR: cursors}
            rows = [
                {key: parts[part][number] if part in parts else edge_name for key, part in layout}
                for number in range(len(done))
            ]
        return _grouped([[] for _ in pages], owners, rows)

    def _usable(
        self, node_plan: ObjectPlan, node: FieldPlan, nodes: list[Any], node_path: PathOf
    ) -> bool:
        """Whether every node has a value and is of the node type: else the general
        completion answers the list (a non-null node without a value, one that failed, or
        one of another type)."""
        if all_taken_as_is(node_plan, nodes):  # as light nodes are
            return True
        return not any(
            value is None or value is Undefined or isinstance(value, Exception) for value in nodes
        ) and self._all_of(node_plan, node, nodes, node_path)

    def _all_of(
        self, object_plan: ObjectPlan, plan: FieldPlan, values: list[Any], path_of: PathOf
    ) -> bool:
        """Whether every value is of ``object_plan``'s type by its ``is_type_of`` (when it
        has one)."""
        if object_plan.type.is_type_of is None:
            return True
        if all_taken_as_is(object_plan, values):
            return True  # no info to build
        info = self._info(plan, path_of(0))
        return all(is_of(object_plan, value, info) for value in values)


def _spread(lists: Iterable[list[Any]]) -> tuple[list[Any], list[int], list[int]]:
    """The items of ``lists`` in one list, with each item's list and place in it."""
    items: list[Any] = []
    owners: list[int] = []
    positions: list[int] = []
    for index, value in enumerate(lists):
        items.extend(value)
        owners.extend(repeat(index, len(value)))
        positions.extend(range(len(value)))
    return items, owners, positions


def _grouped(column: list[Any], owners: list[int], rows: list[Any]) -> list[Any]:
    """``column`` (a list per owner, or ``None``) with each row appended to its owner's."""
    for owner, row in zip(owners, rows, strict=True):
        column[owner].append(row)
    return column
