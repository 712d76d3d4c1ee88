"""The SQLite driver: a statement in one trip to the connection's thread, and everything a
statement reports (rows, row count, last row id, errors) as the driver reports it."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select, text, update
from sqlalchemy.exc import IntegrityError, OperationalError

from core.db import Database
from core.sqlite_driver import FIRST_ROWS, INLINE_BUSY_MS, SQLiteConnection

METADATA = MetaData()
NOTES = Table(
    "notes",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("body", String, unique=True),
)
MANY = FIRST_ROWS * 2 + 7
NUMBERS = text(
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :last) "
    "SELECT i FROM n ORDER BY i"
)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'driver.sqlite3'}")
    async with database.engine.begin() as connection:
        await connection.run_sync(METADATA.create_all)
    try:
        yield database
    finally:
        await database.dispose()


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The trips to a connection's thread, by what each ran."""
    made: list[str] = []
    original = SQLiteConnection._execute

    async def counted(self: SQLiteConnection, function: Any, *args: Any, **kwargs: Any) -> Any:
        made.append(getattr(function, "__name__", repr(function)))
        return await original(self, function, *args, **kwargs)  # type: ignore[no-untyped-call]

    monkeypatch.setattr(SQLiteConnection, "_execute", counted)
    return made


async def test_a_statement_is_run_in_one_trip(db: Database, trips: list[str]) -> None:
    async with db.engine.connect() as connection:
        await connection.execute(text("SELECT 1"))  # its BEGIN, before counting
        trips.clear()

        rows = (await connection.execute(select(NOTES.c.id))).all()
        assert rows == []
        found = (await connection.execute(text("SELECT 40 + 2 AS answer"))).one()
        # Each: a cursor made, the statement run, its rows fetched, the cursor closed.
        assert trips == ["_run", "_run"]

    assert found.answer == 42


async def test_more_rows_than_one_trip_brings_all_come_back_in_order(
    db: Database, trips: list[str]
) -> None:
    async with db.engine.connect() as connection:
        await connection.execute(text("SELECT 1"))  # its BEGIN, before counting
        trips.clear()
        rows = (await connection.execute(NUMBERS, {"last": MANY})).scalars().all()
        assert trips == ["_run", "_more"]  # the first rows, then the rest

        streamed: list[int] = []
        result = await connection.stream(NUMBERS, {"last": MANY})
        async for partition in result.scalars().partitions(300):
            streamed.extend(partition)
        # The connection is free for the next statement once the stream is read.
        after = (await connection.execute(text("SELECT 7"))).scalar()

    assert rows == list(range(1, MANY + 1))
    assert streamed == rows
    assert after == 7


async def test_the_drivers_cursor_is_read_as_aiosqlites_is(db: Database) -> None:
    async with db.engine.connect() as connection:
        driver = (await connection.get_raw_connection()).driver_connection
        assert isinstance(driver, SQLiteConnection)
        async with driver.cursor() as cursor:
            await cursor.execute(NUMBERS.text.replace(":last", "?"), [MANY])
            assert await cursor.fetchone() == (1,)
            assert [row[0] async for row in cursor] == list(range(2, MANY + 1))
        async with driver.cursor() as cursor:
            with pytest.raises(sqlite3.OperationalError):
                await cursor.execute("SELECT * FROM missing")
            assert cursor.description is None
            assert cursor.rowcount == -1
            await cursor.execute("SELECT 5")
            assert await cursor.fetchall() == [(5,)]


async def test_a_stream_left_unread_is_closed_with_its_cursor(db: Database) -> None:
    async with db.engine.connect() as connection:
        result = await connection.stream(NUMBERS, {"last": MANY})
        first = await result.fetchmany(5)
        await result.close()
        after = (await connection.execute(text("SELECT 8"))).scalar()

    assert [row[0] for row in first] == [1, 2, 3, 4, 5]
    assert after == 8


async def test_writes_report_their_row_counts_and_last_row_id(db: Database) -> None:
    async with db.engine.begin() as connection:
        first = await connection.execute(insert(NOTES).values(body="a"))
        assert first.inserted_primary_key == (1,)
        many = await connection.execute(insert(NOTES), [{"body": "b"}, {"body": "c"}])
        assert many.rowcount == 2
        changed = await connection.execute(
            update(NOTES).where(NOTES.c.body.in_(["a", "b"])).values(body=NOTES.c.body + "!")
        )
        assert changed.rowcount == 2
        returned = (
            await connection.execute(insert(NOTES).values(body="d").returning(NOTES.c.id))
        ).scalar_one()
        assert returned == 4
        # A statement's rows are counted as they are read: after them, as SQLAlchemy asks.
        marked = await connection.execute(
            update(NOTES)
            .where(NOTES.c.id > 2)
            .values(body=NOTES.c.body + "?")
            .returning(NOTES.c.id)
        )
        assert sorted(marked.scalars()) == [3, 4]
        assert marked.rowcount == 2

    async with db.engine.connect() as connection:
        bodies = (await connection.execute(select(NOTES.c.body).order_by(NOTES.c.id))).scalars()
        assert list(bodies) == ["a!", "b!", "c?", "d?"]


async def test_a_failing_statement_raises_and_leaves_the_connection_usable(db: Database) -> None:
    async with db.engine.connect() as connection:
        await connection.execute(insert(NOTES).values(body="same"))
        with pytest.raises(IntegrityError):
            await connection.execute(insert(NOTES).values(body="same"))
        with pytest.raises(OperationalError, match="no such table"):
            await connection.execute(text("SELECT * FROM missing"))
        assert (await connection.execute(text("SELECT count(*) FROM notes"))).scalar() == 1


async def test_a_read_on_the_driver_makes_no_trip_and_reads_every_row(
    db: Database, trips: list[str]
) -> None:
    async with db.engine.connect() as connection:
        await connection.execute(insert(NOTES), [{"body": f"note {n}"} for n in range(MANY)])
        await connection.commit()
        raw = await connection.get_raw_connection()
        driver = raw.driver_connection
        assert isinstance(driver, SQLiteConnection)
        trips.clear()

        # When a read runs on the driver's connection (more rows than one trip brings)
        rows = await driver.fetch("SELECT id, body FROM notes WHERE id > ? ORDER BY id", [1])

    # Then every row came back, read in the event loop's thread without a trip
    assert len(rows) == MANY - 1
    assert rows[0] == (2, "note 1")
    assert trips == []


async def test_a_read_on_the_driver_waits_briefly_for_a_lock_and_restores_the_wait(
    db: Database,
) -> None:
    async with db.engine.connect() as connection:
        raw = await connection.get_raw_connection()
        driver = raw.driver_connection
        assert isinstance(driver, SQLiteConnection)
        before = await driver.fetch("PRAGMA busy_timeout", [])
        # The read itself runs with the short wait, which the connection's own follows
        during = await driver.fetch("PRAGMA busy_timeout", [])
        cursor = await driver.execute("PRAGMA busy_timeout")
        after = list(await cursor.fetchall())
    assert during == [(INLINE_BUSY_MS,)] == before
    assert after == [(10_000,)]
