"""A column among many keys: the right rows on both databases, whatever the number of keys,
one bound array on PostgreSQL, and a statement reused with other keys answers for those."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, or_, select
from sqlalchemy.dialects import postgresql, sqlite

from core.db import Database
from core.key_lists import among, among_named, among_values

TABLE = Table(
    "keyed",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("code", String(20)),
)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    async with database.engine.begin() as connection:
        await connection.run_sync(TABLE.metadata.create_all)
        await connection.execute(
            insert(TABLE), [{"id": i, "code": f"c{i:02d}"} for i in range(1, 31)]
        )
    try:
        yield database
    finally:
        await database.dispose()


async def _ids(db: Database, condition: Any) -> list[int]:
    async with db.lookup() as session:
        found = await session.scalars(select(TABLE.c.id).where(condition).order_by(TABLE.c.id))
        return list(found)


async def test_the_rows_of_the_keys_and_no_other(db: Database) -> None:
    assert await _ids(db, among(TABLE.c.id, [3, 1, 3, 99])) == [1, 3]
    assert await _ids(db, among(TABLE.c.code, ["c07", "c08", "x"])) == [7, 8]
    assert await _ids(db, among(TABLE.c.id, [])) == []
    assert await _ids(db, among(TABLE.c.id, range(1, 2001))) == list(range(1, 31))


async def test_a_statement_reused_with_other_keys_answers_for_those(db: Database) -> None:
    # The same statement shape, compiled once and cached: each execution binds its own keys.
    answers = [await _ids(db, among(TABLE.c.id, keys)) for keys in ([1, 2], [5], [2, 9, 30])]
    assert answers == [[1, 2], [5], [2, 9, 30]]


async def test_it_combines_with_other_conditions(db: Database) -> None:
    either = or_(among(TABLE.c.id, [1, 2]), among(TABLE.c.code, ["c10"]))
    assert await _ids(db, either) == [1, 2, 10]
    assert await _ids(db, ~among(TABLE.c.id, range(2, 31))) == [1]
    assert await _ids(db, among(TABLE.c.id, [4, 5]) & (TABLE.c.code != "c04")) == [5]


def test_postgresql_binds_the_keys_as_one_array_whatever_their_number() -> None:
    texts = set()
    for keys in ([1], list(range(100))):
        dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
        compiled = select(TABLE.c.id).where(among(TABLE.c.id, keys)).compile(dialect=dialect)
        texts.add(str(compiled))
        assert [value for value in compiled.params.values() if value == keys] == [keys]
    (text,) = texts
    assert "= ANY(" in text
    # SQLite takes the list as it is: a parameter per key
    lite = select(TABLE.c.id).where(among(TABLE.c.id, [1, 2])).compile(dialect=sqlite.dialect())
    assert " IN (" in str(lite)


async def test_keys_named_in_a_statement_are_given_when_it_runs(db: Database) -> None:
    # One statement object, run with other keys each time (core.shapes keeps such statements).
    statement = select(TABLE.c.id).where(among_named(TABLE.c.id, "wanted")).order_by(TABLE.c.id)
    answers = []
    for keys in ([1, 2], [5], [2, 9, 30], range(1, 2001)):
        async with db.lookup() as session:
            connection = await session.connection()
            found = await connection.execute(statement, among_values("wanted", keys))
            answers.append(list(found.scalars()))
    assert answers == [[1, 2], [5], [2, 9, 30], list(range(1, 31))]
