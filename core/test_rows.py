"""Rows read with Core: they see what their session has pending, a page's columns keep
their names, and only a type that says so beside its own ``from_model`` is read as
records."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import literal, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from core.db import Database
from core.rows import Record, column_rows, core_result, reads_plain_rows, records


class _Base(DeclarativeBase):
    pass


class _Note(_Base):
    __tablename__ = "notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str]


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'rows.sqlite3'}")
    async with database.engine.begin() as connection:
        await connection.run_sync(_Base.metadata.create_all)
    try:
        yield database
    finally:
        await database.dispose()


async def test_column_rows_see_the_changes_pending_in_their_session(db: Database) -> None:
    async with db.transaction() as session:
        session.add(_Note(id=1, text="pending"))  # not flushed yet
        rows = await column_rows(session, select(_Note.id, _Note.text))
    assert [tuple(row) for row in rows] == [(1, "pending")]


async def test_records_hold_their_columns_and_the_trailing_values_beside(db: Database) -> None:
    async with db.transaction() as session:
        session.add_all([_Note(id=1, text="a"), _Note(id=2, text="b")])
        statement = select(_Note.id, _Note.text, literal(7).label("sort_0")).order_by(_Note.id)
        found = records(await core_result(session, statement), 1)
    assert [(type(record), record.__dict__, values) for record, values in found] == [
        (Record, {"id": 1, "text": "a"}, (7,)),
        (Record, {"id": 2, "text": "b"}, (7,)),
    ]


async def test_records_refuse_columns_of_the_same_name(db: Database) -> None:
    async with db.transaction() as session:
        session.add(_Note(id=1, text="a"))
        statement = select(_Note.id, _Note.text.label("id"), literal(0).label("sort_0"))
        result = await core_result(session, statement)
        with pytest.raises(ValueError, match="distinct names"):
            records(result, 1)


class _Plain:
    plain_rows = True

    @classmethod
    def from_model(cls, row: Any) -> Any:
        return row


class _Inherits(_Plain):
    """Keeps the flag and the parent's from_model: says nothing itself."""


class _Overrides(_Plain):
    """A from_model of its own that may read more than columns, under an inherited flag."""

    @classmethod
    def from_model(cls, row: Any) -> Any:
        return row.owner


class _SaysSo(_Plain):
    plain_rows = True

    @classmethod
    def from_model(cls, row: Any) -> Any:
        return row


def test_only_a_type_that_says_so_beside_its_own_from_model_reads_records() -> None:
    assert reads_plain_rows(_Plain.from_model)
    assert reads_plain_rows(_SaysSo.from_model)
    assert not reads_plain_rows(_Inherits.from_model)
    assert not reads_plain_rows(_Overrides.from_model)
    assert not reads_plain_rows(lambda row: _Plain.from_model(row))
    assert not reads_plain_rows(print)
