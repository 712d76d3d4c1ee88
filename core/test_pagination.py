"""Connections' ``totalCount``: counted per connection, each failure its own."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from strawberry import relay

from core.pagination import Connection, _total_counts


def _connection(edges: int, count: Callable[[], Awaitable[int]] | None = None) -> Connection[Any]:
    nodes: list[relay.Edge[Any]] = [relay.Edge(cursor=str(n), node=n) for n in range(edges)]
    info = relay.PageInfo(
        has_next_page=False, has_previous_page=False, start_cursor=None, end_cursor=None
    )
    return Connection(edges=nodes, page_info=info, _count=count)


async def test_a_failing_count_fails_only_its_own_connections_total() -> None:
    # Given three connections: one counts 7, one's count fails, one cannot count
    async def seven() -> int:
        return 7

    async def broken() -> int:
        raise RuntimeError("count failed")

    connections = [_connection(2, seven), _connection(2, broken), _connection(3)]

    # When their totals are asked for together
    totals = await _total_counts(None, connections)

    # Then the first is its count, the second its error alone, the third its page's length
    assert totals[0] == 7
    assert isinstance(totals[1], RuntimeError)
    assert str(totals[1]) == "count failed"
    assert totals[2] == 3
