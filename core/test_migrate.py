"""Migrations per module: up, down and up again; plugins added later; models == migrations."""

from __future__ import annotations

from collections.abc import Callable

from alembic.script import ScriptDirectory
from sqlalchemy import inspect, select, text

from core import migrate
from core.catalog import BUILTIN_ROLES
from core.config import Settings
from core.db import Database
from core.host import CRMPluginManager
from core.identity.models import Role
from schema.testkit import model_drift
from tests.support import manager_for

FIXTURE_TABLES = {"fixture_widgets", "fixture_widget_notes"}
IDENTITY_TABLES = {
    "users",
    "teams",
    "roles",
    "role_grants",
    "user_roles",
    "auth_sessions",
    "refresh_tokens",
    "api_tokens",
    "login_throttle",
    "audit_events",
}


async def role_keys(db: Database) -> set[str]:
    async with db.read() as session:
        return set((await session.scalars(select(Role.key))).all())


async def table_names(db: Database) -> set[str]:
    async with db.engine.connect() as connection:
        return set(await connection.run_sync(lambda c: inspect(c).get_table_names()))


CUSTOMER_TABLES = {"customers", "contacts", "tags", "customer_tags", "interactions", "tasks"}
TICKET_TABLES = {"tickets", "ticket_events", "ticket_sla_policies", "ticket_routing_rules"}
EVERY_PLUGIN = ("fixture", "tickets")


async def test_upgrade_downgrade_upgrade(
    make_settings: Callable[..., Settings], db: Database
) -> None:
    pm = manager_for(make_settings(plugins=EVERY_PLUGIN))
    tables = FIXTURE_TABLES | IDENTITY_TABLES | CUSTOMER_TABLES | TICKET_TABLES

    await migrate.upgrade(db, pm)
    assert await table_names(db) >= tables
    assert await migrate.at_head(db, pm)
    # The migration seeds the built-in roles (their grants live in code).
    assert await role_keys(db) == {role.key for role in BUILTIN_ROLES}

    await migrate.downgrade(db, pm)
    assert await table_names(db) <= {"alembic_version"}
    assert not await migrate.at_head(db, pm)

    await migrate.upgrade(db, pm)
    assert await table_names(db) >= tables
    assert await migrate.at_head(db, pm)
    assert await role_keys(db) == {role.key for role in BUILTIN_ROLES}


def branch_heads(pm: CRMPluginManager) -> set[str]:
    """The head revision of each enabled module's branch, read from the version scripts."""
    script = ScriptDirectory.from_config(migrate.alembic_config(pm))
    return {
        revision.revision
        for migrations in migrate.enabled_migrations(pm)
        for revision in script.get_revisions(f"{migrations.branch}@head")
        if revision is not None
    }


def test_the_fixture_branch_depends_on_the_core_revision_of_users(settings: Settings) -> None:
    script = ScriptDirectory.from_config(migrate.alembic_config(manager_for(settings)))
    fixture = script.get_revision("fixture_0001")
    identity = script.get_revision("core_0002")

    assert fixture is not None
    assert identity is not None
    assert fixture.dependencies == "core_0002"  # widgets reference users
    assert identity.down_revision == "core_0001"


async def test_upgrade_is_idempotent(settings: Settings, db: Database) -> None:
    pm = manager_for(settings)

    await migrate.upgrade(db, pm)
    heads = await migrate.current_heads(db)
    await migrate.upgrade(db, pm)

    assert await migrate.at_head(db, pm)
    assert await migrate.current_heads(db) == heads
    # Alembic records the newest revision of each line; every one is a branch head.
    assert "fixture_0001" in heads
    assert heads <= branch_heads(pm)
    assert branch_heads(pm) == {"fixture_0001"} | branch_heads(
        manager_for(settings.model_copy(update={"plugins": ""}))
    )


async def test_enabling_a_plugin_later_adds_only_its_tables(
    make_settings: Callable[..., Settings], db: Database
) -> None:
    core_only = manager_for(make_settings(plugins=()))
    await migrate.upgrade(db, core_only)
    before = await table_names(db)
    assert not FIXTURE_TABLES & before

    with_fixture = manager_for(make_settings(plugins=("fixture",)))
    assert not await migrate.at_head(db, with_fixture)
    await migrate.upgrade(db, with_fixture)

    assert await table_names(db) == before | FIXTURE_TABLES
    assert await migrate.at_head(db, with_fixture)
    # Disabling it again leaves its tables alone and core still counts as migrated.
    await migrate.upgrade(db, core_only)
    assert await table_names(db) == before | FIXTURE_TABLES
    assert await migrate.at_head(db, core_only)


async def test_models_and_migrations_agree(
    make_settings: Callable[..., Settings], db: Database
) -> None:
    pm = manager_for(make_settings(plugins=EVERY_PLUGIN))
    await migrate.upgrade(db, pm)
    assert await model_drift(db, pm) == []


def test_owned_tables_follow_enabled_modules(make_settings: Callable[..., Settings]) -> None:
    assert migrate.owned_tables(manager_for(make_settings())) >= FIXTURE_TABLES
    assert not FIXTURE_TABLES & migrate.owned_tables(manager_for(make_settings(plugins=())))


async def test_downgrades_that_rebuild_tables_keep_the_rows_that_point_at_them(
    make_settings: Callable[..., Settings], db: Database
) -> None:
    """On SQLite a downgrade that drops a column of ``users`` or ``contacts`` rebuilds the
    table; with foreign keys on, that would run every ON DELETE pointing at it (role grants
    and sessions gone, owners set to null). Migrations run with them off and checked."""
    pm = manager_for(make_settings(plugins=EVERY_PLUGIN))
    await migrate.upgrade(db, pm)
    async with db.engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO users (email, name, password_hash, is_active, created_at, "
                "updated_at, version) VALUES ('keep@example.com', 'Keep', 'x', true, "
                "'2026-12-04 00:00:00', '2026-12-04 00:00:00', 1)"
            )
        )
        user_id = await connection.scalar(text("SELECT id FROM users"))
        role_id = await connection.scalar(text("SELECT min(id) FROM roles"))
        await connection.execute(
            text("INSERT INTO user_roles (user_id, role_id) VALUES (:u, :r)"),
            {"u": user_id, "r": role_id},
        )

    await migrate.downgrade(db, pm, "core_0008")
    async with db.engine.connect() as connection:
        assert await connection.scalar(text("SELECT count(*) FROM user_roles")) == 1
        assert await connection.scalar(text("SELECT count(*) FROM users")) == 1
    await migrate.upgrade(db, pm)
    assert await migrate.at_head(db, pm)
