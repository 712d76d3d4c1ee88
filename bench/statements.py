"""Section 1: SQL statements per request of the nested customer query, at N = 10, 50, 100.

Every statement the app's engine sends is counted (an explicit ``BEGIN`` included, where a
session sends one; a query's reads send none), for the whole request: authentication, the
list and every nested field.
The naive implementation's count is shown beside it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from bench import naive
from bench.context import Run
from bench.dataset import in_process
from bench.queries import NESTED
from bench.report import Check, Table
from core.db import Database

SIZES = (10, 50, 100)


class Counter:
    def __init__(self) -> None:
        self.statements: list[str] = []

    def __call__(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        self.statements.append(statement)


@contextmanager
def counting(engine: AsyncEngine) -> Iterator[Counter]:
    counter = Counter()
    event.listen(engine.sync_engine, "before_cursor_execute", counter)
    try:
        yield counter
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", counter)


async def run(bench: Run) -> list[Table]:
    table = Table(
        key="statements",
        title="1. SQL statements per request: nested customer query",
        columns=["backend", "N customers", "ours", "naive (one query per row)"],
    )
    for target in bench.targets:
        ours: dict[int, int] = {}
        naive_db = Database(target.url)
        naive_app = naive.create_app(naive_db)
        transport = httpx.ASGITransport(app=naive_app)
        try:
            async with (
                in_process(target) as client,
                httpx.AsyncClient(transport=transport, base_url="http://naive") as naive_http,
            ):
                assert client.db is not None
                for size in SIZES:
                    with counting(client.db.engine) as counter:
                        body = json.loads(await client.post(NESTED, {"first": size}))
                    if body.get("errors"):
                        raise RuntimeError(f"{target.backend}: {body['errors']}")
                    edges = body["data"]["customers"]["edges"]
                    if len(edges) != min(size, target.size):
                        raise RuntimeError(f"expected {size} customers, got {len(edges)}")
                    ours[size] = len(counter.statements)
                    with counting(naive_db.engine) as naive_counter:
                        response = await naive_http.post(
                            "/graphql", json={"query": NESTED, "variables": {"first": size}}
                        )
                    if response.json().get("errors"):
                        raise RuntimeError(f"naive: {response.json()['errors']}")
                    table.rows.append(
                        [target.backend, size, ours[size], len(naive_counter.statements)]
                    )
        finally:
            await naive_db.dispose()
        spread = max(ours.values()) - min(ours.values())
        table.checks.append(
            Check(f"{target.backend}: extra statements from N=10 to 100", spread, 0)
        )
    table.notes.append(
        "ours: authentication, the page, then one statement per relationship for all rows "
        "(nested pages with ROW_NUMBER per parent); its reads send no BEGIN."
    )
    return [table]
