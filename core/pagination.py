"""Relay connections with keyset (cursor) pagination.

A cursor encodes the sort key of its row, so asking for the page after it is an indexed
``WHERE (k1, k2, id) > (...)`` and page 10,000 costs what page 1 costs. ``first``/``last``
are capped by ``CRM_MAX_PAGE_SIZE`` (at most 100). ``totalCount`` runs its ``COUNT`` only
when the query asks for it.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import decimal
import json
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import strawberry
from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import relay
from strawberry.relay.types import NodeType

from core.errors import bad_argument


@strawberry.type(description="A page of results with Relay cursors.")
class Connection(relay.Connection[NodeType]):
    _count: strawberry.Private[Callable[[], Awaitable[int]] | None] = None

    @strawberry.field(description="Number of results across all pages (costs a count).")
    async def total_count(self) -> int:
        if self._count is None:
            return len(self.edges)
        return await self._count()


@dataclass(frozen=True)
class SortKey:
    """One column of an ordering; the last key of an ordering must be unique (the id)."""

    column: Any
    descending: bool = False


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


def encode_cursor(values: Sequence[Any]) -> str:
    raw = json.dumps([_encode_value(v) for v in values], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, *, argument: str, width: int) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(values, list) or len(values) != width:
            raise ValueError("wrong shape")
        return [_decode_value(v) for v in values]
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise bad_argument(argument, "is not a cursor this list gave out") from None


def check_page_args(args: PageArgs, max_page_size: int) -> tuple[int, bool]:
    """Validate first/last; return (limit, backwards)."""
    if args.first is not None and args.last is not None:
        raise bad_argument("last", "cannot be combined with first")
    if args.first is not None and args.before is not None:
        raise bad_argument("before", "goes with last, not with first")
    if args.last is not None and args.after is not None:
        raise bad_argument("after", "goes with first, not with last")
    for name, value in (("first", args.first), ("last", args.last)):
        if value is not None and not 0 <= value <= max_page_size:
            raise bad_argument(name, f"must be between 0 and {max_page_size}")
    if args.last is not None:
        return args.last, True
    if args.before is not None:
        return max_page_size, True
    return (args.first if args.first is not None else max_page_size), False


def _after_condition(keys: Sequence[SortKey], values: Sequence[Any], backwards: bool) -> Any:
    """Rows strictly after ``values`` in the order of ``keys`` (before, if backwards)."""
    clauses: list[ColumnElement[bool]] = []
    for index, key in enumerate(keys):
        forward = key.descending == backwards
        column = key.column
        step = column > values[index] if forward else column < values[index]
        equal_prefix = [keys[i].column == values[i] for i in range(index)]
        clauses.append(and_(*equal_prefix, step) if equal_prefix else step)
    return or_(*clauses)


async def paginate(
    session: AsyncSession,
    statement: Select[Any],
    *,
    keys: Sequence[SortKey],
    args: PageArgs,
    max_page_size: int,
    to_node: Callable[[Any], NodeType],
    count_session: Callable[[], Any] | None = None,
) -> Connection[NodeType]:
    """Run ``statement`` (rows of one entity) one page at a time.

    :param keys: the ordering; each row's cursor holds these columns' values, read from
        the row by the keys' column names.
    :param to_node: maps a result row to the GraphQL node.
    :param count_session: factory of a session for ``totalCount`` (the page's own session
        is closed by the time the count is asked for).
    """
    limit, backwards = check_page_args(args, max_page_size)
    cursor = args.before if backwards else args.after
    ordering = [(k.column.desc() if k.descending != backwards else k.column.asc()) for k in keys]
    page_statement = statement
    if cursor is not None:
        values = decode_cursor(cursor, argument="before" if backwards else "after", width=len(keys))
        page_statement = page_statement.where(_after_condition(keys, values, backwards))
    page_statement = page_statement.order_by(*ordering).limit(limit + 1)
    rows = list((await session.scalars(page_statement)).all())
    has_more = len(rows) > limit
    rows = rows[:limit]
    if backwards:
        rows.reverse()

    edges = [
        relay.Edge(
            node=to_node(row),
            cursor=encode_cursor([getattr(row, k.column.key) for k in keys]),
        )
        for row in rows
    ]
    page_info = relay.PageInfo(
        has_next_page=has_more if not backwards else args.before is not None,
        has_previous_page=has_more if backwards else args.after is not None,
        start_cursor=edges[0].cursor if edges else None,
        end_cursor=edges[-1].cursor if edges else None,
    )

    async def count() -> int:
        count_statement = select(func.count()).select_from(statement.order_by(None).subquery())
        if count_session is None:
            return int((await session.scalar(count_statement)) or 0)
        async with count_session() as own:
            return int((await own.scalar(count_statement)) or 0)

    return Connection(edges=edges, page_info=page_info, _count=count)
