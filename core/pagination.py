"""Relay connections with keyset (cursor) pagination.

A cursor encodes the sort key of its row, so asking for the page after it is an indexed
``WHERE (k1, k2, id) > (...)`` and page 10,000 costs what page 1 costs. ``first``/``last``
are capped by ``CRM_MAX_PAGE_SIZE`` (at most 100). ``totalCount`` runs its ``COUNT`` only
when the query asks for it.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import datetime as dt
import decimal
import functools
import hashlib
import json
import math
import uuid
from collections.abc import Awaitable, Callable, Sequence
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
from sqlalchemy.types import TypeDecorator
from strawberry import relay
from strawberry.relay.types import NodeType

from core.batch_fields import batch_field
from core.client_input import load_json
from core.errors import bad_argument
from core.i18n import _
from core.ordering import SortKey, flat_keys
from core.rows import core_result, reads_plain_rows, records


async def _total_counts(
    context: Any, connections: Sequence[Connection[Any]]
) -> list[int | Exception]:
    """``totalCount`` of each connection: counted where a connection can count (nested
    ones together, through their count loader), else the length of its page. A count that
    fails fails its own connection's ``totalCount`` only."""

    async def count(connection: Connection[Any]) -> int:
        return len(connection.edges) if connection._count is None else await connection._count()

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


def _encode_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return {"t": value.isoformat()}
    if isinstance(value, dt.date):
        return {"d": value.isoformat()}
    if isinstance(value, decimal.Decimal):
        return {"n": str(value)}
    if isinstance(value, uuid.UUID):
        return {"u": str(value)}
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise TypeError(f"cannot put {type(value).__name__} in a cursor")


def _decode_value(value: Any) -> Any:
    if isinstance(value, dict) and len(value) == 1:
        ((tag, raw),) = value.items()
        decoders: dict[str, Callable[[str], Any]] = {
            "t": dt.datetime.fromisoformat,
            "d": dt.date.fromisoformat,
            "n": decimal.Decimal,
            "u": uuid.UUID,
        }
        if tag in decoders and isinstance(raw, str):
            return decoders[tag](raw)
        raise ValueError("unknown cursor value")
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise ValueError("unknown cursor value")


def ordering_tag(keys: Sequence[SortKey]) -> str:
    """A short fingerprint of an ordering, kept in its cursors: a cursor of one ordering
    handed to another (name values compared with times) is refused, not run."""
    return _ordering_tag(tuple(keys))


@functools.lru_cache(maxsize=256)
def _ordering_tag(keys: tuple[SortKey, ...]) -> str:
    # Orderings are few and fixed (declared on loaders and lists): computed once each.
    text = "|".join(f"{key.column}:{key.descending}:{key.nullable}" for key in keys)
    return hashlib.blake2s(text.encode(), digest_size=4).hexdigest()


def encode_cursor(values: Sequence[Any], tag: str = "") -> str:
    raw = json.dumps([tag, *(_encode_value(v) for v in values)], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


MAX_CURSOR_LENGTH = 2048
"""The longest cursor accepted; those the lists give out are a few dozen characters."""

_BIGINT = 2**63


def _python_type(key: SortKey) -> type[Any] | None:
    column_type = key.column.type
    if isinstance(column_type, TypeDecorator):  # UTCDateTime: its stored type tells
        column_type = column_type.impl_instance
    try:
        python_type: type[Any] = column_type.python_type
    except NotImplementedError:
        return None
    return None if python_type is object else python_type


def _fits(key: SortKey, value: Any) -> bool:
    """``value`` (decoded from a cursor) can be compared with ``key``'s column: of the
    column's type and within what the database stores, so a forged cursor is refused here
    instead of failing in the database driver."""
    if value is None:
        return True
    expected = _python_type(key)
    if expected is None:
        return not isinstance(value, float) or math.isfinite(value)
    if isinstance(value, bool) or expected is bool:
        return isinstance(value, bool) and expected is bool
    if expected is int:
        return isinstance(value, int) and -_BIGINT <= value < _BIGINT
    if expected is float:
        return isinstance(value, int | float) and math.isfinite(value)
    if expected is decimal.Decimal:
        return isinstance(value, decimal.Decimal) and value.is_finite()
    if expected is str:
        if not isinstance(value, str):
            return False
        try:
            value.encode()
        except UnicodeEncodeError:  # a lone surrogate; no stored text holds one
            return False
        return True
    if expected is dt.datetime:
        if not isinstance(value, dt.datetime) or value.tzinfo is None:
            return False
        try:
            value.astimezone(dt.UTC)
        except OverflowError:
            return False
        return True
    if expected is dt.date:
        return isinstance(value, dt.date) and not isinstance(value, dt.datetime)
    return isinstance(value, expected)


def decode_cursor(
    cursor: str,
    *,
    argument: str,
    width: int,
    tag: str = "",
    keys: Sequence[SortKey] | None = None,
) -> list[Any]:
    """The sort key values a cursor holds; anything but a cursor of this ordering (with
    values that fit ``keys``' columns, when given) is a BAD_USER_INPUT error naming
    ``argument``."""
    try:
        if len(cursor) > MAX_CURSOR_LENGTH:
            raise ValueError("too long")
        padded = cursor + "=" * (-len(cursor) % 4)
        values = load_json(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(values, list) or len(values) < 2:
            raise ValueError("wrong shape")
        if values[0] != tag:
            if isinstance(values[0], str) and len(values[0]) == len(tag):
                raise bad_argument(
                    argument,
                    _(
                        "was given out under another orderBy: ask for the first page of this "
                        "order again"
                    ),
                )
            raise ValueError("wrong ordering")
        if len(values) != width + 1:
            raise ValueError("wrong shape")
        decoded = [_decode_value(v) for v in values[1:]]
        if keys is not None and not all(
            _fits(key, value) for key, value in zip(keys, decoded, strict=True)
        ):
            raise ValueError("a value of the wrong type")
        return decoded
    except (ValueError, TypeError, decimal.InvalidOperation, binascii.Error):
        # JsonInputError (too deep, NaN, unreadable text) is a ValueError too
        raise bad_argument(argument, _("is not a cursor this list gave out")) from None


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
    """Page information whose start and end cursors are those of the first and last edge,
    encoded when first read."""

    _edges: Sequence[relay.Edge[Any]]

    def __getattr__(self, name: str) -> Any:
        if name == "start_cursor":
            value = self._edges[0].cursor if self._edges else None
        elif name == "end_cursor":
            value = self._edges[-1].cursor if self._edges else None
        else:
            raise AttributeError(name)
        self.__dict__[name] = value
        return value


def _edge(node: Any, values: Sequence[Any], tag: str) -> relay.Edge[Any]:
    edge = _Edge.__new__(_Edge)
    edge.node, edge._values, edge._tag = node, values, tag
    return edge


def connection_of(
    rows: Sequence[tuple[Any, Sequence[Any]]],
    *,
    keys: Sequence[SortKey],
    args: PageArgs,
    limit: int,
    backwards: bool,
    to_node: Callable[[Any], NodeType],
    count: Callable[[], Awaitable[int]] | None,
) -> Connection[NodeType]:
    has_more = len(rows) > limit
    page = list(rows[:limit])
    if backwards:
        page.reverse()
    tag = ordering_tag(keys)
    edges = [_edge(to_node(row), values, tag) for row, values in page]
    page_info = _PageInfo.__new__(_PageInfo)
    page_info.has_next_page = has_more if not backwards else args.before is not None
    page_info.has_previous_page = has_more if backwards else args.after is not None
    page_info._edges = edges
    return Connection(edges=edges, page_info=page_info, _count=count)


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
    flat = flat_keys(keys)
    page_statement = page_filter(source, keys, args, backwards).add_columns(*sort_columns(flat))
    page_statement = page_statement.order_by(*ordering_clauses(flat, backwards)).limit(limit + 1)
    rows: list[tuple[Any, tuple[Any, ...]]]
    if reads_plain_rows(to_node):  # a row's columns, with Core: no ORM object is made
        rows = records(await core_result(session, page_statement), len(flat))
    else:
        rows = [(row[0], tuple(row[1:])) for row in (await session.execute(page_statement)).all()]

    async def count() -> int:
        count_statement = select(func.count()).select_from(statement.order_by(None).subquery())
        if count_session is None:
            return int((await session.scalar(count_statement)) or 0)
        async with count_session() as own:
            return int((await own.scalar(count_statement)) or 0)

    return connection_of(
        rows, keys=keys, args=args, limit=limit, backwards=backwards, to_node=to_node, count=count
    )
