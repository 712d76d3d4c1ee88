"""The database layer: engines that clean up after themselves."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from core import db as db_module
from core.db import Database, DatabaseBusyError


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
