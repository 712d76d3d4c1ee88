"""The kit's migrated templates: a copy holds what migrating step by step gives, only
untouched databases are copied into, and the templates go when the session ends."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import inspect, text

from core import migrate
from core.db import Database
from core.host import CRMPluginManager
from schema import testkit_tools
from schema.testkit import model_drift
from schema.testkit_templates import Templates, session_templates
from schema.testkit_tools import POSTGRES_URL


async def table_names(db: Database) -> set[str]:
    async with db.engine.connect() as connection:
        return set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))


async def role_keys(db: Database) -> list[str]:
    async with db.read() as session:
        return list((await session.execute(text("SELECT key FROM roles ORDER BY key"))).scalars())


@pytest.fixture
async def templates(tmp_path: Path) -> AsyncIterator[Templates]:
    """Templates of the test's own, apart from the session's."""
    folder = tmp_path / "templates"
    folder.mkdir()
    made = Templates(folder)
    yield made
    await made.drop()


@asynccontextmanager
async def another_database(db: Database, tmp_path: Path) -> AsyncIterator[Database]:
    """An empty database on the backend of ``db``."""
    if db.dialect == "sqlite":
        other = Database(f"sqlite+aiosqlite:///{tmp_path / 'other.sqlite3'}")
        yield other
        await other.dispose()
        return
    async with testkit_tools.postgres_database() as url:
        other = Database(url)
        yield other
        await other.dispose()


async def test_a_copy_holds_what_migrating_gives(
    templates: Templates, db: Database, plugin_manager: CRMPluginManager, tmp_path: Path
) -> None:
    assert await templates.copy_into(db, plugin_manager)

    assert await migrate.at_head(db, plugin_manager)
    assert await model_drift(db, plugin_manager) == []
    async with another_database(db, tmp_path) as stepwise:
        await migrate.upgrade(stepwise, plugin_manager)
        assert await table_names(db) == await table_names(stepwise)
        assert await role_keys(db) == await role_keys(stepwise)
        assert await migrate.current_heads(db) == await migrate.current_heads(stepwise)
    assert len(templates.sqlite) + len(templates.postgres) == 1


async def test_databases_share_the_template_of_their_migrations(
    templates: Templates, db: Database, plugin_manager: CRMPluginManager, tmp_path: Path
) -> None:
    if db.dialect != "sqlite":
        pytest.skip("one more SQLite file is enough to show the sharing")
    second = Database(f"sqlite+aiosqlite:///{tmp_path / 'second.sqlite3'}")
    try:
        assert await templates.copy_into(db, plugin_manager)
        assert await templates.copy_into(second, plugin_manager)
        assert await migrate.at_head(second, plugin_manager)
    finally:
        await second.dispose()
    assert len(templates.sqlite) == 1


async def test_a_database_holding_tables_is_not_copied_into(
    templates: Templates, db: Database, plugin_manager: CRMPluginManager
) -> None:
    async with db.transaction() as session:
        await session.execute(text("CREATE TABLE kept (id INTEGER PRIMARY KEY)"))

    assert not await templates.copy_into(db, plugin_manager)
    assert await table_names(db) == {"kept"}
    assert templates.sqlite == {}
    assert templates.postgres == {}


async def test_a_database_someone_is_connected_to_is_not_copied_into(
    templates: Templates, db: Database, plugin_manager: CRMPluginManager
) -> None:
    other = Database(db.url)
    try:
        async with other.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
            assert not await templates.copy_into(db, plugin_manager)
    finally:
        await other.dispose()
    assert await table_names(db) == set()


@pytest.mark.skipif(not POSTGRES_URL, reason="CRM_TEST_POSTGRES_URL not set")
async def test_only_the_kits_own_databases_are_replaced(
    templates: Templates, plugin_manager: CRMPluginManager
) -> None:
    stranger = Database(testkit_tools.async_url_for("crm_not_made_by_the_kit"))
    try:
        assert not await templates.copy_into(stranger, plugin_manager)
    finally:
        await stranger.dispose()


@pytest.mark.skipif(not POSTGRES_URL, reason="CRM_TEST_POSTGRES_URL not set")
async def test_the_session_drops_its_postgresql_templates(
    tmp_path: Path, plugin_manager: CRMPluginManager
) -> None:
    async with testkit_tools.postgres_database() as url:
        database = Database(url)
        with session_templates(tmp_path) as templates:
            assert await templates.copy_into(database, plugin_manager)
            made = list(templates.made_postgres)
        await database.dispose()
    assert made
    admin = await asyncpg.connect(testkit_tools.dsn_for())
    try:
        left = await admin.fetch("SELECT datname FROM pg_database WHERE datname = ANY($1)", made)
    finally:
        await admin.close()
    assert left == []
