"""Migrations per module: up, down and up again; plugins added later; models == migrations."""

from __future__ import annotations

from collections.abc import Callable

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from core import migrate
from core.config import Settings
from core.db import Base, Database
from tests.support import plugin_manager

FIXTURE_TABLES = {"fixture_widgets", "fixture_widget_notes"}


async def table_names(db: Database) -> set[str]:
    async with db.engine.connect() as connection:
        return set(await connection.run_sync(lambda c: inspect(c).get_table_names()))


async def test_upgrade_downgrade_upgrade(settings: Settings, db: Database) -> None:
    pm = plugin_manager(settings)

    await migrate.upgrade(db, pm)
    assert await table_names(db) >= FIXTURE_TABLES
    assert await migrate.at_head(db, pm)

    await migrate.downgrade(db, pm)
    assert await table_names(db) <= {"alembic_version"}
    assert not await migrate.at_head(db, pm)

    await migrate.upgrade(db, pm)
    assert await table_names(db) >= FIXTURE_TABLES
    assert await migrate.at_head(db, pm)


async def test_upgrade_is_idempotent(settings: Settings, db: Database) -> None:
    pm = plugin_manager(settings)

    await migrate.upgrade(db, pm)
    await migrate.upgrade(db, pm)

    assert await migrate.at_head(db, pm)
    assert await migrate.current_heads(db) == {"fixture_0001"}


async def test_enabling_a_plugin_later_adds_only_its_tables(
    make_settings: Callable[..., Settings], db: Database
) -> None:
    core_only = plugin_manager(make_settings(plugins=()))
    await migrate.upgrade(db, core_only)
    before = await table_names(db)
    assert not FIXTURE_TABLES & before

    with_fixture = plugin_manager(make_settings(plugins=("fixture",)))
    assert not await migrate.at_head(db, with_fixture)
    await migrate.upgrade(db, with_fixture)

    assert await table_names(db) == before | FIXTURE_TABLES
    assert await migrate.at_head(db, with_fixture)
    # Disabling it again leaves its tables alone and core still counts as migrated.
    await migrate.upgrade(db, core_only)
    assert await table_names(db) == before | FIXTURE_TABLES
    assert await migrate.at_head(db, core_only)


async def test_models_and_migrations_agree(settings: Settings, db: Database) -> None:
    pm = plugin_manager(settings)
    await migrate.upgrade(db, pm)
    include = migrate.include_object_for(pm)

    def compare(connection: Connection) -> list[object]:
        context = MigrationContext.configure(
            connection, opts={"include_object": include, "compare_type": True}
        )
        return list(compare_metadata(context, Base.metadata))

    async with db.engine.connect() as connection:
        differences = await connection.run_sync(compare)

    assert differences == []


def test_owned_tables_follow_enabled_modules(make_settings: Callable[..., Settings]) -> None:
    assert migrate.owned_tables(plugin_manager(make_settings())) >= FIXTURE_TABLES
    assert not FIXTURE_TABLES & migrate.owned_tables(plugin_manager(make_settings(plugins=())))
