"""The installed test kit, used as a plugin author uses it: from a project of its own."""

from __future__ import annotations

import pytest

INI = """
[pytest]
asyncio_mode = auto
asyncio_default_fixture_loop_scope = function
"""

CONFTEST = """
import pytest


@pytest.fixture
def crm_plugins():
    return ()  # core only
"""

PLUGIN_TESTS = """
import datetime as dt

from sqlalchemy import text

from schema.testkit import migrate_down, migrate_up, model_drift, running_app, tables_with_rows


async def test_signed_in_roles_statements_and_clock(api, count_statements, clock):
    rep = await api.as_role("SALES_REPRESENTATIVE")
    counter = count_statements(api.db)
    body = await rep.gql("{ viewer { email roles { key } } }")

    assert body["data"]["viewer"]["roles"] == [{"key": "SALES_REPRESENTATIVE"}]
    assert body["data"]["viewer"]["email"].startswith("sales_representative.")
    assert counter.count >= 2
    start = clock()
    clock.advance(hours=2)
    assert clock() - start == dt.timedelta(hours=2)


async def test_migrations_up_and_down(db, plugin_manager):
    await migrate_up(db, plugin_manager)
    assert await tables_with_rows(db, plugin_manager) == []
    await migrate_down(db, plugin_manager)
    async with db.read() as session:
        left = await session.execute(text("SELECT name FROM sqlite_master WHERE name = 'users'"))
        assert left.first() is None


async def test_lasting_clients_outlive_the_apps_clock_moving(settings, clock):
    async with running_app(settings, clock=clock) as app:
        session = await app.as_role("FINANCE")
        lasting = await app.as_role("FINANCE", lasting=True)
        clock.advance(days=40)  # past the access token's and the session's lifetime
        expired = await session.gql("{ viewer { email } }")
        still = await lasting.gql("{ viewer { email } }")

    assert expired["errors"][0]["extensions"]["code"] == "SESSION_ENDED"
    assert still["data"]["viewer"]["email"] == lasting.email


async def test_the_models_match_the_migrations(migrated_db, plugin_manager):
    assert await model_drift(migrated_db, plugin_manager) == []


async def test_crm_commands_run_against_the_tests_database(api, crm_cli):
    listed = await crm_cli("plugins")
    assert listed.exit_code == 0, listed.output
    assert "tickets\t0.1.0\tdisabled" in listed.output  # core only, as the conftest says


async def test_an_unknown_role_is_refused(api):
    try:
        await api.as_role("WIZARD")
    except ValueError as exc:
        assert "not a built-in role" in str(exc)
    else:
        raise AssertionError("an unknown role was accepted")
"""


def test_a_plugin_project_tests_with_the_installed_kit(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_plugin=PLUGIN_TESTS)

    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-q", "-k", "sqlite")

    result.assert_outcomes(passed=6)
