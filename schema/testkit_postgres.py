"""The test kit's PostgreSQL databases: the server tests may use, databases made and
dropped there, and a stock of databases made ahead.

Making a database waits on the server's disk (a fifth to a third of a second, and twice for
a test with migrated tables: its empty database, then a copy of a migrated template). The
stock makes them ahead in a thread of its own while the tests go on, so a test usually
finds its database ready: each one taken orders the next. Stocking runs only inside a test
session's templates (:func:`schema.testkit_templates.session_templates`): copies left in
stock go with the template they copy, empty ones when the outermost session ends.
"""

from __future__ import annotations

import asyncio
import os
import queue
import threading
import uuid
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from functools import partial

import asyncpg
from sqlalchemy.engine import make_url

POSTGRES_URL = os.environ.get("CRM_TEST_POSTGRES_URL", "")
"""The PostgreSQL server where tests may create databases (``CRM_TEST_POSTGRES_URL``)."""

CREATED_DATABASES: set[str] = set()
"""Names of the PostgreSQL databases the kit created in this process and has not dropped."""


def dsn_for(database: str | None = None) -> str:
    """A libpq URL (asyncpg's) of ``database`` on the tests' server; by default the one the
    server's URL names, used to create and drop the others."""
    server = make_url(POSTGRES_URL).set(drivername="postgresql")
    if database is not None:
        server = server.set(database=database)
    return server.render_as_string(hide_password=False)


def async_url_for(database: str) -> str:
    """The SQLAlchemy URL of ``database`` on the tests' server."""
    url = make_url(POSTGRES_URL).set(drivername="postgresql+asyncpg", database=database)
    return url.render_as_string(hide_password=False)


async def _on_server(statement: str) -> None:
    """Run ``statement`` (one that cannot run in a transaction) on the tests' server."""
    admin = await asyncpg.connect(dsn_for())
    try:
        await admin.execute(statement)
    finally:
        await admin.close()


def adopt(name: str) -> None:
    """Count ``name``, a database the kit made, among its own (:data:`CREATED_DATABASES`)
    until it is dropped: only those are copied into and dropped by the kit."""
    CREATED_DATABASES.add(name)


async def create_database(name: str) -> None:
    """Create the empty database ``name`` on the tests' server, one of the kit's own."""
    await _on_server(f'CREATE DATABASE "{name}"')
    adopt(name)


async def drop_database(name: str) -> None:
    """Drop ``name``, a database the kit created, closing anyone's sessions on it."""
    await _on_server(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    CREATED_DATABASES.discard(name)


Job = Callable[[], Awaitable[None]]
"""Work for :class:`BackgroundJobs`: called in its thread, awaited on its event loop."""


class BackgroundJobs:
    """Jobs run one at a time, in the order given, by a thread of its own on one event loop
    it keeps; the thread starts with the first job (and again should it ever stop). A job
    that fails does not stop the others: what it was and why wait in :attr:`failures` for
    the owner to report. :meth:`join` returns once every job given is done."""

    def __init__(self, thread_name: str) -> None:
        self.thread_name = thread_name
        self.queued: queue.Queue[tuple[str, Job]] = queue.Queue()
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None
        self.failures: list[tuple[str, BaseException]] = []

    def put(self, what: str, job: Job) -> None:
        """Run ``job`` once the jobs given before it are done; ``what`` names it among the
        failures should it fail."""
        with self.lock:
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
                self.thread.start()
        self.queued.put((what, job))

    def join(self) -> None:
        """Block until every job given so far is done."""
        self.queued.join()

    def take_failures(self) -> list[tuple[str, BaseException]]:
        """The jobs that failed since the last call (what each was, and the error), which
        are forgotten."""
        with self.lock:
            failed, self.failures = self.failures, []
        return failed

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        try:
            while True:
                what, job = self.queued.get()
                try:
                    loop.run_until_complete(job())
                except BaseException as exc:  # the owner reports it; the next job still runs
                    with self.lock:
                        self.failures.append((what, exc))
                finally:
                    self.queued.task_done()
        finally:
            loop.close()


_DROPS = BackgroundJobs("crm-test-drops")
"""Drops the databases the kit is done with, one at a time, while the tests go on: a drop
waits on the server's disk, and no test reuses a dropped name."""


def drop_database_later(name: str) -> None:
    """Hand ``name``, a database the kit created and no test uses any more, to the
    background dropper (:func:`wait_for_drops` waits for it)."""
    CREATED_DATABASES.discard(name)
    _DROPS.put(name, partial(drop_database, name))


def wait_for_drops() -> None:
    """Block until every database handed to :func:`drop_database_later` is dropped (the
    session's end); raise if a drop failed."""
    _DROPS.join()
    failed = _DROPS.take_failures()
    if failed:
        dropped = ", ".join(f"{name} ({exc})" for name, exc in failed)
        raise RuntimeError(f"the test kit could not drop: {dropped}")


@asynccontextmanager
async def postgres_database() -> AsyncIterator[str]:
    """A fresh PostgreSQL database (from the stock when one is ready), dropped afterwards in
    the background (the name is never used again); yields its async URL."""
    name = STOCK.take(None)
    if name is None:
        name = new_name()
        await create_database(name)
    else:
        adopt(name)
    try:
        yield async_url_for(name)
    finally:
        drop_database_later(name)


def new_name() -> str:
    """A name for a database the kit makes, never used before."""
    return f"crm_test_{uuid.uuid4().hex[:12]}"


STOCK_DEPTH = 1
"""How many databases of one kind the stock keeps ready."""


class Stock:
    """Databases made ahead, by kind: ``None`` for an empty one, or the name of the template
    a database is a copy of. :meth:`take` hands one over (its name, the taker's to drop) and
    orders the next, which :attr:`orders` makes in the background; :meth:`release` ends a
    kind and drops what is left of it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.ready: dict[str | None, list[str]] = {}
        self.ordered: dict[str | None, int] = {}
        self.closed: set[str | None] = set()
        self.orders = BackgroundJobs("crm-test-stock")
        self.sessions = 0

    def open(self) -> None:
        """A test session begins: stock from now on."""
        with self.lock:
            self.sessions += 1
            self.closed.discard(None)

    def close(self) -> None:
        """A test session ends; the outermost one drops the empty databases left."""
        with self.lock:
            self.sessions -= 1
            last = self.sessions == 0
        if last:
            self.release([None])
            failed = self.orders.take_failures()
            if failed:  # the tests made their own instead: slower, still right
                unmade = "; ".join(f"{kind}: {exc!r}" for kind, exc in failed)
                warnings.warn(
                    f"the test kit's stock could not make: {unmade}",
                    RuntimeWarning,
                    stacklevel=2,
                )

    def take(self, kind: str | None) -> str | None:
        """A ready database of ``kind``, or ``None`` (none ready, or no session); either way
        the stock orders enough to keep :data:`STOCK_DEPTH` ready."""
        with self.lock:
            if not self.sessions or kind in self.closed:
                return None
            names = self.ready.setdefault(kind, [])
            name = names.pop(0) if names else None
            wanted = max(STOCK_DEPTH - len(names) - self.ordered.get(kind, 0), 0)
            self.ordered[kind] = self.ordered.get(kind, 0) + wanted
        for _ in range(wanted):
            self.orders.put(kind or "an empty one", partial(self._order, kind))
        return name

    def release(self, kinds: Iterable[str | None]) -> None:
        """Make no more of ``kinds``; once the databases being made are made, drop what is
        left of them."""
        kinds = set(kinds)
        with self.lock:
            self.closed |= kinds
        self.orders.join()
        with self.lock:
            left = [name for kind in kinds for name in self.ready.pop(kind, [])]
        for name in left:
            drop_database_later(name)

    async def _order(self, kind: str | None) -> None:
        """Make a database of ``kind`` (should that fail, the taker makes its own), then
        count it as no longer on order."""
        try:
            await self._make(kind)
        finally:
            with self.lock:
                self.ordered[kind] -= 1

    async def _make(self, kind: str | None) -> None:
        with self.lock:
            if kind in self.closed:
                return
        name = new_name()
        template = "" if kind is None else f' TEMPLATE "{kind}"'
        await _on_server(f'CREATE DATABASE "{name}"{template}')
        with self.lock:
            if kind not in self.closed:
                self.ready.setdefault(kind, []).append(name)
                return
        drop_database_later(name)


STOCK = Stock()
"""The process's stock of databases made ahead."""
