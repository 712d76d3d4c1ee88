"""Relay connections with keyset (cursor) pagination.

A cursor encodes the sort key of its row, so asking for the page after it is an indexed
``WHERE (k1, k2, id) > (...)`` and page 10,000 costs what page 1 costs. ``first``/``last``
are capped by ``CRM_MAX_PAGE_SIZE`` (at most 100). ``totalCount`` runs its ``COUNT`` only
when the query asks for it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import strawberry
from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    false,
    func,
    literal,
    or_,
    select,
    tuple_,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import relay
from strawberry.relay.types import NodeType

from core.batch_fields import batch_field
from core.cursors import decode_cursor, encode_cursor, ordering_tag
from core.errors import bad_argument
from core.i18n import _
from core.light_nodes import light_nodes, only_columns
from core.ordering import SortKey, flat_keys
from core.prepared import Prepared, prepared_rows
from core.rows import reads_plain_rows, records
from core.shapes import Shapes, identity


async def _total_counts(
    context: Any, connections: Sequence[Connection[Any]]
) -> list[int | Exception]:
    """``totalCount`` of each connection: counted where a connection can count (nested
    ones together, through their count loader), else the length of its page. A count that
    fails fails its own connection's ``totalCount`` only."""

    async def count(connection: Connection[Any]) -> int:
        if connection._count is not None:
            return await connection._count()
        page = unread_page(connection)  # a page's length, without making its edges
        return len(page[0]) if page is not None else len(connection.edges)

    found = await asyncio.gather(*(count(c) for c in connections), return_exceptions=True)
    counts: list[int | Exception] = []
    for value in found:
        if isinstance(value, BaseException) and not isinstance(value, Exception):
            raise value  # a cancellation is not a count
        counts.append(value)
    return counts


@strawberry.type(description="A page of results with Relay cursors.")
class Connection(relay.Connection[NodeType]):
    _count: strawberry.Private[Callable[[], Awaitable[int]] | None] = None

    total_count: int = batch_field(
        _total_counts, description="Number of results across all pages (costs a count)."
    )


@dataclass(frozen=True)
class PageArgs:
    first: int | None = None
    after: str | None = None
    last: int | None = None
    before: str | None = None


def check_page_args(args: PageArgs, max_page_size: int) -> tuple[int, bool]:
    """Validate first/last; return (limit, backwards)."""
    if args.first is not None and args.last is not None:
        raise bad_argument("last", _("cannot be combined with first"))
    if args.first is not None and args.before is not None:
        raise bad_argument("before", _("goes with last, not with first"))
    if args.last is not None and args.after is not None:
        raise bad_argument("after", _("goes with first, not with last"))
    for name, value in (("first", args.first), ("last", args.last)):
        if value is not None and not 0 <= value <= max_page_size:
            raise bad_argument(name, _("must be between 0 and {max}", max=max_page_size))
    return page_bounds(args, max_page_size)


def page_bounds(args: PageArgs, max_page_size: int) -> tuple[int, bool]:
    """(limit, backwards) of arguments :func:`check_page_args` has accepted."""
    if args.last is not None:
        return args.last, True
    if args.before is not None:
        return max_page_size, True
    return (args.first if args.first is not None else max_page_size), False


def _after_condition(keys: Sequence[SortKey], values: Sequence[Any], backwards: bool) -> Any:
    """Rows strictly after ``values`` in the order of ``keys`` (before, if backwards).

    When every key runs the same way (and no value is NULL) this is one row comparison,
    ``(k1, k2, id) > (...)``, which PostgreSQL answers with a range scan of an index on
    those columns: a page deep in the list starts where the cursor points instead of
    filtering every row before it. The redundant ``k1 >= v1`` beside it gives SQLite the
    same range when ``k1`` is an expression. Mixed directions (or a NULL value, which sits
    behind its key's NULL flag) need the expanded ``k1 > v1 OR (k1 = v1 AND ...)``.
    """
    if len({key.descending for key in keys}) == 1 and all(v is not None for v in values):
        forward = keys[0].descending == backwards
        first = keys[0].column
        row = tuple_(*(key.column for key in keys))
        cursor = tuple_(
            *(literal(value, key.column.type) for key, value in zip(keys, values, strict=True))
        )
        if forward:
            return and_(first >= values[0], row > cursor)
        return and_(first <= values[0], row < cursor)
    clauses: list[ColumnElement[bool]] = []
    for index, key in enumerate(keys):
        forward = key.descending == backwards
        column, value = key.column, values[index]
        if value is None:  # nothing is past NULL among the rows whose flag says NULL
            step: Any = false()
        else:
            step = column > value if forward else column < value
        equal_prefix = [
            keys[i].column.is_(None) if values[i] is None else keys[i].column == values[i]
            for i in range(index)
        ]
        clauses.append(and_(*equal_prefix, step) if equal_prefix else step)
    return or_(*clauses)


def ordering_clauses(keys: Sequence[SortKey], backwards: bool) -> list[Any]:
    return [(k.column.desc() if k.descending != backwards else k.column.asc()) for k in keys]


def order_clauses(keys: Sequence[SortKey]) -> list[Any]:
    """``ORDER BY`` clauses of an ordering, NULLs placed as in its pages (for a statement
    that is not paged, such as an export)."""
    return ordering_clauses(flat_keys(keys), False)


def sort_columns(keys: Sequence[SortKey]) -> list[Any]:
    """The flat keys' values, selected beside each row for its cursor."""
    return [key.column.label(f"sort_{index}") for index, key in enumerate(keys)]


def page_filter(
    statement: Select[Any], keys: Sequence[SortKey], args: PageArgs, backwards: bool
) -> Select[Any]:
    cursor = args.before if backwards else args.after
    if cursor is None:
        return statement
    flat = flat_keys(keys)
    values = decode_cursor(
        cursor,
        argument="before" if backwards else "after",
        width=len(flat),
        tag=ordering_tag(keys),
        keys=flat,
    )
    return statement.where(_after_condition(flat, values, backwards))


class _Edge(relay.Edge[Any]):
    """An edge whose cursor is encoded when it is first read: most queries ask for the
    nodes only, and a page of a hundred customers holds about a thousand edges."""

    _values: Sequence[Any]
    _tag: str

    def __getattr__(self, name: str) -> Any:
        if name != "cursor":
            raise AttributeError(name)
        cursor = self.__dict__["cursor"] = encode_cursor(self._values, self._tag)
        return cursor


class _PageInfo(relay.PageInfo):
    """Page information whose start and end cursors are those of the page's first and last
    rows, encoded when first read."""

    _ends: tuple[Sequence[Any], Sequence[Any]] | None
    _tag: str

    def __getattr__(self, name: str) -> Any:
        if name == "start_cursor":
            value = encode_cursor(self._ends[0], self._tag) if self._ends else None
        elif name == "end_cursor":
            value = encode_cursor(self._ends[1], self._tag) if self._ends else None
        else:
            raise AttributeError(name)
        self.__dict__[name] = value
        return value


def _edge(node: Any, values: Sequence[Any], tag: str) -> relay.Edge[Any]:
    edge = _Edge.__new__(_Edge)
    edge.node, edge._values, edge._tag = node, values, tag
    return edge


class _Page(Connection[Any]):
    """A page's connection whose edges and page information are made when first read.

    Its nodes are built with it (a node that cannot be built fails the page where it is
    read, as before); the compiled read path answers ``edges { cursor node }`` from the
    nodes and their sort values (:func:`unread_page`) without an edge object per row."""

    _nodes: list[Any]
    _values: list[Sequence[Any]]
    _tag: str
    _next: bool
    _previous: bool

    def __getattr__(self, name: str) -> Any:
        if name == "edges":
            tag = self._tag
            value: Any = [
                _edge(node, values, tag)
                for node, values in zip(self._nodes, self._values, strict=True)
            ]
        elif name == "page_info":
            value = _PageInfo.__new__(_PageInfo)
            value.has_next_page, value.has_previous_page = self._next, self._previous
            value._ends = (self._values[0], self._values[-1]) if self._values else None
            value._tag = self._tag
        else:
            raise AttributeError(name)
        self.__dict__[name] = value
        return value


def unread_page(value: Any) -> tuple[list[Any], list[Sequence[Any]], str] | None:
    """The nodes of a page's connection (:func:`connection_of`) with their sort values and
    the ordering's fingerprint (a cursor's contents), while its edges have not been made;
    else ``None``."""
    if type(value) is not _Page or "edges" in value.__dict__:
        return None
    return value._nodes, value._values, value._tag


def connection_of(
    rows: Sequence[tuple[Any, Sequence[Any]]],
    *,
    keys: Sequence[SortKey],
    args: PageArgs,
    limit: int,
    backwards: bool,
    to_node: Callable[[Any], NodeType] | None,
    count: Callable[[], Awaitable[int]] | None,
    tag: str | None = None,
) -> Connection[NodeType]:
    """The connection of a page's rows (each with its sort values), its nodes ``to_node``
    of each row (``None``: the rows are the nodes); ``tag``: the ordering's fingerprint
    (:func:`core.cursors.ordering_tag` of ``keys``), when the caller has it."""
    has_more = len(rows) > limit
    page = list(rows[:limit])
    if backwards:
        page.reverse()
    connection = _Page.__new__(_Page)
    if to_node is None:
        connection._nodes = [row for row, _values in page]
    else:
        connection._nodes = [to_node(row) for row, _values in page]
    connection._values = [values for _row, values in page]
    connection._tag = tag if tag is not None else ordering_tag(keys)
    connection._next = has_more if not backwards else args.before is not None
    connection._previous = has_more if backwards else args.after is not None
    connection._count = count
    return connection


@dataclass(frozen=True)
class Part:
    """One part of a list that is the union of several, such as a text search over a few
    columns and a related table.

    A single statement with ``OR`` between the parts can only walk the list in order and
    test every row, or fetch every match and sort them: the first is slow for a rare term,
    the second for a common one, and no index serves the ``OR`` as a whole. Paged one part
    at a time, each part's page is found the way that suits it, and the list's page is the
    first rows of the few pages together.
    """

    statement: Select[Any]
    """Rows of the list's entity, filtered like the list, plus this part's condition."""
    collect: int | None = None
    """Find this part's page by collecting its matches (up to this many, through whatever
    index finds them) and sorting them, and walk the list in order only when there are more.
    For conditions whose matches cluster in the list's order (a part of a name in a list by
    name), where a walk could pass most of the list before it finds the first match. None:
    the database chooses."""


def _part_page(
    part: Part, keys: Sequence[SortKey], args: PageArgs, limit: int, backwards: bool
) -> Select[Any]:
    """The unique key (id) of the rows of one page of ``part``."""
    unique = keys[-1].column
    statement = page_filter(part.statement, keys, args, backwards)
    keys = flat_keys(keys)
    ordering = ordering_clauses(keys, backwards)
    if part.collect is None:
        page = statement.with_only_columns(unique).order_by(*ordering).limit(limit + 1)
        return select(page.subquery().c[0])
    # Up to `collect` matches with their sort keys; a one-time filter on their number runs
    # either the sort of those (all of them, when fewer) or the walk, never both.
    collected = (
        statement.with_only_columns(*(k.column.label(f"key_{i}") for i, k in enumerate(keys)))
        .limit(part.collect)
        .cte()
    )
    found = select(func.count()).select_from(collected).scalar_subquery()
    sort = [
        column.desc() if key.descending != backwards else column.asc()
        for key, column in zip(keys, collected.c, strict=True)
    ]
    unique_collected = collected.c[len(keys) - 1]
    sorted_page = (
        select(unique_collected).where(found < part.collect).order_by(*sort).limit(limit + 1)
    )
    walked_page = (
        statement.with_only_columns(unique)
        .where(found >= part.collect)
        .order_by(*ordering)
        .limit(limit + 1)
    )
    return (
        union_all(select(sorted_page.subquery().c[0]), select(walked_page.subquery().c[0]))
        .subquery()
        .select()
    )


_SHAPES: Shapes[Prepared] = Shapes(512)
"""Root pages' statements by their list's statement, ordering and page arguments."""


def _page_shape(
    source: Select[Any],
    ordering: tuple[SortKey, ...],
    args: PageArgs,
    limit: int,
    backwards: bool,
) -> Hashable | None:
    found = identity(source)
    return None if found is None else (found, ordering, args, limit, backwards)


async def paginate(
    session: AsyncSession,
    statement: Select[Any],
    *,
    keys: Sequence[SortKey],
    args: PageArgs,
    max_page_size: int,
    to_node: Callable[[Any], NodeType],
    count_session: Callable[[], Any] | None = None,
    parts: Sequence[Part] = (),
) -> Connection[NodeType]:
    """Run ``statement`` (rows of one entity) one page at a time.

    :param keys: the ordering; each row's cursor holds these columns' values, read from
        the row by the keys' column names.
    :param to_node: maps a result row to the GraphQL node.
    :param count_session: factory of a session for ``totalCount`` (the page's own session
        is closed by the time the count is asked for).
    :param parts: statements whose union is ``statement``; when given, a page is put
        together from one page of each part (see :class:`Part`), and ``statement`` is only
        counted.
    """
    limit, backwards = check_page_args(args, max_page_size)
    source = statement
    if parts:
        pages = [_part_page(part, keys, args, limit, backwards) for part in parts]
        entity = statement.column_descriptions[0]["entity"]
        source = select(entity).where(keys[-1].column.in_(union_all(*pages)))
    # The query reads a few fields of the nodes: the rows hold their columns alone, and
    # become nodes as they are read (core.light_nodes).
    light = light_nodes(to_node)
    if light is not None:
        source = only_columns(source, light[0])
    flat = flat_keys(keys)
    ordering = tuple(keys)

    def build() -> Prepared:
        paged = page_filter(source, ordering, args, backwards).add_columns(*sort_columns(flat))
        return Prepared(paged.order_by(*ordering_clauses(flat, backwards)).limit(limit + 1))

    # Built once per shape (core.shapes): the list's statement, scope and filters included,
    # with the ordering and the page arguments.
    shape = None if parts else _page_shape(source, ordering, args, limit, backwards)
    page = _SHAPES.get(shape, build)
    rows: list[tuple[Any, tuple[Any, ...]]]
    if light is not None:
        rows = records(await prepared_rows(session, page), len(flat), light[1])
    elif reads_plain_rows(to_node):  # a row's columns, with Core: no ORM object is made
        rows = records(await prepared_rows(session, page), len(flat))
    else:
        found = (await session.execute(page.statement)).all()
        rows = [(row[0], tuple(row[1:])) for row in found]

    async def count() -> int:
        count_statement = select(func.count()).select_from(statement.order_by(None).subquery())
        if count_session is None:
            return int((await session.scalar(count_statement)) or 0)
        async with count_session() as own:
            return int((await own.scalar(count_statement)) or 0)

    return connection_of(
        rows,
        keys=keys,
        args=args,
        limit=limit,
        backwards=backwards,
        to_node=to_node if light is None else None,
        count=count,
    )
