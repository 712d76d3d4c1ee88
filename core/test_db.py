"""The database layer: engines that clean up after themselves."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, event, insert, select, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import OperationalError

from core import db as db_module
from core.db import Database, DatabaseBusyError, NoFreeConnectionError, UTCDateTime
from core.errors import ApiErrorCode
from schema.testkit import POSTGRES_URL, postgres_database


def _sqlite_workers() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if "_connection_worker_thread" in t.name}


async def test_a_failed_sqlite_connect_leaves_no_worker_behind(tmp_path: Path) -> None:
    # Given a database "file" that is a directory, which SQLite cannot open
    directory = tmp_path / "not-a-database"
    directory.mkdir()
    database = Database(f"sqlite+aiosqlite:///{directory}")
    before = _sqlite_workers()

    # When a session tries to connect
    with pytest.raises(OperationalError):
        async with database.read() as session:
            await session.execute(text("SELECT 1"))
    await database.engine.dispose()

    # Then the driver's worker thread has ended before the failure reached the caller, so it
    # cannot report to an event loop that is closed by the time it gets there
    assert _sqlite_workers() - before == set()


async def test_sqlite_writers_take_turns_in_arrival_order(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'turns.sqlite3'}")
    order: list[int] = []
    holding, release = asyncio.Event(), asyncio.Event()

    async def write(n: int) -> None:
        async with db.transaction() as session:
            await session.execute(text("SELECT 1"))
            order.append(n)
            if n == 0:
                holding.set()
                await release.wait()

    try:
        first = asyncio.create_task(write(0))
        await holding.wait()
        waiting = []
        for n in (1, 2, 3):
            waiting.append(asyncio.create_task(write(n)))
            await asyncio.sleep(0)  # it runs up to its wait for the turn: arrivals in order
        assert order == [0]  # the others wait for their turn
        release.set()
        await asyncio.gather(first, *waiting)
        assert order == [0, 1, 2, 3]
    finally:
        await db.dispose()


async def test_a_writer_that_waits_too_long_for_its_turn_is_told_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db_module, "WRITER_TURN_SECONDS", 0.05)
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'busy.sqlite3'}")
    try:
        async with db.transaction():
            with pytest.raises(DatabaseBusyError, match=r"no turn to write within 0\.05 s"):
                async with db.transaction():
                    pass
        async with db.transaction() as session:  # the turn came back once released
            assert await session.scalar(text("SELECT 1")) == 1
    finally:
        await db.dispose()


async def test_times_read_back_aware_in_utc_on_both_databases(database_url: str) -> None:
    # Given a table with a UTC time column, on a fresh database of each backend
    table = Table(
        "times", MetaData(), Column("id", Integer, primary_key=True), Column("at", UTCDateTime())
    )
    db = Database(database_url)
    shanghai = dt.timezone(dt.timedelta(hours=8))
    try:
        async with db.engine.begin() as connection:
            await connection.run_sync(table.metadata.create_all)
            # When times in another zone, in UTC, and none are written
            await connection.execute(
                insert(table),
                [
                    {"id": 1, "at": dt.datetime(2026, 3, 1, 9, 30, tzinfo=shanghai)},
                    {"id": 2, "at": dt.datetime(2026, 3, 1, 1, 30, tzinfo=dt.UTC)},
                    {"id": 3, "at": None},
                ],
            )
        async with db.read() as session:
            found = (await session.execute(select(table.c.at).order_by(table.c.id))).scalars()
            times = list(found)
    finally:
        await db.dispose()

    # Then each comes back as the same instant, aware, in UTC; a missing one as None
    assert times == [
        dt.datetime(2026, 3, 1, 1, 30, tzinfo=dt.UTC),
        dt.datetime(2026, 3, 1, 1, 30, tzinfo=dt.UTC),
        None,
    ]
    assert [t.tzinfo for t in times if t is not None] == [dt.UTC, dt.UTC]


async def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="naive datetime"):
        UTCDateTime().process_bind_param(dt.datetime(2026, 3, 1), sqlite.dialect())


async def test_a_lookup_sees_what_was_committed_between_its_statements(database_url: str) -> None:
    # Given a table with one row, and a lookup session that has read it
    table = Table("notes", MetaData(), Column("id", Integer, primary_key=True))
    db = Database(database_url)
    try:
        async with db.engine.begin() as connection:
            await connection.run_sync(table.metadata.create_all)
            await connection.execute(insert(table), [{"id": 1}])
        async with db.lookup() as lookup:
            first = (await lookup.execute(select(table.c.id))).scalars().all()
            # When another session commits a second row before the lookup's next statement
            async with db.transaction() as write:
                await write.execute(insert(table), [{"id": 2}])
            second = (await lookup.execute(select(table.c.id).order_by(table.c.id))).scalars()
            seen = list(second)
    finally:
        await db.dispose()

    # Then the lookup's next statement sees it: no transaction held a snapshot open
    assert first == [1]
    assert seen == [1, 2]


async def test_a_burst_beyond_the_pool_waits_for_its_connections_and_opens_no_more(
    database_url: str,
) -> None:
    # Given a pool of three connections, counting each one opened
    db = Database(database_url, pool_size=3)
    opened: list[object] = []
    event.listen(db.engine.sync_engine, "connect", lambda connection, _record: opened.append(1))
    finished = 0

    async def lookup() -> None:
        nonlocal finished
        async with db.lookup() as session:
            assert await session.scalar(text("SELECT 1")) == 1
            for _ in range(3):  # holds its connection while others ask for theirs
                await asyncio.sleep(0)
        finished += 1

    try:
        # When ten lookups run at once, twice
        await asyncio.gather(*(lookup() for _ in range(10)))
        after_first = len(opened)
        await asyncio.gather(*(lookup() for _ in range(10)))
    finally:
        await db.dispose()

    # Then every one was answered, on the three connections the pool opened and kept: none
    # was opened for a moment beyond them and closed again
    assert finished == 20
    assert after_first == 3
    assert len(opened) == 3


async def test_no_connection_free_in_time_is_service_busy(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a pool of one connection, which waits a moment for it, and that connection in use
    monkeypatch.setattr(db_module, "POOL_TIMEOUT_SECONDS", 0.05)
    db = Database(database_url, pool_size=1)
    try:
        async with db.engine.connect() as held:
            await held.execute(text("SELECT 1"))
            # When a lookup asks for a connection
            with pytest.raises(NoFreeConnectionError) as raised:
                async with db.lookup() as session:
                    await session.execute(text("SELECT 1"))
        # Then it is told the service is busy; once the connection is back, it is served
        async with db.lookup() as session:
            assert await session.scalar(text("SELECT 1")) == 1
    finally:
        await db.dispose()
    assert raised.value.code is ApiErrorCode.SERVICE_BUSY
    assert str(raised.value.message) == (
        "the service is busy (no database connection was free within 0.05 s); try again in a moment"
    )


async def test_sqlite_lookups_send_no_begin_and_reads_keep_theirs(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'begin.sqlite3'}")
    sent: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(statement.split()[0].upper())

    event.listen(db.engine.sync_engine, "before_cursor_execute", record)
    try:
        async with db.lookup() as lookup:
            await lookup.execute(text("SELECT 1"))
        looked_up = list(sent)
        sent.clear()
        async with db.read() as read:
            await read.execute(text("SELECT 1"))
    finally:
        await db.dispose()

    assert looked_up == ["SELECT"]
    assert sent == ["BEGIN", "SELECT"]  # a read runs in a transaction (one snapshot on SQLite)


# ------------------------------------------------- pooled PostgreSQL connections, pinged when idle

needs_postgres = pytest.mark.skipif(not POSTGRES_URL, reason="CRM_TEST_POSTGRES_URL not set")


async def _backend_pid(db: Database) -> int:
    async with db.lookup() as session:
        pid = await session.scalar(text("SELECT pg_backend_pid()"))
    assert isinstance(pid, int)
    return pid


async def _two_backend_pids(db: Database) -> list[int]:
    """The server processes of two pooled connections, taken at once."""
    async with db.lookup() as one, db.lookup() as two:
        return [
            await one.scalar(text("SELECT pg_backend_pid()")),
            await two.scalar(text("SELECT pg_backend_pid()")),
        ]


async def _terminate(url: str, pid: int) -> None:
    """The server ends the connection of process ``pid``."""
    admin = Database(url)
    try:
        async with admin.engine.connect() as connection:
            await connection.execute(text(f"SELECT pg_terminate_backend({pid})"))
            await connection.commit()
    finally:
        await admin.dispose()


def _counting_pings(db: Database, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    dialect = db.engine.sync_engine.dialect
    pinged: list[Any] = []
    ping = dialect.do_ping

    def counted(dbapi_connection: Any) -> bool:
        pinged.append(dbapi_connection)
        return ping(dbapi_connection)

    monkeypatch.setattr(dialect, "do_ping", counted)
    return pinged


@needs_postgres
async def test_a_connection_back_in_the_pool_a_moment_ago_is_not_pinged(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with postgres_database() as url:
        db = Database(url)
        try:
            pinged = _counting_pings(db, monkeypatch)
            # Given a pooled connection used a moment ago
            first = await _backend_pid(db)
            # When it is taken again at once, and again after sitting idle long enough
            monkeypatch.setattr(db_module, "PING_AFTER_IDLE_SECONDS", 3600.0)
            again = await _backend_pid(db)
            at_once = len(pinged)
            monkeypatch.setattr(db_module, "PING_AFTER_IDLE_SECONDS", 0.0)
            later = await _backend_pid(db)
        finally:
            await db.dispose()

    # Then it is the same connection each time, pinged only when it had sat idle
    assert first == again == later
    assert at_once == 0
    assert len(pinged) == 1


@needs_postgres
async def test_a_connection_dropped_while_idle_is_replaced_before_use(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(db_module, "PING_AFTER_IDLE_SECONDS", 0.0)
    async with postgres_database() as url:
        db = Database(url)
        try:
            # Given a pooled connection the server ended while it sat idle
            dropped = await _backend_pid(db)
            await _terminate(url, dropped)
            # When a session takes a connection from the pool
            replaced = await _backend_pid(db)
        finally:
            await db.dispose()

    # Then the ping found the dropped one and a fresh connection served the session
    assert replaced != dropped


@needs_postgres
async def test_a_connection_failing_its_ping_otherwise_is_replaced_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(db_module, "PING_AFTER_IDLE_SECONDS", 0.0)
    async with postgres_database() as url:
        db = Database(url)
        try:
            # Given two pooled connections, the first to be handed out next failing its ping
            # for a reason other than a lost server
            first, second = await _two_backend_pids(db)
            dialect = db.engine.sync_engine.dialect
            ping = dialect.do_ping
            failed: list[Any] = []

            def odd_once(dbapi_connection: Any) -> bool:
                if not failed:
                    failed.append(dbapi_connection)
                    raise RuntimeError("an odd answer to the ping")
                return ping(dbapi_connection)

            monkeypatch.setattr(dialect, "do_ping", odd_once)
            # When two sessions take connections
            taken = set(await _two_backend_pids(db))
        finally:
            await db.dispose()

    # Then the one that failed was replaced and the other kept
    assert len(failed) == 1
    assert len(taken & {first, second}) == 1


@needs_postgres
async def test_a_lost_server_drops_every_pooled_connection(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(db_module, "PING_AFTER_IDLE_SECONDS", 0.0)
    async with postgres_database() as url:
        db = Database(url)
        try:
            # Given two pooled connections, the server ending the first
            pids = await _two_backend_pids(db)
            await _terminate(url, pids[0])
            pinged = _counting_pings(db, monkeypatch)
            # When sessions take connections, the pool's two among them, and then again
            taken = [set(await _two_backend_pids(db)) for _ in range(2)]
        finally:
            await db.dispose()

    # Then the ping that found the server gone dropped the still-working one as well: it
    # served at most the session that took it before that ping, and none after
    assert pinged
    assert pids[0] not in taken[0] | taken[1]
    assert not taken[1] & set(pids)


# --------------------------------------------- SQLite connections rolled back only when needed


def _counting_rollbacks(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    from sqlalchemy.dialects.sqlite.aiosqlite import AsyncAdapt_aiosqlite_connection

    rolled_back: list[Any] = []
    rollback = AsyncAdapt_aiosqlite_connection.rollback

    def counted(self: Any) -> None:
        rolled_back.append(self)
        rollback(self)

    monkeypatch.setattr(AsyncAdapt_aiosqlite_connection, "rollback", counted)
    return rolled_back


async def test_sqlite_lookups_go_back_to_the_pool_without_a_rollback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rolled_back = _counting_rollbacks(monkeypatch)
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'pool.sqlite3'}")
    try:
        # Given lookups, which never begin a transaction
        for _ in range(3):
            async with db.lookup() as session:
                assert await session.scalar(text("SELECT 1")) == 1
        after_lookups = len(rolled_back)
        # When a write transaction fails, and a connection comes back inside a transaction
        async with db.transaction() as session:
            await session.execute(text("CREATE TABLE t (id INTEGER)"))
            await session.rollback()  # changed my mind
        after_transaction = len(rolled_back)
        async with db.engine.connect() as connection:
            raw = (await connection.get_raw_connection()).driver_connection
            assert raw is not None
            await raw.execute("BEGIN")  # behind SQLAlchemy's back
            assert raw.in_transaction
        async with db.engine.connect() as connection:
            again = await connection.get_raw_connection()
            assert again.driver_connection is not None
            left_open = again.driver_connection.in_transaction
            tables = await connection.scalar(
                text("SELECT count(*) FROM sqlite_master WHERE name = 't'")
            )
    finally:
        await db.dispose()

    # Then only those were rolled back, and nothing of them is left
    assert after_lookups == 0
    assert after_transaction > after_lookups
    assert len(rolled_back) > after_transaction
    assert not left_open
    assert tables == 0


async def test_a_closed_sqlite_connection_is_left_to_the_driver_to_roll_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rolled_back = _counting_rollbacks(monkeypatch)
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'closed.sqlite3'}")
    dialect = db.engine.sync_engine.dialect
    failed: list[BaseException] = []
    try:
        async with db.engine.connect() as connection:
            raw = await connection.get_raw_connection()
            adapted: Any = raw.dbapi_connection
            assert raw.driver_connection is not None
            await raw.driver_connection.close()  # whether it is in a transaction is unknown

            def roll_back(_sync: Any) -> None:
                try:
                    dialect.do_rollback(adapted)
                except Exception as error:  # the driver's own answer
                    failed.append(error)

            await connection.run_sync(roll_back)
            await connection.invalidate()
    finally:
        await db.dispose()

    assert rolled_back == [adapted]


async def test_a_sqlite_connection_stopped_and_then_closed_ends(tmp_path: Path) -> None:
    # Given a pooled SQLite connection
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'stop.sqlite3'}")
    async with db.engine.connect() as connection:
        raw = await connection.get_raw_connection()
        adapter: Any = raw.dbapi_connection
        worker = raw.driver_connection._thread  # type: ignore[union-attr]

        # When SQLAlchemy ends it as it ends one whose statement was cancelled: a graceful
        # close in a task of its own, then, the wait for it cancelled, the driver's thread
        # told to stop at once
        closing = asyncio.ensure_future(adapter._terminate_graceful_close())
        await asyncio.sleep(0)  # the close is under way
        adapter._terminate_force_close()
        done, _ = await asyncio.wait([closing], timeout=10)

        # Then the close ends (before, it waited forever for an answer from a thread that had
        # already ended, and the event loop waited for it at shutdown) and so does the thread
        assert done == {closing}
        assert closing.exception() is None
        await connection.invalidate()
    await db.engine.dispose()
    worker.join(10)
    assert not worker.is_alive()
