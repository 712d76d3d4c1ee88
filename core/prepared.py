"""Read statements compiled once per database and run straight on a pooled driver connection.

A statement SQLAlchemy executes costs Python work around the database's own: a session and
its connection (begun, checked out, closed), the statement's cache key and compiled form
looked up, an execution context, the parameters rendered (an ``IN`` list of a hundred keys
is rendered into the text at every execution), a result and its rows. For the read path's
hot statements, kept by shape (:mod:`core.shapes`) and run again and again, that work is
about as much as the database's, and it is the same every time.

A :class:`Prepared` statement does it once per database: its first run goes through
SQLAlchemy, which says how each column of its rows is converted (its result processors,
the very ones it applies); the statement is compiled once, on its own values (the caller's
scope among them); and from then on a run takes a connection from the engine's pool, sends
the SQL text and its parameters to the driver (asyncpg, or the SQLite driver of
:mod:`core.sqlite_driver`, which reads them in the event loop's thread), converts the rows
as SQLAlchemy would, and gives the connection back. What SQLAlchemy would send is what is
sent: the same text, the same parameters, each through the same bind processor.

It runs this way only where nothing can tell the difference: on a lookup session
(:meth:`core.db.Database.lookup`, no transaction: each statement sees what was committed
when it began, as on a connection of its own) that has begun nothing yet, on an engine whose
statements are neither logged nor listened to (statement counters then see every statement
as before) and whose pool gives each session a connection of its own (not a database in
memory). Anywhere else, and whenever the driver fails (a connection lost, a statement
refused), SQLAlchemy runs the statement as it always did, and reports any error in its own
terms; a lost connection is discarded, and a pool with no connection free in time answers
at once.
"""

from __future__ import annotations

import keyword
import logging
from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import QueuePool
from sqlalchemy.util.concurrency import greenlet_spawn

from core.sqlite_driver import SQLiteConnection

if TYPE_CHECKING:
    from sqlalchemy.engine import Dialect
    from sqlalchemy.ext.asyncio import AsyncSession
    from sqlalchemy.sql.compiler import SQLCompiler

_log = logging.getLogger(__name__)

LEAN_OPTION = "crm_lean_reads"
"""The execution option that marks an engine whose sessions read without a transaction, on
which a :class:`Prepared` statement may run straight on the driver."""


class Rows(Protocol):
    """What a read's rows are to their reader: the columns' names and the rows."""

    def keys(self) -> Any: ...

    def all(self) -> Sequence[Any]: ...


class LeanRows:
    """The rows of a statement run straight on the driver, converted when they are read."""

    __slots__ = ("_plan", "_raw")

    def __init__(self, plan: _Plan, raw: Sequence[Any]) -> None:
        self._plan, self._raw = plan, raw

    def keys(self) -> list[str]:
        return self._plan.keys

    def all(self) -> list[Any]:
        """The rows, each a list of its columns' values."""
        return self._plan.rows(self._raw)

    def named(self) -> list[Any]:
        """The rows, each read by its columns' names too (as SQLAlchemy's rows are)."""
        make = self._plan.named
        if make is None:
            raise TypeError(f"columns that cannot be attributes: {self._plan.keys}")
        return [make(*values) for values in self.all()]

    def records(
        self, trailing: int, make: Callable[[dict[str, Any]], Any], ignored: int
    ) -> list[tuple[Any, tuple[Any, ...]]]:
        """What :func:`core.rows.records` makes of the rows, made as they are converted."""
        return self._plan.recorder(trailing, ignored)(self._raw, make)


Recorder = Callable[[Sequence[Any], Callable[[dict[str, Any]], Any]], list[tuple[Any, Any]]]


class _Plan:
    """A statement as one database runs it: compiled on the statement's own values, with
    the result processors SQLAlchemy applied to its rows."""

    __slots__ = ("_recorders", "compiled", "converted", "keys", "named", "positional", "sql")

    def __init__(self, compiled: SQLCompiler, keys: list[str], processors: list[Any]) -> None:
        self.compiled = compiled
        self.keys = keys
        # Rows read by their columns' names, as SQLAlchemy's are, when the names allow it.
        self.named: type[tuple[Any, ...]] | None = (
            namedtuple("Row", keys)
            if all(map(_attribute_name, keys)) and len(set(keys)) == len(keys)
            else None
        )
        self.converted = [(at, process) for at, process in enumerate(processors) if process]
        expands = bool(compiled.literal_execute_params or compiled.post_compile_params)
        # Without late-rendered parameters, the text and the parameters' order are fixed.
        self.sql: str | None = None if expands else compiled.string
        self.positional: Sequence[str] = compiled.positiontup or []
        self._recorders: dict[tuple[int, int], Recorder] = {}

    def parameters(self, values: Mapping[str, Any] | None) -> tuple[str, list[Any]]:
        """The SQL text and its positional parameters for ``values``, as SQLAlchemy's
        execution context makes them (:meth:`DefaultExecutionContext._init_compiled`)."""
        compiled = self.compiled
        processors: Mapping[str, Any] = compiled._bind_processors
        given: Mapping[str, Any]
        order: Sequence[str]
        if self.sql is not None:
            given = compiled.construct_params(values, escape_names=False)
            sql, order = self.sql, self.positional
        else:
            state = compiled.construct_expanded_state(values, escape_names=False)
            given = state.parameters
            sql, order = state.statement, state.positiontup or []
            processors = {**processors, **state.processors}
        return sql, [
            processors[name](given[name]) if name in processors else given[name] for name in order
        ]

    def rows(self, raw: Sequence[Any]) -> list[Any]:
        """The driver's rows converted, each a list of the columns' values."""
        converted = self.converted
        if not converted:
            return [list(row) for row in raw]
        found: list[Any] = []
        append = found.append
        for row in raw:
            values = list(row)
            for at, process in converted:
                values[at] = process(values[at])
            append(values)
        return found

    def recorder(self, trailing: int, ignored: int) -> Recorder:
        """A function making of the driver's rows what :func:`core.rows.records` makes:
        for each row, ``make`` of its columns but the last ``trailing`` by name, and the
        values of those but the last ``ignored``, each converted on the way (generated
        once, with the columns in place: no intermediate row, list or loop a row)."""
        found = self._recorders.get((trailing, ignored))
        if found is None:
            found = self._recorders[trailing, ignored] = _recorder(
                self.keys, dict(self.converted), trailing, ignored
            )
        return found


def _recorder(
    keys: Sequence[str], processors: Mapping[int, Any], trailing: int, ignored: int
) -> Recorder:
    names: dict[str, Any] = {}

    def value(at: int) -> str:
        if at not in processors:
            return f"row[{at}]"
        names[f"convert_{at}"] = processors[at]
        return f"convert_{at}(row[{at}])"

    at = len(keys) - trailing
    # The columns' names enter the code as repr() literals only.
    columns = ", ".join(f"{keys[i]!r}: {value(i)}" for i in range(at))
    beside = [value(i) for i in range(at, len(keys) - ignored)]
    values = "(" + ", ".join(beside) + ("," if len(beside) == 1 else "") + ")"
    code = "\n".join(
        [
            "def record(raw, make):",
            "    found = []",
            "    append = found.append",
            "    for row in raw:",
            f"        append((make({{{columns}}}), {values}))",
            "    return found",
        ]
    )
    exec(compile(code, "<records of a prepared read>", "exec"), names)
    made: Recorder = names["record"]
    return made


def _attribute_name(key: str) -> bool:
    return key.isidentifier() and not keyword.iskeyword(key) and not key.startswith("_")


_NOT_LEAN = object()
"""A database on which a statement is not run straight on the driver (its compiled text
differs from SQLAlchemy's, or SQLAlchemy's result gave no converters for its columns)."""


PLANS_KEPT = 4
"""The engines a prepared statement keeps its plans for: the most recently learnt."""


class Prepared:
    """A read statement (of columns: its rows are not ORM objects) that runs straight on
    the driver where it can (see the module's docstring)."""

    __slots__ = ("_plans", "statement")

    def __init__(self, statement: Select[*tuple[Any, ...]]) -> None:
        self.statement = statement
        # By the engine's dialect (one per engine), which decides the text and conversions:
        # the most recent few (a process has one engine; a plan holds its dialect).
        self._plans: dict[Dialect, _Plan | object] = {}

    def __repr__(self) -> str:
        return f"Prepared({self.statement})"

    def _learn(self, dialect: Dialect, result: Any) -> None:
        """Keep how ``dialect`` runs the statement, from SQLAlchemy's ``result`` of it."""
        compiled = self.statement.compile(dialect=dialect)
        metadata = getattr(result, "_metadata", None)
        processors = getattr(metadata, "_processors", None)
        keys = list(result.keys())
        context = getattr(result, "context", None)
        same = context is not None and getattr(context.compiled, "string", None) == (
            compiled.string
        )
        if len(self._plans) >= PLANS_KEPT:
            del self._plans[next(iter(self._plans))]
        if not same or processors is None or len(processors) != len(keys):
            self._plans[dialect] = _NOT_LEAN
            return
        self._plans[dialect] = _Plan(compiled, keys, list(processors))


async def prepared_column_rows(
    session: AsyncSession, prepared: Prepared, values: Mapping[str, Any] | None = None
) -> Sequence[Any]:
    """The rows of ``prepared`` as :func:`prepared_rows` reads them, each read by its
    columns' names too, as SQLAlchemy's rows are (``row.id``)."""
    found = await prepared_rows(session, prepared, values, named=True)
    return found.named() if isinstance(found, LeanRows) else found.all()


async def prepared_rows(
    session: AsyncSession,
    prepared: Prepared,
    values: Mapping[str, Any] | None = None,
    *,
    named: bool = False,
) -> Rows:
    """The rows of ``prepared`` (``values``: of its named parameters) read on ``session``:
    straight on the driver where that changes nothing, else with SQLAlchemy's Core on the
    session's connection (changes pending in the session flushed first). ``named``: the
    rows will be read by their columns' names (the driver is used when it can be)."""
    engine = _lean_engine(session)
    if engine is not None:
        plan = prepared._plans.get(engine.dialect)
        if isinstance(plan, _Plan) and (plan.named is not None or not named):
            found = await _run(engine, plan, values)
            if found is not None:
                return found
    if session.autoflush and (session.new or session.deleted or session.dirty):
        await session.flush()
    connection = await session.connection()
    result: Rows = await connection.execute(prepared.statement, values)
    if engine is not None and engine.dialect not in prepared._plans:
        prepared._learn(engine.dialect, result)
    return result


def _lean_engine(session: AsyncSession) -> AsyncEngine | None:
    """The engine ``session`` would run a statement on, where a statement may run straight
    on the driver instead (see the module's docstring)."""
    bind = session.bind
    if not isinstance(bind, AsyncEngine) or session.in_transaction():
        return None
    if not bind.get_execution_options().get(LEAN_OPTION):
        return None
    sync = bind.sync_engine
    # Statements logged or listened to, and a pool that is not a queue of connections of
    # their own (one connection a database in memory shares), run through SQLAlchemy.
    if sync._should_log_info() or not isinstance(sync.pool, QueuePool):
        return None
    if sync.dispatch.before_cursor_execute or sync.dispatch.after_cursor_execute:
        return None
    if session.new or session.deleted or session.dirty:
        return None
    dialect = bind.dialect
    return bind if (dialect.name, dialect.driver) in _DRIVERS else None


async def _run(
    engine: AsyncEngine, plan: _Plan, values: Mapping[str, Any] | None
) -> LeanRows | None:
    """The rows of ``plan`` for ``values`` read on the driver; ``None`` when the driver
    failed, for SQLAlchemy to run the statement again and report any error in its terms."""
    dialect = engine.dialect
    try:
        sql, parameters = plan.parameters(values)
    except Exception:  # a value that cannot be sent
        _log.debug("a read's values were refused; run with SQLAlchemy", exc_info=True)
        return None
    try:
        pooled = await greenlet_spawn(engine.sync_engine.pool.connect)
    except dialect.loaded_dbapi.Error:  # the database cannot be reached
        _log.debug("no connection for a read on the driver", exc_info=True)
        return None
    # Anything else the pool raises (no connection free in time) is the caller's answer.
    discard = True  # a read cancelled half way leaves the connection in an unknown state
    try:
        raw = await _DRIVERS[dialect.name, dialect.driver](
            pooled.driver_connection, sql, parameters
        )
        discard = False
    except Exception as error:
        # A refused statement or a lock waited on too long leaves the connection sound;
        # one the server dropped is discarded.
        discard = _lost(dialect, error, pooled)
        _log.debug("a read on the driver failed; run again with SQLAlchemy", exc_info=True)
        return None
    finally:
        await greenlet_spawn(_give_back, pooled, discard)
    return LeanRows(plan, raw)


def _lost(dialect: Dialect, error: Exception, pooled: Any) -> bool:
    """Whether ``error`` says the connection is gone (in doubt: yes)."""
    try:
        return bool(dialect.is_disconnect(error, pooled.dbapi_connection, None))  # type: ignore[arg-type]
    except Exception:
        return True


def _give_back(pooled: Any, discard: bool) -> None:
    """Return a pooled connection to the pool; a discarded one is closed, and the pool opens
    a new one when it needs it."""
    if discard:
        pooled.invalidate()
    pooled.close()


async def _asyncpg_fetch(connection: Any, sql: str, parameters: list[Any]) -> Sequence[Any]:
    rows: Sequence[Any] = await connection.fetch(sql, *parameters)
    return rows


async def _sqlite_fetch(connection: Any, sql: str, parameters: list[Any]) -> Sequence[Any]:
    if not isinstance(connection, SQLiteConnection):
        raise TypeError("not the SQLite driver's connection")
    return await connection.fetch(sql, parameters)


_DRIVERS: dict[tuple[str, str], Callable[[Any, str, list[Any]], Any]] = {
    ("postgresql", "asyncpg"): _asyncpg_fetch,
    ("sqlite", "aiosqlite"): _sqlite_fetch,
}
