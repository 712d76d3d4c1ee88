"""Migrated template databases: the test kit runs each distinct set of migrations once per
test session and hands each test a copy.

:func:`schema.testkit.migrate_up` (and so ``migrated_db``, ``api`` and ``running_app``)
first asks :meth:`Templates.copy_into` to make the test's database a copy of a database
already migrated with the same migrations (same backend, same enabled modules, same version
scripts). A copy is made only of a database nothing has touched yet:

* SQLite: a database file that does not exist yet; the migrated template file is copied there.
* PostgreSQL: a database the kit created (``postgres_database``) that holds no table and that
  no one else is connected to; it steps aside for a copy under the same name, one the stock
  made ahead (:mod:`schema.testkit_postgres`) or one made then with
  ``CREATE DATABASE ... TEMPLATE``.

Any other database is migrated step by step as before, as is every database migrated through
:mod:`core.migrate` directly (the tests of migrations themselves). Templates are named
``crm_test_template_<session>_<n>`` on PostgreSQL and live in a session folder on SQLite;
they are dropped when the session ends, failed or not.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

from core import migrate as migrations
from core.db import Database
from core.host import CRMPluginManager
from schema import testkit_tools as tools
from schema.testkit_postgres import STOCK

Key = tuple[object, ...]

# Relations, extensions besides the built-in one, and other sessions: any of them means the
# database is not the empty one the kit created.
_IN_USE = """
SELECT (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
          AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%')
     + (SELECT count(*) FROM pg_extension WHERE extname <> 'plpgsql')
     + (SELECT count(*) FROM pg_stat_activity
        WHERE datname = current_database() AND pid <> pg_backend_pid())
"""


def migrations_key(backend: str, pm: CRMPluginManager) -> Key:
    """What a migrated database depends on: the backend and, for each enabled module in
    order, its branch and version scripts (names, sizes and modification times)."""
    parts: list[object] = [backend]
    for found in migrations.enabled_migrations(pm):
        directory = Path(found.directory)
        scripts = sorted(
            (str(path.relative_to(directory)), path.stat().st_size, path.stat().st_mtime_ns)
            for path in directory.rglob("*.py")
        )
        parts.append((found.branch, str(directory), tuple(scripts)))
    return tuple(parts)


_SQLITE_FILES = ("", "-wal", "-shm", "-journal")


def _exists(path: Path, *suffixes: str) -> bool:
    """Whether ``path`` (by default with any of SQLite's side files) exists."""
    return any(Path(f"{path}{suffix}").exists() for suffix in suffixes or _SQLITE_FILES)


class Templates:
    """The session's migrated templates, by :func:`migrations_key`."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.session = uuid.uuid4().hex[:8]
        self.sqlite: dict[Key, Path] = {}
        self.postgres: dict[Key, str] = {}
        self.made_postgres: list[str] = []

    async def copy_into(self, db: Database, pm: CRMPluginManager) -> bool:
        """Make ``db`` a migrated copy if it is untouched; whether it did (if not, the
        caller migrates it)."""
        url = make_url(db.url)
        backend = url.get_backend_name()
        if backend == "sqlite":
            return await self._sqlite(db, url.database or "", pm)
        if backend == "postgresql" and url.database in tools.CREATED_DATABASES:
            return await self._postgres(db, url.database, pm)
        return False

    async def _sqlite(self, db: Database, path: str, pm: CRMPluginManager) -> bool:
        if not path or path == ":memory:" or path.startswith("file:"):
            return False
        target = Path(path)
        if _exists(target):
            return False
        key = migrations_key("sqlite", pm)
        template = self.sqlite.get(key)
        if template is None:
            template = self.folder / f"template-{uuid.uuid4().hex[:8]}.sqlite3"
            source = Database(f"sqlite+aiosqlite:///{template}")
            try:
                await migrations.upgrade(source, pm)
            finally:
                await source.dispose()  # the last connection folds the WAL into the file
            if _exists(template, "-wal", "-shm", "-journal"):
                return False
            self.sqlite[key] = template
        await db.dispose()
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(template, target)
        return True

    async def _postgres(self, db: Database, name: str, pm: CRMPluginManager) -> bool:
        await db.dispose()
        connection = await asyncpg.connect(tools.dsn_for(name))
        try:
            untouched = await connection.fetchval(_IN_USE) == 0
        finally:
            await connection.close()
        if not untouched:
            return False
        key = migrations_key("postgresql", pm)
        template = self.postgres.get(key)
        if template is None:
            template = f"crm_test_template_{self.session}_{len(self.made_postgres)}"
            await tools.create_database(template)
            self.made_postgres.append(template)
            source = Database(tools.async_url_for(template))
            try:
                await migrations.upgrade(source, pm)
            finally:
                await source.dispose()
            self.postgres[key] = template
        # The empty database steps aside under another name (renaming, unlike dropping,
        # does not wait on the disk) and is dropped in the background; a copy made ahead
        # takes its name when the stock has one ready, or one is made now.
        aside = f"{name}_x"
        copy: str | None = None
        renamed = False
        admin = await asyncpg.connect(tools.dsn_for())
        try:
            try:  # refuses if someone is connected to it
                await admin.execute(f'ALTER DATABASE "{name}" RENAME TO "{aside}"')
            except asyncpg.ObjectInUseError:
                return False
            tools.drop_database_later(aside)
            copy = STOCK.take(template)
            try:
                if copy is not None:
                    with contextlib.suppress(asyncpg.PostgresError):  # then made now
                        await admin.execute(f'ALTER DATABASE "{copy}" RENAME TO "{name}"')
                        renamed = True
                if not renamed:
                    await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
            except BaseException:
                await admin.execute(f'CREATE DATABASE "{name}"')  # for its owner to drop
                raise
        finally:
            await admin.close()
            if copy is not None and not renamed:
                tools.drop_database_later(copy)
        return True

    async def drop(self) -> None:
        """Drop the PostgreSQL templates, with the copies of them left in stock, and delete
        the SQLite ones."""
        await asyncio.to_thread(STOCK.release, self.made_postgres)
        for name in self.made_postgres:
            await tools.drop_database(name)
        self.made_postgres.clear()
        self.postgres.clear()
        for path in self.sqlite.values():
            path.unlink(missing_ok=True)
        self.sqlite.clear()


_ACTIVE: list[Templates] = []


def active() -> Templates | None:
    """The templates of the running test session, if the kit's session fixture set them up."""
    return _ACTIVE[-1] if _ACTIVE else None


@contextmanager
def session_templates(folder: Path) -> Iterator[Templates]:
    """Templates for one test session (a nested in-process session gets its own), dropped
    at the end even if the session failed."""
    templates = Templates(folder)
    _ACTIVE.append(templates)
    STOCK.open()
    try:
        yield templates
    finally:
        _ACTIVE.remove(templates)
        # A loop of its own, in a thread: the session may end inside another's running loop.
        try:
            with ThreadPoolExecutor(max_workers=1) as pool:
                pool.submit(asyncio.run, templates.drop()).result()
        finally:  # the copies handed to the background dropper go, whatever happened above
            STOCK.close()
            tools.wait_for_drops()
