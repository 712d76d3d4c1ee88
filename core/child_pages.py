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
) -> dict[Any, list[Any]]:
    """One page of children for each of many parents, in one statement.

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
    # Plain rows, not ORM objects: a nested page is read, never changed, and rows carry the
    # same attribute names (the models' attributes are their column names) without the
    # identity map and per-object state an entity costs; the sort keys' values come beside
    # them as sort_0, sort_1...
    # Executed on the session's connection (Core): the ORM's result handling would only
    # pass these rows through, at a cost per row.
    connection = await session.connection()
    rows = (
        await connection.execute(
            select(numbered).where(numbered.c.page_row <= limit + 1).order_by(numbered.c.page_row)
        )
    ).all()
    pages: dict[Any, list[Any]] = {parent_id: [] for parent_id in parent_ids}
    key = parent.key
    for row in rows:
        pages[getattr(row, key)].append(row)
    return pages


class ChildPage:
    """A nested connection's page, built from rows a batch loader fetched
    (:func:`child_pages`: each row with its sort keys' values beside it)."""

    def __init__(self, rows: list[Any], args: PageArgs, limit: int, backwards: bool) -> None:
        self.rows, self.args, self.limit, self.backwards = rows, args, limit, backwards

    def connection(
        self,
        keys: Sequence[SortKey],
        to_node: Callable[[Any], NodeType],
        count: Callable[[], Awaitable[int]] | None = None,
    ) -> Connection[NodeType]:
        # Each row ends with its sort keys' values (sort_0, sort_1...) and its page_row.
        start = -len(flat_keys(keys)) - 1
        return connection_of(
            [(row, row[start:-1]) for row in self.rows],
            keys=keys,
            args=self.args,
            limit=self.limit,
            backwards=self.backwards,
            to_node=to_node,
            count=count,
        )
