"""The SQLite driver under SQLAlchemy: aiosqlite's connection, with a statement run in one
trip to its thread.

aiosqlite runs each call on a sqlite3 connection in a thread of its own, and each call is a
trip there and back (a future, a queue, a wake-up of the event loop). SQLAlchemy's adapter
makes four for a statement: it opens a cursor, executes, fetches the rows and closes the
cursor. A request of seven statements made 28 trips where 7 do. Here a cursor is made where
the statement runs, and its first rows are fetched, and the cursor closed once they are all,
in the same trip; what SQLAlchemy reads afterwards (the rows, the description, the row count,
the last row id) is answered from what that trip brought back. A cursor streaming a large
result (a server-side cursor) gets the rest in further trips, :data:`FIRST_ROWS` at a time.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable, Generator, Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

T = TypeVar("T")

FIRST_ROWS = 1000
"""Rows fetched in the trip that runs a statement; more come in trips of their own."""

INLINE_BUSY_MS = 50
"""How long a read in the event loop's thread waits for a lock (:meth:`SQLiteConnection.fetch`)."""


class _Cursor:
    """An aiosqlite-like cursor whose ``execute`` makes the sqlite3 cursor, runs the
    statement and fetches its first rows in one trip to the connection's thread (and closes
    the sqlite3 cursor when there are no more)."""

    def __init__(self, connection: SQLiteConnection) -> None:
        self._connection = connection
        self._cursor: sqlite3.Cursor | None = None
        self._rows: list[Any] = []
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self.arraysize = 1

    async def __aenter__(self) -> _Cursor:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    async def __aiter__(self) -> AsyncIterator[Any]:
        while rows := await self.fetchmany(FIRST_ROWS):
            for row in rows:
                yield row

    def _run(self, sql: str, parameters: Any, many: bool = False) -> None:
        """In the connection's thread: the statement (``many``: once per set of parameters),
        its first rows, what it reports."""
        if self._cursor is not None:  # a cursor run again: the previous result is gone
            self._cursor.close()
            self._cursor = None
        self._rows, self.description, self.rowcount, self.lastrowid = [], None, -1, None
        cursor = self._connection._conn.cursor()
        self._cursor = cursor
        if many:
            cursor.executemany(sql, parameters)
        else:
            cursor.execute(sql, parameters)
        self.description = cursor.description
        self.lastrowid = cursor.lastrowid
        self._rows = cursor.fetchmany(FIRST_ROWS) if cursor.description else []
        # Read after the rows: sqlite3 counts a statement's rows (an UPDATE ... RETURNING's)
        # as they are read.
        self.rowcount = cursor.rowcount
        if len(self._rows) < FIRST_ROWS:  # nothing more to come
            cursor.close()
            self._cursor = None

    async def execute(self, sql: str, parameters: Any = None) -> _Cursor:
        await self._connection.trip(self._run, sql, [] if parameters is None else parameters)
        return self

    async def executemany(self, sql: str, parameters: Iterable[Any]) -> _Cursor:
        await self._connection.trip(self._run, sql, parameters, True)
        return self

    def _more(self, size: int | None) -> list[Any]:
        """In the connection's thread: up to ``size`` more rows (all when ``None``)."""
        cursor = self._cursor
        if cursor is None:
            return []
        rows = cursor.fetchall() if size is None else cursor.fetchmany(size)
        self.rowcount = cursor.rowcount
        if size is None or len(rows) < size:
            cursor.close()
            self._cursor = None
        return rows

    async def fetchall(self) -> list[Any]:
        rows, self._rows = self._rows, []
        if self._cursor is not None:
            rows.extend(await self._connection.trip(self._more, None))
        return rows

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        wanted = self.arraysize if size is None else size
        if len(self._rows) < wanted and self._cursor is not None:
            self._rows.extend(
                await self._connection.trip(self._more, max(wanted - len(self._rows), FIRST_ROWS))
            )
        rows, self._rows = self._rows[:wanted], self._rows[wanted:]
        return rows

    async def fetchone(self) -> Any:
        rows = await self.fetchmany(1)
        return rows[0] if rows else None

    async def close(self) -> None:
        self._rows = []
        if self._cursor is not None:
            cursor, self._cursor = self._cursor, None
            await self._connection.trip(cursor.close)


class _Made:
    """A cursor made without a trip, awaited or entered as aiosqlite's ``cursor()`` is."""

    def __init__(self, cursor: _Cursor) -> None:
        self.cursor = cursor

    def __await__(self) -> Generator[Any, None, _Cursor]:
        return self._ready().__await__()

    async def _ready(self) -> _Cursor:
        return self.cursor

    async def __aenter__(self) -> _Cursor:
        return self.cursor

    async def __aexit__(self, *_exc: object) -> None:
        await self.cursor.close()


class SQLiteConnection(aiosqlite.Connection):
    """aiosqlite's connection, with cursors that run a statement in one trip (:class:`_Cursor`)
    and a worker thread asked to stop once.

    SQLAlchemy ends a connection whose statement was cancelled (a worker stopping, a client
    gone) by closing it in a task of its own while stopping its thread at once. Each
    ``stop()`` queues one more request for a thread that ends at the first, and ``close()``
    after a ``stop()`` then waits forever for an answer no thread gives: the task never
    ends, and neither does the event loop that waits for it at shutdown. Later requests get
    the first request's answer instead.
    """

    _stopped: asyncio.Future[Any] | None = None
    _busy_ms: int | None = None

    async def trip(self, function: Callable[..., T], *args: Any) -> T:
        """``function(*args)`` run in the connection's thread (one trip there and back)."""
        result: T = await self._execute(function, *args)  # type: ignore[no-untyped-call]
        return result

    def cursor(self) -> Any:
        return _Made(_Cursor(self))

    async def fetch(self, sql: str, parameters: Sequence[Any]) -> list[Any]:
        """All the rows of a read that waits on no lock, read in the calling thread rather
        than in a trip to the connection's.

        A trip hands the statement to another thread and its rows back, and that thread
        needs the interpreter's lock to make the rows: under concurrent requests the two
        threads take it from each other at every statement (a quarter of a process's CPU
        time at 8 concurrent clients on the nested query). The event loop waits for the
        statement either way. Only for reads in autocommit (:mod:`core.prepared`), which in
        WAL mode wait on no writer. SQLite's busy handler would sleep in the event loop's
        thread: here it waits :data:`INLINE_BUSY_MS` at most, and a read that finds the
        database busy longer fails (``database is locked``), for the caller to run it
        again in the connection's thread, with the connection's own wait.
        """
        connection = self._conn
        if self._busy_ms is None:
            self._busy_ms = int(connection.execute("PRAGMA busy_timeout").fetchone()[0])
        connection.execute(f"PRAGMA busy_timeout={INLINE_BUSY_MS}")
        try:
            cursor = connection.execute(sql, parameters)
            try:
                return cursor.fetchall()
            finally:
                cursor.close()
        finally:
            connection.execute(f"PRAGMA busy_timeout={self._busy_ms}")

    def stop(self) -> asyncio.Future[Any] | None:
        if not self._running:
            return self._stopped
        self._stopped = super().stop()
        return self._stopped


def open_sqlite(
    database: str | Path, *, iter_chunk_size: int = 64, **kwargs: Any
) -> SQLiteConnection:
    """``aiosqlite.connect`` with :class:`SQLiteConnection`."""

    def connector() -> sqlite3.Connection:
        connection: sqlite3.Connection = sqlite3.connect(database, **kwargs)
        return connection

    return SQLiteConnection(connector, iter_chunk_size)


async def connect_sqlite(*args: Any, **kwargs: Any) -> aiosqlite.Connection:
    """Open a connection, and have a failed connect wait for the worker thread it started.

    aiosqlite queues its worker's stop when a connect fails and returns at once; the worker
    then reports to the event loop, which may be closed by then ("Event loop is closed" in
    a thread nobody watches). Waiting for the worker makes the failure end where it began.
    """
    connection = open_sqlite(*args, **kwargs)
    worker = connection._thread  # a daemon like SQLAlchemy's own connect makes it
    worker.daemon = True
    try:
        await connection
    except BaseException:
        await asyncio.to_thread(worker.join, 5)
        raise
    return connection
