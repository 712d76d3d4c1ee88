"""Nested connections for many parents at once: one statement numbers each parent's rows
(``ROW_NUMBER() OVER (PARTITION BY parent ...)``), and :class:`ChildPage` turns a parent's rows
into its connection with the same cursors as :func:`core.pagination.paginate`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.relay.types import NodeType

from core.ordering import SortKey, flat_keys
from core.pagination import (
    Connection,
    PageArgs,
    connection_of,
    ordering_clauses,
    page_filter,
    sort_columns,
)


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
) -> dict[Any, list[tuple[Record, tuple[Any, ...]]]]:
    """One page of children for each of many parents, in one statement: for each parent,
    its rows (as :class:`Record`) with their sort keys' values.

    ``ROW_NUMBER() OVER (PARTITION BY parent ORDER BY keys)`` numbers each parent's rows, and
    the outer query keeps the first ``limit + 1`` of each, so the statement count of a nested
    connection does not grow with the number of parents.
    """
    flat = flat_keys(keys)
    numbered = (
        page_filter(statement, keys, args, backwards)
        .where(parent.in_(list(parent_ids)))
        .add_columns(
            *sort_columns(flat),
            func.row_number()
            .over(partition_by=parent, order_by=ordering_clauses(flat, backwards))
            .label("page_row"),
        )
        .subquery()
    )
    # Plain records, not ORM objects: a nested page is read, never changed. Executed on the
    # session's connection (Core), whose rows the ORM would only pass through at a cost per
    # row, and each row becomes a plain object with the entity's columns as attributes (the
    # models' attributes are their column names): a node builder reads a dozen attributes
    # of each, and a plain object's cost a fraction of a Row's. The sort keys' values come
    # beside each row (sort_0, sort_1...), for its cursor.
    connection = await session.connection()
    result = await connection.execute(
        select(numbered).where(numbered.c.page_row <= limit + 1).order_by(numbered.c.page_row)
    )
    names = list(result.keys())
    sort_start = -len(flat) - 1  # each row ends with its sort values, then its page_row
    columns = names[:sort_start]
    at_parent = names.index(parent.key)
    pages: dict[Any, list[tuple[Record, tuple[Any, ...]]]] = {pid: [] for pid in parent_ids}
    for row in result.all():
        record = Record.__new__(Record)
        record.__dict__ = dict(zip(columns, row, strict=False))
        pages[row[at_parent]].append((record, row[sort_start:-1]))
    return pages


class Record:
    """A row of a nested page as a plain object: its columns are its attributes."""

    def __repr__(self) -> str:
        return f"Record({self.__dict__!r})"


class ChildPage:
    """A nested connection's page, built from rows a batch loader fetched
    (:func:`child_pages`: each row with its sort keys' values beside it)."""

    def __init__(
        self,
        rows: list[tuple[Record, tuple[Any, ...]]],
        args: PageArgs,
        limit: int,
        backwards: bool,
    ) -> None:
        self.rows, self.args, self.limit, self.backwards = rows, args, limit, backwards

    def connection(
        self,
        keys: Sequence[SortKey],
        to_node: Callable[[Any], NodeType],
        count: Callable[[], Awaitable[int]] | None = None,
    ) -> Connection[NodeType]:
        return connection_of(
            self.rows,
            keys=keys,
            args=self.args,
            limit=self.limit,
            backwards=self.backwards,
            to_node=to_node,
            count=count,
        )
