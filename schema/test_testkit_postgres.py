"""The kit's stock of PostgreSQL databases made ahead: ready databases are the kind asked for
and nobody else's, each one taken orders the next, and nothing is left on the server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest

from schema import testkit_postgres as kit
from schema.testkit_postgres import POSTGRES_URL, STOCK_DEPTH, Stock

pytestmark = pytest.mark.skipif(not POSTGRES_URL, reason="CRM_TEST_POSTGRES_URL not set")


async def existing(names: list[str]) -> set[str]:
    admin = await asyncpg.connect(kit.dsn_for())
    try:
        rows = await admin.fetch("SELECT datname FROM pg_database WHERE datname = ANY($1)", names)
    finally:
        await admin.close()
    return {row["datname"] for row in rows}


async def tables_of(name: str) -> set[str]:
    connection = await asyncpg.connect(kit.dsn_for(name))
    try:
        rows = await connection.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    finally:
        await connection.close()
    return {row["tablename"] for row in rows}


@pytest.fixture
async def template() -> AsyncIterator[str]:
    """A template database holding one table."""
    name = kit.new_name()
    await kit.create_database(name)
    connection = await asyncpg.connect(kit.dsn_for(name))
    try:
        await connection.execute("CREATE TABLE kept (id integer PRIMARY KEY)")
    finally:
        await connection.close()
    yield name
    await kit.drop_database(name)


async def test_outside_a_session_the_stock_makes_nothing() -> None:
    stock = Stock()
    assert stock.take(None) is None
    assert stock.orders.qsize() == 0
    assert stock.thread is None


async def test_a_taken_database_is_of_its_kind_and_orders_the_next(template: str) -> None:
    stock = Stock()
    stock.open()
    taken: list[str] = []
    try:
        # Given a first take of each kind, which finds none ready and orders them
        assert stock.take(None) is None
        assert stock.take(template) is None
        await asyncio.to_thread(stock.orders.join)
        assert {kind: len(names) for kind, names in stock.ready.items()} == {
            None: STOCK_DEPTH,
            template: STOCK_DEPTH,
        }

        # When one of each is taken
        empty = stock.take(None)
        copy = stock.take(template)
        taken.extend(name for name in (empty, copy) if name is not None)

        # Then each is there, of its kind, and is no longer the stock's to hand out
        assert empty is not None
        assert copy is not None
        assert await existing([empty, copy]) == {empty, copy}
        assert await tables_of(empty) == set()
        assert await tables_of(copy) == {"kept"}
        await asyncio.to_thread(stock.orders.join)
        assert empty not in stock.ready[None]
        assert copy not in stock.ready[template]
        assert len(stock.ready[None]) == len(stock.ready[template]) == STOCK_DEPTH
        assert stock.failures == []
        stocked = [*stock.ready[None], *stock.ready[template]]
    finally:
        await asyncio.to_thread(stock.release, [template])
        await asyncio.to_thread(stock.close)
        for name in taken:
            await kit.drop_database(name)

    # And what was left in stock is gone from the server once its kinds are released
    await asyncio.to_thread(kit.wait_for_drops)
    assert await existing(stocked) == set()
    assert stock.take(template) is None
    assert stock.take(None) is None


async def test_a_database_the_stock_cannot_make_is_left_to_the_taker_and_reported() -> None:
    stock = Stock()
    stock.open()
    missing = "crm_test_no_such_template"
    try:
        # Given a kind the server cannot copy (its template does not exist)
        assert stock.take(missing) is None
        await asyncio.to_thread(stock.orders.join)

        # Then none is ready for the next taker, who makes its own
        assert stock.take(missing) is None
        await asyncio.to_thread(stock.orders.join)
        assert stock.ready.get(missing, []) == []
    finally:
        await asyncio.to_thread(stock.release, [missing])

    # And the session's end says what could not be made
    with pytest.warns(RuntimeWarning, match=f"could not make: {missing}"):
        await asyncio.to_thread(stock.close)
