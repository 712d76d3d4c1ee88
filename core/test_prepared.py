"""Prepared reads: run straight on the driver, they read what SQLAlchemy reads."""

from __future__ import annotations

import datetime as dt
import enum
import logging
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Enum,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    event,
    insert,
    literal,
    select,
    text,
)
from sqlalchemy.exc import DBAPIError

from core import prepared as prepared_module
from core.db import Database, UTCDateTime
from core.key_lists import among_named, among_values
from core.prepared import (
    PLANS_KEPT,
    LeanRows,
    Prepared,
    prepared_column_rows,
    prepared_rows,
)
from core.rows import records
from schema.testkit import BACKENDS, postgres_database


class Mood(enum.Enum):
    CALM = "calm"
    BUSY = "busy"


_META = MetaData()
_ITEMS = Table(
    "prepared_items",
    _META,
    Column("id", Integer, primary_key=True),
    Column("owner", Integer, nullable=False),
    Column("name", String(40)),
    Column("price", Numeric(12, 2)),
    Column("mood", Enum(Mood)),
    Column("active", Boolean, nullable=False),
    Column("extra", JSON),
    Column("at", UTCDateTime()),
)
_AT = dt.datetime(2026, 3, 1, 8, 30, tzinfo=dt.UTC)


def _item(n: int) -> dict[str, Any]:
    return {
        "id": n,
        "owner": n % 7,
        "name": None if n % 5 == 0 else f"item {n}",
        "price": Decimal(n) / 4,
        "mood": Mood.CALM if n % 2 else Mood.BUSY,
        "active": n % 3 == 0,
        "extra": {"n": n, "tags": ["a", "b"]} if n % 4 else None,
        "at": _AT + dt.timedelta(hours=n),
    }


@pytest.fixture(params=BACKENDS)
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    async def made(url: str) -> Database:
        database = Database(url)
        async with database.engine.begin() as connection:
            await connection.run_sync(_META.create_all)
            await connection.execute(insert(_ITEMS), [_item(n) for n in range(1, 41)])
        return database

    if request.param == "sqlite":
        database = await made(f"sqlite+aiosqlite:///{tmp_path / 'prepared.sqlite3'}")
        try:
            yield database
        finally:
            await database.dispose()
        return
    async with postgres_database() as url:
        database = await made(url)
        try:
            yield database
        finally:
            await database.dispose()


def _statement() -> Any:
    """Items of the owners given when it runs, among a fixed list of moods and above a
    fixed price (values of the statement itself, as a caller's scope is)."""
    return (
        select(*_ITEMS.c)
        .where(among_named(_ITEMS.c.owner, "owners"))
        .where(_ITEMS.c.mood.in_([Mood.CALM, Mood.BUSY]))
        .where(_ITEMS.c.price > Decimal("0.5"))
        .order_by(_ITEMS.c.id)
    )


def _counting_lean_runs(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    runs: list[int] = []
    run = prepared_module._run

    async def counted(*args: Any) -> LeanRows | None:
        found = await run(*args)
        if found is not None:  # read on the driver (else SQLAlchemy reads it)
            runs.append(len(found.all()))
        return found

    monkeypatch.setattr(prepared_module, "_run", counted)
    return runs


async def _learnt(db: Database, monkeypatch: pytest.MonkeyPatch) -> tuple[Prepared, list[int]]:
    """The items statement, prepared and run once (through SQLAlchemy, which it learns
    from), and the count of its runs on the driver from then on."""
    prepared = Prepared(_statement())
    async with db.lookup() as session:
        await prepared_rows(session, prepared, among_values("owners", [1]))
    return prepared, _counting_lean_runs(monkeypatch)


async def _sqlalchemy_rows(db: Database, owners: list[int]) -> list[list[Any]]:
    async with db.lookup() as session:
        connection = await session.connection()
        result = await connection.execute(_statement(), among_values("owners", owners))
        return [list(row) for row in result.all()]


async def test_a_prepared_read_on_the_driver_reads_what_sqlalchemy_reads(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = _counting_lean_runs(monkeypatch)
    prepared = Prepared(_statement())

    # Given a prepared read whose first run went through SQLAlchemy
    async with db.lookup() as session:
        first = await prepared_rows(session, prepared, among_values("owners", [1, 2]))
    assert runs == []
    assert [list(row) for row in first.all()] == await _sqlalchemy_rows(db, [1, 2])

    # When it runs again, with lists of other lengths (rendered anew on SQLite)
    lengths = []
    for owners in ([3], [0, 1, 2, 3, 4, 5, 6], [2, 4, 6], [99]):
        async with db.lookup() as session:
            found = await prepared_rows(session, prepared, among_values("owners", owners))

        # Then it ran on the driver, and its rows are SQLAlchemy's: the same columns, the same
        # values of the same types (aware datetimes, decimals, enums, booleans, JSON, nulls)
        expected = await _sqlalchemy_rows(db, owners)
        lengths.append(len(expected))
        assert list(found.keys()) == [column.name for column in _ITEMS.c]
        assert [list(row) for row in found.all()] == expected
        for row, wanted in zip(found.all(), expected, strict=True):
            assert [type(value) for value in row] == [type(value) for value in wanted]
    assert runs == lengths
    assert lengths[0] > 0
    assert lengths[1] > lengths[2] > lengths[3] == 0
    some = (await _sqlalchemy_rows(db, [3]))[0]
    assert some[6] == {"n": 3, "tags": ["a", "b"]}
    assert some[7].tzinfo is not None


async def test_a_read_inside_a_transaction_sees_its_own_changes_through_sqlalchemy(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    prepared, runs = await _learnt(db, monkeypatch)

    # Given a transaction that added an item and has not committed
    async with db.transaction() as session:
        await session.execute(insert(_ITEMS), [{**_item(1001), "owner": 1}])

        # When the prepared read runs on it
        found = await prepared_rows(session, prepared, among_values("owners", [1]))

        # Then SQLAlchemy ran it on the transaction's connection, which sees the new item
        assert [row[0] for row in found.all()][-1] == 1001
        await session.rollback()
    assert runs == []


async def test_a_read_runs_through_sqlalchemy_while_statements_are_counted(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    prepared, runs = await _learnt(db, monkeypatch)

    # Given a listener on the engine's statements (as statement counters are)
    seen: list[str] = []
    engine = db.engine.sync_engine
    listener = lambda *args: seen.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        # When the prepared read runs
        async with db.lookup() as session:
            found = await prepared_rows(session, prepared, among_values("owners", [1, 2]))
    finally:
        event.remove(engine, "before_cursor_execute", listener)

    # Then the listener saw it, and the rows are the same
    assert len(seen) == 1
    assert "prepared_items" in seen[0]
    assert runs == []
    assert [list(row) for row in found.all()] == await _sqlalchemy_rows(db, [1, 2])


@pytest.mark.parametrize("db", BACKENDS[1:], indirect=True)
async def test_a_read_whose_connection_was_dropped_runs_again_on_a_new_one(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    prepared, runs = await _learnt(db, monkeypatch)
    async with db.lookup() as session:
        await prepared_rows(session, prepared, among_values("owners", [1]))
    assert len(runs) == 1  # it runs on the driver
    runs.clear()

    # Given the server ended the pooled connection while it sat in the pool
    pid = await _backend_pid(db)
    admin = Database(db.url)
    try:
        async with admin.lookup() as session:
            await session.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        await admin.dispose()

    # When the prepared read takes it
    async with db.lookup() as session:
        found = await prepared_rows(session, prepared, among_values("owners", [1, 2]))

    # Then the driver's failure did not reach the caller: SQLAlchemy read the rows on a new
    # connection, and the dead one left the pool
    assert runs == []
    assert [list(row) for row in found.all()] == await _sqlalchemy_rows(db, [1, 2])
    assert await _backend_pid(db) != pid


async def _backend_pid(db: Database) -> int:
    async with db.lookup() as session:
        return int((await session.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def test_rows_read_by_name_are_the_same_on_the_driver_as_through_sqlalchemy(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = _counting_lean_runs(monkeypatch)
    prepared = Prepared(_statement())
    values = among_values("owners", [2, 3])
    async with db.lookup() as session:
        through_sqlalchemy = await prepared_column_rows(session, prepared, values)

    # When the same rows are read by name on the driver
    async with db.lookup() as session:
        on_the_driver = await prepared_column_rows(session, prepared, values)

    # Then each row has the same values under the same names, as SQLAlchemy's rows do
    assert len(runs) == 1
    assert [row._asdict() for row in on_the_driver] == [row._asdict() for row in through_sqlalchemy]
    assert [row.price for row in on_the_driver] == [row.price for row in through_sqlalchemy]


async def test_rows_whose_names_cannot_be_attributes_are_read_through_sqlalchemy(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = _counting_lean_runs(monkeypatch)
    # Given a statement whose columns' names cannot be a row's attributes
    prepared = Prepared(
        select(_ITEMS.c.id.label("class"), _ITEMS.c.name.label("_name")).where(
            among_named(_ITEMS.c.owner, "owners")
        )
    )
    values = among_values("owners", [1])
    for _ in range(2):
        async with db.lookup() as session:
            found = await prepared_column_rows(session, prepared, values)

    # Then they are read through SQLAlchemy, by name as ever; read as lists, on the driver
    assert runs == []
    assert {row._mapping["class"] for row in found} == {1, 8, 15, 22, 29, 36}
    async with db.lookup() as session:
        listed = await prepared_rows(session, prepared, values)
    assert len(runs) == 1
    assert sorted(row[0] for row in listed.all()) == [1, 8, 15, 22, 29, 36]


async def test_records_made_on_the_driver_are_those_made_of_sqlalchemy_rows(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = _counting_lean_runs(monkeypatch)
    # Given a page's statement: the node's columns, then its sort values (a date-time and
    # a decimal, both converted), then a row number that is not kept
    prepared = Prepared(
        select(
            _ITEMS.c.id,
            _ITEMS.c.name,
            _ITEMS.c.mood,
            _ITEMS.c.at.label("sort_0"),
            _ITEMS.c.price.label("sort_1"),
            literal(7).label("page_row"),
        )
        .where(among_named(_ITEMS.c.owner, "owners"))
        .order_by(_ITEMS.c.id)
    )
    values = among_values("owners", [1, 2])
    async with db.lookup() as session:
        await prepared_rows(session, prepared, values)  # learnt: the driver may read it
    lean_engine = prepared_module._lean_engine
    made: dict[str, list[Any]] = {}
    for way in ("sqlalchemy", "driver"):
        monkeypatch.setattr(
            prepared_module, "_lean_engine", lean_engine if way == "driver" else lambda _s: None
        )
        async with db.lookup() as session:
            as_records = records(await prepared_rows(session, prepared, values), 3, ignored=1)
        async with db.lookup() as session:
            as_dicts = records(await prepared_rows(session, prepared, values), 3, dict)
        made[way] = [[(record.__dict__, sort) for record, sort in as_records], as_dicts]

    # Then the driver's records are the same: the columns by name, converted, and the sort
    # values beside them (without the row number, unless it is asked for)
    assert len(runs) == 2
    assert made["driver"] == made["sqlalchemy"]
    first_record, first_sort = made["driver"][0][0]
    assert set(first_record) == {"id", "name", "mood"}
    assert first_record["mood"] is Mood.CALM
    assert first_sort == (_AT + dt.timedelta(hours=1), Decimal("0.25"))
    assert made["driver"][1][0][1][-1] == 7


async def test_a_database_in_memory_is_read_through_sqlalchemy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    runs = _counting_lean_runs(monkeypatch)
    # Given a database in memory: one connection, which every session shares
    database = Database("sqlite+aiosqlite://")
    try:
        async with database.engine.begin() as connection:
            await connection.run_sync(_META.create_all)
            await connection.execute(insert(_ITEMS), [_item(n) for n in range(1, 8)])
        prepared = Prepared(_statement())

        # When a prepared read runs on it again and again
        for _ in range(3):
            async with database.lookup() as session:
                found = await prepared_rows(session, prepared, among_values("owners", [3, 4]))

        # Then SQLAlchemy ran it each time, on the connection that holds the database
        assert runs == []
        assert sorted(row[0] for row in found.all()) == [3, 4]
    finally:
        await database.dispose()


@pytest.mark.parametrize("db", BACKENDS[1:], indirect=True)
async def test_a_statement_the_driver_refuses_keeps_its_connection_and_fails_in_sqlalchemy(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    prepared, _runs = await _learnt(db, monkeypatch)
    pid = await _backend_pid(db)
    lost: list[bool] = []
    judge = prepared_module._lost

    def judged(*args: Any) -> bool:
        lost.append(judge(*args))
        return lost[-1]

    monkeypatch.setattr(prepared_module, "_lost", judged)

    # When the driver refuses a value (an owner beyond a 32-bit integer)
    with pytest.raises(DBAPIError):
        async with db.lookup() as session:
            await prepared_rows(session, prepared, among_values("owners", [2**40]))

    # Then the driver's failure left the connection sound, the error is SQLAlchemy's, and
    # the connection stayed in the pool
    assert lost == [False]
    assert await _backend_pid(db) == pid


async def test_a_prepared_read_keeps_plans_for_a_few_engines_and_reads_on_each(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = _counting_lean_runs(monkeypatch)
    prepared = Prepared(_statement())
    databases = [Database(f"sqlite+aiosqlite:///{tmp_path / f'{n}.sqlite3'}") for n in range(6)]
    try:
        for number, database in enumerate(databases):
            async with database.engine.begin() as connection:
                await connection.run_sync(_META.create_all)
                await connection.execute(insert(_ITEMS), [_item(n) for n in range(1, 4 + number)])
        # When one prepared read runs twice on each of more engines than it keeps plans for
        found = []
        for database in databases:
            for _ in range(2):
                async with database.lookup() as session:
                    rows = await prepared_rows(session, prepared, among_values("owners", [3, 4]))
            found.append(sorted(row[0] for row in rows.all()))

        # Then each read its own rows, the second time on the driver, and the statement
        # keeps the plans of the most recent engines only
        assert found == [[3], [3, 4], [3, 4], [3, 4], [3, 4], [3, 4]]
        assert len(runs) == len(databases)
        assert len(prepared._plans) == PLANS_KEPT
        assert databases[-1].engine.dialect in prepared._plans
    finally:
        for database in databases:
            await database.dispose()


async def test_a_read_runs_through_sqlalchemy_while_its_statements_are_logged(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    prepared, runs = await _learnt(db, monkeypatch)
    # Given SQLAlchemy's statement log switched on through logging (not the engine's echo)
    engine_log = logging.getLogger("sqlalchemy.engine.Engine")
    level = engine_log.level
    engine_log.setLevel(logging.INFO)
    try:
        async with db.lookup() as session:
            found = await prepared_rows(session, prepared, among_values("owners", [1, 2]))
    finally:
        engine_log.setLevel(level)

    # Then SQLAlchemy ran it, so the log has it, with the same rows
    assert runs == []
    assert [list(row) for row in found.all()] == await _sqlalchemy_rows(db, [1, 2])
