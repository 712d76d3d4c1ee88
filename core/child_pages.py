"""Nested connections for many parents at once: one statement numbers each parent's rows
(``ROW_NUMBER() OVER (PARTITION BY parent ...)``), and :class:`ChildPage` turns a parent's rows
into its connection with the same cursors as :func:`core.pagination.paginate`.

A page whose nodes a query reads a few fields of is read with their columns alone
(:mod:`core.light_nodes`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy import column as named_column
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.relay.types import NodeType

from core.key_lists import among_named, among_values
from core.light_nodes import Light, only_columns
from core.ordering import SortKey, flat_keys
from core.pagination import (
    Connection,
    PageArgs,
    connection_of,
    ordering_clauses,
    page_filter,
    sort_columns,
)
from core.prepared import Prepared, prepared_rows
from core.rows import records
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
    light: Light | None = None,
) -> dict[Any, list[tuple[Any, tuple[Any, ...]]]]:
    """One page of children for each of many parents, in one statement: for each parent,
    its rows (as :class:`core.rows.Record`) with their sort keys' values. ``light``: the
    rows hold its columns (and the parent's) alone, when the statement has them all, and
    are its builder's nodes. The statement is built once per shape (:func:`_page_statement`).
    """
    columns, make = light if light is not None else (None, None)
    ordering = tuple(keys)
    base = identity(statement)
    shape = None if base is None else (base, parent, ordering, args, limit, backwards, columns)
    built = _SHAPES.get(
        shape,
        lambda: Prepared(
            _page_statement(statement, parent, ordering, args, limit, backwards, columns)
        ),
    )
    result = await prepared_rows(session, built, among_values(_PARENTS, parent_ids))
    key = parent.key
    pages: dict[Any, list[tuple[Any, tuple[Any, ...]]]] = {pid: [] for pid in parent_ids}
    # Each row ends with its sort values, then its page_row (not kept).
    for record, values in records(result, len(flat_keys(ordering)) + 1, make, ignored=1):
        pages[record.__dict__[key]].append((record, values))
    return pages


_PARENTS = "page_parents"
_SHAPES: Shapes[Prepared] = Shapes(512)
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
        statement = only_columns(statement, [parent.key, *columns])
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
        tag: str | None = None,
    ) -> Connection[NodeType]:
        """The page's connection, its nodes ``to_node`` of each row (``None``: the rows are
        the nodes, made by :func:`child_pages`' ``make``); ``tag``: the ordering's
        fingerprint, when the caller has it already."""
        return connection_of(
            self.rows,
            keys=keys,
            args=self.args,
            limit=self.limit,
            backwards=self.backwards,
            to_node=to_node,
            count=count,
            tag=tag,
        )
