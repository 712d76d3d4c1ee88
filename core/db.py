"""Database access: the shared metadata, engines for SQLite and PostgreSQL, sessions.

SQLite (aiosqlite) is the embedded default: WAL journal, foreign keys on, a busy timeout,
transactions that really begin where SQLAlchemy begins them, and a statement run in one trip
to the driver's thread (:mod:`core.sqlite_driver`). PostgreSQL (asyncpg) is the
production database shared by many stateless app processes.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
import weakref
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, DateTime, MetaData, TypeDecorator, event, insert, literal, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.exc import DisconnectionError, InvalidatePoolError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.pool import AsyncAdaptedQueuePool, ConnectionPoolEntry

from core.errors import ApiError, ApiErrorCode
from core.i18n import _
from core.prepared import LEAN_OPTION
from core.sqlite_driver import connect_sqlite
from core.text_keys import trigram_similarity

if TYPE_CHECKING:
    from core.config import Settings

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SQLITE_BUSY_TIMEOUT_MS = 10_000
WRITER_TURN_SECONDS = SQLITE_BUSY_TIMEOUT_MS / 1000
"""How long a SQLite writer waits for its turn before :class:`DatabaseBusyError`."""
BEGIN_OPTION = "crm_sqlite_begin"
AUTOCOMMIT = "AUTOCOMMIT"


class DatabaseBusyError(ApiError):
    """A write waited longer than the busy timeout for its turn (SQLite): SERVICE_BUSY, which
    the client answers by trying again in a moment; nothing was written."""

    def __init__(self, reason: str) -> None:
        super().__init__(
            f"the service is busy ({reason}); nothing was changed, try again in a moment",
            ApiErrorCode.SERVICE_BUSY,
        )


POOL_TIMEOUT_SECONDS = 30.0
"""How long a statement waits for a pooled connection before :class:`NoFreeConnectionError`."""


class NoFreeConnectionError(ApiError):
    """Every pooled connection stayed in use for :data:`POOL_TIMEOUT_SECONDS`: SERVICE_BUSY,
    which the client answers by trying again in a moment. The statement that waited did not
    run (a request's earlier statements may have)."""

    def __init__(self, seconds: float) -> None:
        super().__init__(
            _(
                "the service is busy (no database connection was free within {seconds} s); "
                "try again in a moment",
                seconds=f"{seconds:g}",
            ),
            ApiErrorCode.SERVICE_BUSY,
        )


class _Pool(AsyncAdaptedQueuePool):
    """The pool of a database file or server: a checkout that finds no connection free in
    time fails with :class:`NoFreeConnectionError`, which the API answers as SERVICE_BUSY,
    rather than with SQLAlchemy's ``TimeoutError``, which it would answer as an internal
    error."""

    def _do_get(self) -> ConnectionPoolEntry:
        try:
            return super()._do_get()
        except PoolTimeoutError:
            raise NoFreeConnectionError(self._timeout) from None


class Base(DeclarativeBase):
    """Declarative base of every model, core's and each plugin's, on one metadata."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware datetime stored in UTC on every database.

    Naive datetimes are refused: a time without a zone is a bug waiting to happen.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; times must carry a time zone")
        return value.astimezone(dt.UTC)

    def result_processor(
        self, dialect: Dialect, coltype: Any
    ) -> Callable[[Any], dt.datetime | None]:
        """The driver's own conversion, then the time in UTC (a naive one read as UTC), in one
        function: a page of rows holds thousands of times, and the generic chaining of a
        ``process_result_value`` costs a call more for each (a time already in UTC, as
        PostgreSQL's driver returns it, passes as is)."""
        convert = self.impl_instance.result_processor(dialect, coltype)
        utc = dt.UTC

        def process(value: Any) -> dt.datetime | None:
            if value is None:
                return None
            if convert is not None:
                value = convert(value)
                if value is None:
                    return None
            zone = value.tzinfo
            if zone is utc:
                return value  # type: ignore[no-any-return]
            if zone is None:
                return value.replace(tzinfo=utc)  # type: ignore[no-any-return]
            return value.astimezone(utc)  # type: ignore[no-any-return]

        return process


def upsert_insert(dialect: str) -> Any:
    """The ``insert`` of ``dialect`` (``postgresql`` or ``sqlite``), whose statements take
    ``on_conflict_do_nothing`` / ``on_conflict_do_update``; both databases speak them alike."""
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "do_connect")
    def _on_do_connect(_dialect: Any, _record: Any, _cargs: Any, cparams: dict[str, Any]) -> None:
        cparams["async_creator_fn"] = connect_sqlite

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide where transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
        # pg_trgm's similarity(), so that a query using it runs on both databases alike.
        dbapi_connection.create_function("similarity", 2, trigram_similarity, deterministic=True)

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Write transactions take the write lock up front (BEGIN IMMEDIATE): a deferred one
        # that reads first and writes later fails with "database is locked" when another
        # writer got in between, and busy_timeout cannot help it.
        mode = connection.get_execution_options().get(BEGIN_OPTION, "")
        if mode == AUTOCOMMIT:
            return  # a read session: each statement is its own transaction
        connection.exec_driver_sql(f"BEGIN {mode}".strip())

    # A rollback outside a transaction does nothing (sqlite3 sends no ROLLBACK then), but
    # through aiosqlite each is still a trip to the driver's thread: one when a lookup's
    # connection closes and one when the pool takes it back, several per request. Skipped
    # when the connection is not inside a transaction.
    dialect = engine.sync_engine.dialect
    rollback = dialect.do_rollback

    def do_rollback(dbapi_connection: Any) -> None:
        driver = dbapi_connection.driver_connection
        try:
            idle = driver is not None and not driver.in_transaction
        except Exception:  # a closed connection: the driver's own rollback decides
            idle = False
        if not idle:
            rollback(dbapi_connection)

    dialect.do_rollback = do_rollback  # type: ignore[method-assign]


DEFAULT_POOL_SIZE = 20
"""Connections a process keeps at most (``CRM_DB_POOL_SIZE``)."""


def create_engine(
    url: str, *, echo: bool = False, pool_size: int = DEFAULT_POOL_SIZE
) -> AsyncEngine:
    """Create an async engine for ``url`` with the settings each backend needs.

    The pool keeps up to ``pool_size`` connections open, and never opens more: a checkout
    beyond them waits for one to come back. A pool that may overflow (SQLAlchemy's default)
    closes each connection beyond its size as soon as it is returned, so a burst of
    concurrent requests, each with several loader batches in flight, opens and closes
    connections all the time: a PostgreSQL backend process or an SQLite connection and its
    thread each time, which costs more than the statements they serve.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        # A database in memory keeps the single connection SQLAlchemy gives it (a pool of
        # several would see several databases); a file's directory is made if need be.
        in_memory = parsed.database in (None, "", ":memory:") or (
            parsed.query.get("mode") == "memory"
        )
        if not in_memory:
            Path(str(parsed.database)).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(
            url,
            echo=echo,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            **({} if in_memory else _pool_arguments(pool_size)),
        )
        _configure_sqlite(engine)
        return engine
    engine = create_async_engine(url, echo=echo, **_pool_arguments(pool_size))
    _ping_when_idle(engine)
    return engine


def _pool_arguments(pool_size: int) -> dict[str, Any]:
    return {
        "poolclass": _Pool,
        "pool_size": pool_size,
        "max_overflow": 0,
        "pool_timeout": POOL_TIMEOUT_SECONDS,
    }


PING_AFTER_IDLE_SECONDS = 1.0
"""A pooled PostgreSQL connection idle this long is pinged before it is handed out."""
_IDLE_SINCE = "crm_idle_since"


def _ping_when_idle(engine: AsyncEngine) -> None:
    """Ping a pooled connection before use only when it has sat idle a while.

    A connection the server or the network dropped (a restart, a failover, an idle timeout)
    must not fail the request that picks it up, so a connection is tested before it is
    handed out. But a request takes several (its authentication, its root page, each batch
    of a dataloader), and a test of each costs a round trip: about 2.5 ms of a 30 ms
    request. A connection back in the pool less than :data:`PING_AFTER_IDLE_SECONDS` ago is
    handed out as it is, as connection pools such as HikariCP do; one that fails the ping is
    replaced (the pool retries the checkout with a fresh one), and when the server went away
    every pooled connection is. The price: a connection the server dropped less than that
    long after it came back to the pool fails the one request that takes it, as any
    connection dropped in the middle of a request does.
    """
    sync = engine.sync_engine

    @event.listens_for(sync, "connect")
    def _connected(_dbapi_connection: Any, record: Any) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(sync, "checkin")
    def _returned(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(sync, "checkout")
    def _handed_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get(_IDLE_SINCE)
        if since is not None and time.monotonic() - since < PING_AFTER_IDLE_SECONDS:
            return
        try:
            sync.dialect.do_ping(dbapi_connection)
        except Exception as error:
            dialect = sync.dialect
            if isinstance(error, dialect.loaded_dbapi.Error) and dialect.is_disconnect(
                error, dbapi_connection, None
            ):
                # The server went away: the pool's other connections went with it, as
                # pool_pre_ping assumes too.
                raise InvalidatePoolError("a pooled connection lost its server") from error
            raise DisconnectionError("a pooled connection failed its ping") from error


class Database:
    """An engine and its session factory; one per process, shared by all requests."""

    def __init__(self, url: str, *, echo: bool = False, pool_size: int = DEFAULT_POOL_SIZE) -> None:
        self.url = url
        self.engine = create_engine(url, echo=echo, pool_size=pool_size)
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)
        option = BEGIN_OPTION if self.dialect == "sqlite" else "isolation_level"
        self.lookup_sessionmaker = async_sessionmaker(
            self.engine.execution_options(**{option: AUTOCOMMIT, LEAN_OPTION: True}),
            expire_on_commit=False,
        )
        writer = self.engine.execution_options(**{BEGIN_OPTION: "IMMEDIATE"})
        self.write_sessionmaker = async_sessionmaker(writer, expire_on_commit=False)
        self._writer_turns: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )

    @classmethod
    def from_settings(cls, settings: Settings, *, echo: bool = False) -> Database:
        """The database ``settings`` name (``CRM_DATABASE_URL``), with their pool size."""
        return cls(settings.resolved_database_url, echo=echo, pool_size=settings.db_pool_size)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session inside one transaction: committed on success, rolled back on error.

        On SQLite, where one writer runs at a time, the process's writers take turns first
        (first come, first served): SQLite's own busy handler only retries now and then, so
        a writer that commits and begins again at once (an import's next chunk) could starve
        the others, who would fail with "database is locked" after the busy timeout.
        """
        async with self._writer_turn(), self.write_sessionmaker() as session, session.begin():
            yield session

    @asynccontextmanager
    async def _writer_turn(self) -> AsyncIterator[None]:
        if self.dialect != "sqlite":
            yield
            return
        lock = self._writer_turns.setdefault(asyncio.get_running_loop(), asyncio.Lock())
        try:
            await asyncio.wait_for(lock.acquire(), WRITER_TURN_SECONDS)
        except TimeoutError:
            raise DatabaseBusyError(f"no turn to write within {WRITER_TURN_SECONDS:g} s") from None
        try:
            yield
        finally:
            lock.release()

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A short session for reads (a dataloader batch, a root list)."""
        async with self.sessionmaker() as session:
            yield session

    @asynccontextmanager
    async def lookup(self) -> AsyncIterator[AsyncSession]:
        """A session for a few independent reads (a dataloader batch, a page of a list),
        without a transaction of its own: each statement sees what was committed when it
        began. It saves BEGIN and ROLLBACK, two round trips, around every batch of a query.
        Reads that must run inside a transaction take :meth:`read`: a server-side cursor
        (a streamed export) and, on SQLite, statements that must see one snapshot
        (PostgreSQL's READ COMMITTED gives each statement its own either way)."""
        async with self.lookup_sessionmaker() as session:
            yield session

    async def dispose(self) -> None:
        await self.engine.dispose()


BULK_CHUNK = 5000


def _chunks(rows: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _copy_values(table: Any, dialect: Dialect, columns: list[str]) -> list[Any]:
    """For each column, how a Python value becomes what ``COPY`` takes: the column's own
    bind processing (a ``TypeDecorator`` such as :class:`UTCDateTime`, which refuses naive
    times), JSON as text (``None`` as JSON ``null``, as ``INSERT`` stores it), else as is."""

    def convert(column: Any) -> Callable[[Any], Any] | None:
        kind = column.type
        decorated: Callable[[Any], Any] | None = None
        inner = kind
        if isinstance(kind, TypeDecorator):
            process = kind.process_bind_param

            def decorated(value: Any) -> Any:
                return process(value, dialect)

            inner = kind.impl_instance
        if not isinstance(inner, JSON):
            return decorated
        before = decorated or (lambda value: value)
        return lambda value: json.dumps(before(value))

    return [convert(table.c[name]) for name in columns]


def _with_defaults(table: Any, row: dict[str, Any]) -> dict[str, Any]:
    """``row`` plus the Python-side defaults of the columns it leaves out (``INSERT`` would
    apply them; ``COPY`` does not)."""
    missing = {}
    for column in table.c:
        default = column.default
        if column.key in row or default is None:
            continue
        if default.is_scalar:
            missing[column.key] = default.arg
        elif default.is_callable:
            missing[column.key] = default.arg(_RowContext(row))
    return {**row, **missing} if missing else row


class _RowContext:
    """What a context-sensitive column default reads of the row it fills (``INSERT`` passes
    SQLAlchemy's execution context, which has the same method)."""

    def __init__(self, row: dict[str, Any]) -> None:
        self.row = row

    def get_current_parameters(self) -> dict[str, Any]:
        return self.row


async def bulk_insert(session: AsyncSession, model: Any, rows: Iterable[dict[str, Any]]) -> int:
    """Insert many rows of ``model`` fast, in chunks, inside the session's transaction.

    For loading demo and benchmark data sets, not for requests: rows skip ORM events. On
    PostgreSQL the rows go in with ``COPY`` (asyncpg), several times faster than multi-row
    ``INSERT``, with the same values: Python-side column defaults are filled in, columns'
    bind processing applies and JSON is stored as ``INSERT`` stores it. Every row of a chunk
    must have the keys of its first row. Returns how many rows went in.
    """
    table = model.__table__
    total = 0
    if session.get_bind().dialect.name != "postgresql":
        for chunk in _chunks(rows, BULK_CHUNK):
            await session.execute(insert(model), chunk)
            total += len(chunk)
        return total
    # Make SQLAlchemy begin the session's transaction on this connection: COPY goes straight
    # to the driver, which would otherwise run it in a transaction of its own.
    await session.execute(select(literal(1)))
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    driver = raw.driver_connection
    if driver is None or not driver.is_in_transaction():
        raise RuntimeError("bulk_insert needs the session's transaction to have begun")
    dialect = session.get_bind().dialect
    for chunk in _chunks(rows, BULK_CHUNK):
        chunk = [_with_defaults(table, row) for row in chunk]
        columns = list(chunk[0])
        convert = _copy_values(table, dialect, columns)
        records = [
            tuple(
                row[name] if f is None else f(row[name])
                for name, f in zip(columns, convert, strict=True)
            )
            for row in chunk
        ]
        await driver.copy_records_to_table(table.name, records=records, columns=columns)
        total += len(chunk)
    return total
