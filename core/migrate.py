"""Alembic migrations, one branch per module: core's and each enabled plugin's.

``migrate`` brings core and every enabled plugin to its head; a plugin enabled later gets
its tables on the next run and nothing else changes. Version folders of installed but
disabled plugins are known to Alembic too, so their existing tables never confuse it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.script.revision import RevisionError
from sqlalchemy import Table, exists, select, text
from sqlalchemy.engine import Connection

from core.db import Base, Database
from core.extension import Migrations
from core.host import CRMPluginManager

SCRIPT_LOCATION = Path(__file__).parent / "migrations"
# Any constant: serialises migrations of processes that start together on PostgreSQL.
PG_MIGRATION_LOCK_ID = 0x43524D


def enabled_migrations(pm: CRMPluginManager) -> list[Migrations]:
    """Migrations of core and every enabled plugin, core first."""
    found = [m for m in pm.hook.crm_migrations() if m is not None]
    found.sort(key=lambda m: m.branch != "core")
    return found


def _installed_migrations(pm: CRMPluginManager) -> list[Migrations]:
    found = enabled_migrations(pm)
    enabled = {m.branch for m in found}
    for installed in pm.installed.values():
        hook = getattr(installed.plugin, "crm_migrations", None)
        if callable(hook):
            migrations = hook()
            if isinstance(migrations, Migrations) and migrations.branch not in enabled:
                found.append(migrations)
    return found


def alembic_config(pm: CRMPluginManager, connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    config.set_main_option("path_separator", "os")
    locations = [str(m.directory) for m in _installed_migrations(pm)]
    config.set_main_option("version_locations", os.pathsep.join(locations))
    config.attributes["connection"] = connection
    config.attributes["include_object"] = include_object_for(pm)
    return config


def owned_tables(pm: CRMPluginManager) -> set[str]:
    """Names of the tables whose models belong to core or an enabled plugin."""
    packages = tuple(m.package for m in enabled_migrations(pm))
    names: set[str] = set()
    for mapper in Base.registry.mappers:
        module = mapper.class_.__module__
        if any(module == p or module.startswith(p + ".") for p in packages):
            table = mapper.local_table
            if isinstance(table, Table):
                names.add(table.name)
    return names


DATABASE_ONLY_INDEXES = "database_only_indexes"
"""Key of a table's ``info``: names of indexes that migrations create on some databases only
(PostgreSQL trigram indexes, say) and the models do not declare."""


def _database_only(table_name: str, index_name: str | None) -> bool:
    table = Base.metadata.tables.get(table_name)
    return table is not None and index_name in table.info.get(DATABASE_ONLY_INDEXES, ())


def include_object_for(pm: CRMPluginManager) -> Callable[..., bool]:
    """An Alembic ``include_object`` that keeps only the enabled modules' tables, and leaves
    out the indexes a table's ``info`` names as database-only."""
    tables = owned_tables(pm)

    def include(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
        if type_ == "table":
            return name in tables
        table = getattr(obj, "table", None)
        if table is None:
            return True
        if type_ == "index" and reflected and _database_only(table.name, name):
            return False
        return table.name in tables

    return include


class HeadCheck:
    """Tells whether a database is at head for the enabled modules.

    Built once (it reads the version scripts); checking costs one small query. A revision
    counts as applied when it is recorded or is an ancestor or dependency of one that is,
    since Alembic records only the newest revision of dependent branches.
    """

    def __init__(self, pm: CRMPluginManager) -> None:
        self.script = ScriptDirectory.from_config(alembic_config(pm))
        self.expected: set[str] = set()
        for migrations in enabled_migrations(pm):
            for revision in self.script.get_revisions(f"{migrations.branch}@head"):
                if revision is not None:
                    self.expected.add(revision.revision)

    def applied(self, recorded: set[str]) -> set[str]:
        seen: set[str] = set()
        stack = list(recorded)
        while stack:
            name = stack.pop()
            if name in seen:
                continue
            seen.add(name)
            try:
                revisions = self.script.get_revisions(name)
            except RevisionError:  # a revision of a module that is no longer installed
                continue
            for revision in revisions:
                if revision is None:
                    continue
                for parent in (revision.down_revision, revision.dependencies):
                    if isinstance(parent, str):
                        stack.append(parent)
                    elif parent:
                        stack.extend(parent)
        return seen

    async def at_head(self, db: Database) -> bool:
        return self.expected <= self.applied(await current_heads(db))


async def _run(db: Database, pm: CRMPluginManager, work: Callable[[Config], None]) -> None:
    if db.dialect == "sqlite":
        async with db.engine.connect() as connection:
            await connection.run_sync(lambda sync: _run_on_sqlite(sync, pm, work))
        return
    async with db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            await connection.execute(
                text("SELECT pg_advisory_xact_lock(:id)"), {"id": PG_MIGRATION_LOCK_ID}
            )

        def run(sync_connection: Connection) -> None:
            work(alembic_config(pm, sync_connection))

        await connection.run_sync(run)


def _run_on_sqlite(
    connection: Connection, pm: CRMPluginManager, work: Callable[[Config], None]
) -> None:
    """Run ``work`` with foreign keys off, as SQLite asks for changing a table's shape.

    SQLite changes most column definitions by copying the table, dropping the old one and
    renaming the copy (Alembic's batch mode). With foreign keys on, dropping the old table
    runs every ``ON DELETE`` that points at it: a rebuilt ``users`` would lose every role
    grant and session, and set every owner to null. The pragma only takes effect outside a
    transaction, so it is set on the driver's connection before the migration's
    transaction begins; before that transaction commits, ``foreign_key_check`` proves that
    no reference was left dangling.
    """
    driver = connection.connection.dbapi_connection
    assert driver is not None
    cursor = driver.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys=OFF")
        with connection.begin():
            work(alembic_config(pm, connection))
            dangling = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
            if dangling:
                table, row, parent, _ = dangling[0]
                raise RuntimeError(
                    f"the migration left {len(dangling)} reference(s) dangling, such as "
                    f"{table} row {row} to {parent}; nothing was changed"
                )
    finally:
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


async def upgrade(db: Database, pm: CRMPluginManager) -> None:
    """Upgrade core and every enabled plugin to its head."""

    def work(config: Config) -> None:
        for migrations in enabled_migrations(pm):
            command.upgrade(config, f"{migrations.branch}@head")

    await _run(db, pm, work)


async def downgrade(db: Database, pm: CRMPluginManager, target: str = "base") -> None:
    """Downgrade to ``target`` (``base`` removes every module's tables)."""
    await _run(db, pm, lambda config: command.downgrade(config, target))


async def current_heads(db: Database) -> set[str]:
    async with db.engine.connect() as connection:

        def read(sync_connection: Connection) -> set[str]:
            return set(MigrationContext.configure(sync_connection).get_current_heads())

        return await connection.run_sync(read)


async def at_head(db: Database, pm: CRMPluginManager) -> bool:
    """True when core and every enabled plugin are migrated to head."""
    return await HeadCheck(pm).at_head(db)


async def tables_with_rows(db: Database, pm: CRMPluginManager) -> list[str]:
    """The enabled modules' tables that hold at least one row.

    Tables whose ``info`` says ``seeded`` (rows the migrations themselves insert, such as the
    built-in roles) do not count.
    """
    names = owned_tables(pm)
    filled: list[str] = []
    async with db.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            if table.info.get("seeded"):
                continue
            if table.name in names and await connection.scalar(select(exists().select_from(table))):
                filled.append(table.name)
    return filled
