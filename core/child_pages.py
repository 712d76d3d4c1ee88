"""Nested connections for many parents at once: one statement numbers each parent's rows
(``ROW_NUMBER() OVER (PARTITION BY parent ...)``), and :class:`ChildPage` turns a parent's rows
into its connection with the same cursors as :func:`core.pagination.paginate`.

When the compiled read path knows that a query reads only plain fields of a page's nodes
(scalars, enums, ids: no batch field, nothing computed), it says which (:data:`wanted_nodes`),
and a node type that declares the columns of those attributes (``ModelNode.read_columns``)
has its page read with those columns alone and its nodes built from them
(:func:`light_nodes`): the rest of each row is neither fetched nor converted.
"""

from __future__ import annotations

import contextvars
import enum
import functools
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy import column as named_column
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.relay.types import NodeType

from core.key_lists import among_named, among_values
from core.ordering import SortKey, flat_keys
from core.pagination import (
    Connection,
    PageArgs,
    connection_of,
    ordering_clauses,
    page_filter,
    sort_columns,
)
from core.rows import core_result, records
from core.shapes import Shapes, identity


async def child_pages(
    session: AsyncSession,
    statement: Select[Any],
    *,
    parent: Any,
    parent_ids: Sequence[Any],
    keys: Sequence[SortKey],
    args: PageArgs,
    limit: int,
    backwards: bool,
    columns: Sequence[str] | None = None,
    make: Callable[[dict[str, Any]], Any] | None = None,
) -> dict[Any, list[tuple[Any, tuple[Any, ...]]]]:
    """One page of children for each of many parents, in one statement: for each parent,
    its rows (as :class:`core.rows.Record`, or what ``make`` makes of each row's columns by
    name) with their sort keys' values; ``columns``: the rows hold the statement's columns of these
    names (and the parent's) alone, else all of them (also when the statement has no column
    of one of these names). The statement is built once
    per shape (:func:`_page_statement`).
    """
    ordering = tuple(keys)
    base = identity(statement)
    shape = None if base is None else (base, parent, ordering, args, limit, backwards, columns)
    built = _SHAPES.get(
        shape,
        lambda: _page_statement(statement, parent, ordering, args, limit, backwards, columns),
    )
    result = await core_result(session, built, among_values(_PARENTS, parent_ids))
    key = parent.key
    pages: dict[Any, list[tuple[Any, tuple[Any, ...]]]] = {pid: [] for pid in parent_ids}
    # Each row ends with its sort values, then its page_row.
    for record, values in records(result, len(flat_keys(ordering)) + 1, make):
        pages[record.__dict__[key]].append((record, values[:-1]))
    return pages


_PARENTS = "page_parents"
_SHAPES: Shapes[Select[Any]] = Shapes(512)
"""Nested pages' statements by their loader's statement (scope included), ordering, page
arguments and columns: the parents are a parameter (core.shapes)."""


def _page_statement(
    statement: Select[Any],
    parent: Any,
    keys: tuple[SortKey, ...],
    args: PageArgs,
    limit: int,
    backwards: bool,
    columns: Sequence[str] | None,
) -> Select[Any]:
    """The statement of :func:`child_pages`, the parents' ids a parameter (``_PARENTS``).

    ``ROW_NUMBER() OVER (PARTITION BY parent ORDER BY keys)`` numbers each parent's rows, and
    the outer query keeps the first ``limit + 1`` of each, so the statement count of a nested
    connection does not grow with the number of parents.
    """
    flat = flat_keys(keys)
    if columns is not None:
        statement = _only(statement, parent.key, columns)
    numbered = (
        page_filter(statement, keys, args, backwards)
        .where(among_named(parent, _PARENTS))
        .add_columns(
            *sort_columns(flat),
            func.row_number()
            .over(partition_by=parent, order_by=ordering_clauses(flat, backwards))
            .label("page_row"),
        )
    )
    # The outer query names the numbered rows' columns (with their types, for the values'
    # conversions) rather than reading them from the subquery, whose column objects
    # SQLAlchemy would make first.
    outer = [named_column(selected.name, selected.type) for selected in numbered.selected_columns]
    page_row = outer[-1]
    # Plain records, not ORM objects: a nested page is read, never changed. Executed on the
    # session's connection (Core), whose rows the ORM would only pass through at a cost per
    # row, and each row becomes a plain object with the entity's columns as attributes (the
    # models' attributes are their column names): a node builder reads a dozen attributes
    # of each, and a plain object's cost a fraction of a Row's. The sort keys' values come
    # beside each row (sort_0, sort_1...), for its cursor.
    return (
        select(*outer)
        .select_from(numbered.subquery("numbered"))
        .where(page_row <= limit + 1)
        .order_by(page_row)
    )


def _only(statement: Select[Any], parent: str, names: Sequence[str]) -> Select[Any]:
    """``statement`` selecting its columns named ``names`` and ``parent`` alone (by the
    names its rows would have, the last of a name winning as it does in a row's record);
    unchanged when it has no column of one of those names."""
    selected = {column.key: column for column in statement.selected_columns}
    wanted = dict.fromkeys([parent, *names])
    if any(name not in selected for name in wanted):
        return statement
    return statement.with_only_columns(
        *(selected[name] for name in wanted), maintain_column_froms=True
    )


class ChildPage:
    """A nested connection's page, built from rows a batch loader fetched
    (:func:`child_pages`: each row with its sort keys' values beside it)."""

    def __init__(
        self,
        rows: list[tuple[Any, tuple[Any, ...]]],
        args: PageArgs,
        limit: int,
        backwards: bool,
    ) -> None:
        self.rows, self.args, self.limit, self.backwards = rows, args, limit, backwards

    def connection(
        self,
        keys: Sequence[SortKey],
        to_node: Callable[[Any], NodeType] | None,
        count: Callable[[], Awaitable[int]] | None = None,
    ) -> Connection[NodeType]:
        """The page's connection, its nodes ``to_node`` of each row (``None``: the rows are
        the nodes, made by :func:`child_pages`' ``make``)."""
        return connection_of(
            self.rows,
            keys=keys,
            args=self.args,
            limit=self.limit,
            backwards=self.backwards,
            to_node=to_node,
            count=count,
        )


# ------------------------------------------------------------- pages of plain fields only

wanted_nodes: contextvars.ContextVar[tuple[str, frozenset[str]] | None]
wanted_nodes = contextvars.ContextVar("crm_wanted_nodes", default=None)
"""Set by the compiled read path around a batch function whose connections' nodes the query
reads plain fields of only: the node type's GraphQL name and those attributes' names. The
first :func:`light_nodes` of that node type clears it."""

NodeReads = tuple[tuple[str, str, Callable[[Any], Any] | None], ...]


Light = tuple[tuple[str, ...], Callable[[dict[str, Any]], Any]]
"""The columns a nested page reads and the builder of its nodes from them
(:func:`light_nodes`)."""


def light_nodes(to_node: Callable[[Any], Any]) -> Light | None:
    """The columns to read and the node builder (from a row's columns by name) for a page
    whose nodes ``to_node`` (a node type's ``from_model``) would build, when
    :data:`wanted_nodes` asks for attributes of that type which it declares the columns of
    (``read_columns``); else ``None``."""
    wanted = wanted_nodes.get()
    if wanted is None:
        return None
    kind = getattr(to_node, "__self__", None)
    from_model = getattr(kind, "from_model", None)
    if kind is None or getattr(from_model, "__func__", None) is not getattr(to_node, "__func__", 0):
        return None
    definition = getattr(kind, "__strawberry_definition__", None)
    if definition is None or definition.name != wanted[0]:
        return None
    found = _reads(kind, wanted[1])
    if found is None:
        return None
    wanted_nodes.set(None)  # one page per batch function: the one the query reads
    return found


@functools.lru_cache(maxsize=1024)
def _reads(kind: type[Any], attributes: frozenset[str]) -> Light | None:
    column_reads = getattr(kind, "column_reads", None)
    declared = column_reads() if column_reads is not None else {}
    if not declared or not attributes <= declared.keys():
        return None
    reads: list[tuple[str, str, Callable[[Any], Any] | None]] = []
    for attribute, how in declared.items():
        column, convert = (how, None) if isinstance(how, str) else how
        # Conversions run for every node, read or not: a stored value that from_model
        # cannot convert fails the page on both paths alike.
        if attribute in attributes or convert is not None:
            reads.append((attribute, column, convert))
    columns = tuple(sorted({column for _attribute, column, _convert in reads}))
    return columns, _builder(kind, tuple(reads))


def _builder(kind: type[Any], reads: NodeReads) -> Callable[[dict[str, Any]], Any]:
    """A node of ``kind`` holding the attributes of ``reads`` alone, from a row's columns
    by name (a new dict, which becomes the node's; converted as ``from_model`` converts
    them): what the query reads, and nothing else reads these nodes."""
    # The row's columns become the node's attributes whole (a column nothing reads under
    # its own name is never read), then the attributes named otherwise than their column,
    # and the converted ones.
    renamed = tuple(
        (attribute, column)
        for attribute, column, convert in reads
        if convert is None and attribute != column
    )
    converted = tuple(
        (attribute, column, _quick(convert)) for attribute, column, convert in reads if convert
    )
    written = {attribute for attribute, _column in renamed} | {
        attribute for attribute, column, _convert in converted if attribute != column
    }
    # An attribute written over a column that another attribute reads needs the columns as
    # they came: then the node's attributes start from a copy.
    copied = bool(written & {column for _attribute, column, _convert in reads})
    new = object.__new__

    def build(values: dict[str, Any]) -> Any:
        state = values.copy() if copied else values
        for attribute, column in renamed:
            state[attribute] = values[column]
        for attribute, column, convert in converted:
            state[attribute] = convert(values[column])
        node = new(kind)
        node.__dict__ = state
        return node

    return build


def _quick(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``convert``, by a look-up of its members for an enum (what ``Enum(value)`` finds
    after two calls more); anything the look-up does not find is converted as before."""
    if not (isinstance(convert, type) and issubclass(convert, enum.Enum)):
        return convert
    members = convert._value2member_map_

    def by_value(value: Any) -> Any:
        try:
            return members[value]
        except (KeyError, TypeError):  # not a value, or unhashable: Enum's own answer
            return convert(value)

    return by_value
