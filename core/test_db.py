"""The database layer: engines that clean up after themselves."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from core.db import Database


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
