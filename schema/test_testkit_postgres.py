"""The kit's stock of PostgreSQL databases made ahead: ready databases are the kind asked for
and nobody else's, each one taken orders the next, a migrated template's copies come from it
when they can and are made then when they cannot, and nothing is left on the server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from core.db import Database
from core.host import CRMPluginManager
from schema import testkit_postgres as kit
from schema.modules import build_plugin_manager
from schema.testkit_postgres import STOCK, STOCK_DEPTH, BackgroundJobs, Stock
from schema.testkit_templates import Templates, session_templates

needs_postgres = pytest.mark.skipif(not kit.POSTGRES_URL, reason="CRM_TEST_POSTGRES_URL not set")


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


async def oid_of(name: str) -> int | None:
    """The server's id of the database ``name`` (kept when it is renamed), if it exists."""
    admin = await asyncpg.connect(kit.dsn_for())
    try:
        oid: int | None = await admin.fetchval(
            "SELECT oid FROM pg_database WHERE datname = $1", name
        )
    finally:
        await admin.close()
    return oid


def database_name(url: str) -> str:
    """The name of the database ``url`` points at."""
    name = make_url(url).database
    assert name
    return name


async def stock_a_copy(templates: Templates, db: Database, pm: CRMPluginManager) -> tuple[str, str]:
    """Copy into ``db`` (which makes the template, and orders a copy of it from the stock)
    and wait for the stock: the template's name and the copy's, ready in stock."""
    assert await templates.copy_into(db, pm)
    [template] = templates.made_postgres
    await asyncio.to_thread(STOCK.orders.join)
    [stocked] = STOCK.ready[template]
    return template, stocked


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


def test_a_failing_job_is_reported_and_the_jobs_after_it_still_run() -> None:
    jobs = BackgroundJobs("crm-test-jobs")
    loops: list[asyncio.AbstractEventLoop] = []

    async def failing() -> None:
        loops.append(asyncio.get_running_loop())
        raise ValueError("cannot")

    async def next_one() -> None:
        loops.append(asyncio.get_running_loop())

    jobs.put("the failing one", failing)
    jobs.put("the next one", next_one)
    jobs.join()

    assert [(what, repr(exc)) for what, exc in jobs.take_failures()] == [
        ("the failing one", repr(ValueError("cannot")))
    ]
    assert jobs.take_failures() == []
    assert len(loops) == 2
    assert loops[0] is loops[1]  # one event loop for every job
    assert jobs.thread is not None
    assert jobs.thread.is_alive()


@needs_postgres
async def test_outside_a_session_the_stock_makes_nothing() -> None:
    stock = Stock()
    assert stock.take(None) is None
    assert stock.ordered == {}
    assert stock.orders.thread is None


@needs_postgres
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
        assert stock.orders.failures == []
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


@needs_postgres
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


@dataclass
class StockedCopy:
    """A session's templates, a template's copy made ahead in stock, and an empty database
    to copy the template into (:func:`a_stocked_copy`)."""

    templates: Templates
    pm: CRMPluginManager
    second: Database
    target: str
    """The empty database's name."""
    template: str
    stocked: str
    stocked_oid: int


@asynccontextmanager
async def a_stocked_copy(tmp_path: Path) -> AsyncIterator[StockedCopy]:
    """Given a first database copied into (which makes the template, after which the stock
    makes a copy of it ahead) and a second, empty one; once the session ends, nothing of
    them is left on the server."""
    core = build_plugin_manager(())
    with session_templates(tmp_path) as templates:
        async with kit.postgres_database() as first_url, kit.postgres_database() as second_url:
            first, second = Database(first_url), Database(second_url)
            target = database_name(second_url)
            try:
                template, stocked = await stock_a_copy(templates, first, core)
                stocked_oid = await oid_of(stocked)
                assert stocked_oid is not None
                yield StockedCopy(templates, core, second, target, template, stocked, stocked_oid)
            finally:
                await first.dispose()
                await second.dispose()

    names = [template, stocked, database_name(first_url), target, f"{target}_x"]
    assert await existing(names) == set()


@needs_postgres
async def test_a_second_copy_of_a_template_is_the_one_the_stock_made_ahead(tmp_path: Path) -> None:
    async with a_stocked_copy(tmp_path) as given:
        # When a second database is copied into
        assert await given.templates.copy_into(given.second, given.pm)

        # Then it is the copy made ahead, renamed in, and the stock orders the next
        assert await oid_of(given.target) == given.stocked_oid
        assert await existing([given.stocked]) == set()
        assert await tables_of(given.target) == await tables_of(given.template) != set()
        await asyncio.to_thread(STOCK.orders.join)
        assert len(STOCK.ready[given.template]) == STOCK_DEPTH
        assert given.stocked not in STOCK.ready[given.template]
    # And nothing is left on the server once the session ends (a_stocked_copy checks)


@needs_postgres
async def test_a_stocked_copy_that_cannot_be_renamed_in_is_replaced_and_dropped(
    tmp_path: Path,
) -> None:
    async with a_stocked_copy(tmp_path) as given:
        # Given someone connected to the copy in stock: the server refuses to rename it
        # (after waiting a few seconds for the session to go)
        holder = await asyncpg.connect(kit.dsn_for(given.stocked))
        try:
            # When a second database is copied into
            assert await given.templates.copy_into(given.second, given.pm)
        finally:
            holder.terminate()

        # Then it is a copy made then from the template, not the one in stock
        target_oid = await oid_of(given.target)
        assert target_oid is not None
        assert target_oid != given.stocked_oid
        assert await tables_of(given.target) == await tables_of(given.template) != set()
        assert given.stocked not in STOCK.ready[given.template]
    # And the copy taken from the stock but not used is dropped, as is everything else
    # (a_stocked_copy checks)
