"""The ``crm`` command line, run in-process with the real database file."""

from __future__ import annotations

import asyncio
import importlib
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner, Result

from core.audit import AuditEvent
from core.catalog import BUILTIN_ROLES
from core.config import load_settings
from core.db import Database
from core.identity.demo import DEMO_PASSWORD, demo_users
from core.identity.models import User
from schema.cli import cli
from schema.modules import build_plugin_manager
from tests.support import Api, HookSet, running_app

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CRM_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("CRM_DATABASE_URL", raising=False)
    monkeypatch.delenv("CRM_PLUGINS", raising=False)
    return tmp_path


@pytest.fixture
def fixture_installed(tmp_path: Path) -> Iterator[None]:
    """Install the test fixture plugin under the ``crm.plugins`` entry-point group."""
    site = tmp_path / "site"
    dist_info = site / "crm_fixture-0.0.1.dist-info"
    dist_info.mkdir(parents=True)
    (dist_info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: crm-fixture\nVersion: 0.0.1\n"
    )
    (dist_info / "entry_points.txt").write_text(
        "[crm.plugins]\nfixture = tests.fixture_plugin:plugin\n"
    )
    sys.path.insert(0, str(site))
    importlib.invalidate_caches()
    yield
    sys.path.remove(str(site))
    importlib.invalidate_caches()


def test_plugins_lists_installed_with_state(
    env: Path, fixture_installed: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = runner.invoke(cli, ["plugins"])
    assert result.exit_code == 0, result.output
    assert "fixture\t0.0.1\tenabled" in result.output

    monkeypatch.setenv("CRM_PLUGINS", "")
    result = runner.invoke(cli, ["plugins"])
    assert "fixture\t0.0.1\tdisabled" in result.output


def test_unknown_plugin_stops_with_the_installed_list(
    env: Path, fixture_installed: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRM_PLUGINS", "fixture,nosuch")

    result = runner.invoke(cli, ["plugins"])

    assert result.exit_code == 2
    assert "nosuch" in result.output
    installed = result.output.split("(installed: ", 1)[1].split(")", 1)[0].split(", ")
    assert "fixture" in installed


def test_bad_setting_stops_with_the_variable_named(
    env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRM_MAX_ALIASES", "many")

    result = runner.invoke(cli, ["migrate"])

    assert result.exit_code == 2
    assert "CRM_MAX_ALIASES='many'" in result.output


def test_export_schema_prints_sdl(env: Path, fixture_installed: None) -> None:
    result = runner.invoke(cli, ["export-schema"])

    assert result.exit_code == 0, result.output
    assert "type Query {" in result.output
    assert "createWidget(input: CreateWidgetInput!)" in result.output


def test_migrate_then_demo_then_demo_again(env: Path, fixture_installed: None) -> None:
    result = runner.invoke(cli, ["migrate"])
    assert result.exit_code == 0, result.output
    assert "Migrated: core, fixture" in result.output
    assert (env / "data" / "crm.sqlite3").exists()

    result = runner.invoke(cli, ["demo", "--size", "5"])
    assert result.exit_code == 0, result.output

    again = runner.invoke(cli, ["demo", "--size", "5"])
    assert again.exit_code == 2
    assert "empty database" in again.output
    assert "fixture_widgets" in again.output

    skipped = runner.invoke(cli, ["demo", "--if-empty"])
    assert skipped.exit_code == 0
    assert "already holds data" in skipped.output


def test_plugin_command_clashing_with_core_is_refused() -> None:

    import typer

    from core import hookimpl
    from core.host import PluginError
    from schema.cli import add_plugin_commands
    from schema.modules import build_plugin_manager

    def crm_cli_commands(cli: typer.Typer) -> None:
        @cli.command("migrate")
        def my_migrate() -> None:
            """A second migrate."""

    clash = HookSet(crm_cli_commands=hookimpl(crm_cli_commands))
    pm = build_plugin_manager(["clash"], load_entrypoints=False, extra_plugins={"clash": clash})
    app = typer.Typer()

    @app.command()
    def migrate() -> None:
        """Core's migrate."""

    with pytest.raises(PluginError, match="'migrate' is added by both 'core' and 'clash'"):
        add_plugin_commands(pm, app)


def test_plugin_commands_are_added() -> None:

    import typer

    from core import hookimpl
    from schema.cli import add_plugin_commands
    from schema.modules import build_plugin_manager

    def crm_cli_commands(cli: typer.Typer) -> None:
        group = typer.Typer()

        @group.command()
        def hello() -> None:
            typer.echo("hello from the plugin")

        cli.add_typer(group, name="extra")

    plugin = HookSet(crm_cli_commands=hookimpl(crm_cli_commands))
    pm = build_plugin_manager(["extra"], load_entrypoints=False, extra_plugins={"extra": plugin})
    app = typer.Typer()

    @app.command()
    def migrate() -> None:
        """Core's migrate."""

    add_plugin_commands(pm, app)
    result = runner.invoke(app, ["extra", "hello"])
    assert result.exit_code == 0, result.output
    assert "hello from the plugin" in result.output


# --- createuser and demo, against both backends ---------------------------------------------

STRONG = "Quiet-Harbour-Lantern-73"

LOGGED_IN_AS = "{ viewer { email name roles { key } team { name } } }"


@pytest.fixture
def db_env(env: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """``env`` with a real database (SQLite file, or PostgreSQL when configured), core only."""
    monkeypatch.setenv("CRM_DATABASE_URL", database_url)
    monkeypatch.setenv("CRM_PLUGINS", "")
    monkeypatch.delenv("CRM_PASSWORD", raising=False)
    return database_url


async def crm(*args: str, input: str | None = None) -> Result:
    """Run ``crm`` in a worker thread: the command runs its own event loop."""

    def invoke() -> Result:
        return runner.invoke(cli, list(args), input=input)

    return await asyncio.to_thread(invoke)


async def migrated() -> None:
    result = await crm("migrate")
    assert result.exit_code == 0, result.output


@asynccontextmanager
async def app() -> AsyncIterator[Api]:
    """The HTTP app over the database the environment names (no migration of its own)."""
    settings = load_settings(login_slowdown_seconds=0)
    pm = build_plugin_manager(settings.enabled_plugins, load_entrypoints=False)
    async with running_app(settings, pm=pm, migrate=False) as api:
        yield api


async def viewer_after_login(email: str, password: str) -> dict[str, Any]:
    """Sign in through the app's ``login`` mutation and return ``viewer``."""
    async with app() as api:
        signed_in = await api.login(email, password)
        body = await signed_in.gql(LOGGED_IN_AS)
    assert "errors" not in body, body
    viewer: dict[str, Any] = body["data"]["viewer"]
    return viewer


async def stored_users() -> list[User]:
    db = Database(load_settings().resolved_database_url)
    try:
        async with db.read() as session:
            return list((await session.scalars(select(User).order_by(User.id))).all())
    finally:
        await db.dispose()


async def audit_actions() -> list[tuple[str, str | None]]:
    db = Database(load_settings().resolved_database_url)
    try:
        async with db.read() as session:
            rows = await session.execute(
                select(AuditEvent.action, AuditEvent.actor_label).order_by(AuditEvent.id)
            )
            return [(action, label) for action, label in rows.all()]
    finally:
        await db.dispose()


async def test_createuser_with_password_makes_an_administrator_who_can_log_in(
    db_env: str,
) -> None:
    await migrated()

    result = await crm(
        "createuser", "--email", " Ada@Example.COM ", "--name", "Ada Lovelace",
        "--password", STRONG, "--admin",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    assert "Created user ada@example.com (id 1) with ADMINISTRATOR" in result.output
    assert STRONG not in result.output
    [user] = await stored_users()
    assert user.password_hash is not None
    assert user.password_hash.startswith("$argon2id$")
    assert STRONG not in user.password_hash
    assert ("user.created", "crm createuser") in await audit_actions()
    assert await viewer_after_login("ada@example.com", STRONG) == {
        "email": "ada@example.com",
        "name": "Ada Lovelace",
        "roles": [{"key": "ADMINISTRATOR"}],
        "team": None,
    }


async def test_createuser_reads_the_password_from_crm_password(
    db_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    await migrated()
    monkeypatch.setenv("CRM_PASSWORD", STRONG)

    result = await crm("createuser", "--email", "env@example.com", "--name", "Eve Env")

    assert result.exit_code == 0, result.output
    assert "Password:" not in result.output  # no prompt
    assert "Created user env@example.com" in result.output
    assert "with no roles" in result.output
    viewer = await viewer_after_login("env@example.com", STRONG)
    assert viewer["roles"] == []


async def test_createuser_prompts_for_the_password_twice(db_env: str) -> None:
    await migrated()

    result = await crm(
        "createuser",
        "--email",
        "prompted@example.com",
        "--name",
        "Pat Prompted",
        "--role",
        "FINANCE",
        input=f"{STRONG}\nnot-the-same-one\n{STRONG}\n{STRONG}\n",
    )

    assert result.exit_code == 0, result.output
    assert "Password:" in result.output
    assert "do not match" in result.output
    assert "Created user prompted@example.com" in result.output
    assert STRONG not in result.output  # hidden input is not echoed
    viewer = await viewer_after_login("prompted@example.com", STRONG)
    assert viewer["roles"] == [{"key": "FINANCE"}]


async def test_createuser_with_roles_and_a_team(db_env: str) -> None:
    await migrated()

    first = await crm(
        "createuser", "--email", "rep@example.com", "--name", "Riley Rep",
        "--password", STRONG, "--role", "sales_representative", "--role", "FINANCE",
        "--team", "North",
    )  # fmt: skip
    second = await crm(
        "createuser", "--email", "mate@example.com", "--name", "Morgan Mate",
        "--password", STRONG, "--role", "CUSTOMER_MANAGER", "--team", " north ",
    )  # fmt: skip

    assert first.exit_code == 0, first.output
    assert "with FINANCE, SALES_REPRESENTATIVE" in first.output
    assert second.exit_code == 0, second.output
    rep = await viewer_after_login("rep@example.com", STRONG)
    assert rep["roles"] == [{"key": "FINANCE"}, {"key": "SALES_REPRESENTATIVE"}]
    assert rep["team"] == {"name": "North"}
    # An existing team is found by name, whatever its case and spacing.
    mate = await viewer_after_login("mate@example.com", STRONG)
    assert mate["team"] == {"name": "North"}
    users = await stored_users()
    assert len({user.team_id for user in users}) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            ["--email", "weak@example.com", "--password", "password123"],
            "--password: is too weak",
            id="weak-password",
        ),
        pytest.param(
            ["--email", "short@example.com", "--password", "Ab1-x"],
            "--password: must be at least 10 characters",
            id="short-password",
        ),
        pytest.param(
            ["--email", "grace.hopper@example.com", "--password", "Hopper-Lantern-Walrus-9"],
            "--password: must not contain your name or email address",
            id="password-with-name",
        ),
        pytest.param(
            ["--email", "not-an-email", "--password", STRONG],
            "--email: is not a valid email address",
            id="bad-email",
        ),
        pytest.param(
            ["--email", "role@example.com", "--password", STRONG, "--role", "NOPE"],
            "--role: unknown role NOPE (roles: ADMINISTRATOR",
            id="unknown-role",
        ),
    ],
)
async def test_createuser_refuses_bad_input_naming_the_option(
    db_env: str, args: list[str], message: str
) -> None:
    await migrated()

    result = await crm("createuser", "--name", "Grace Hopper", *args)

    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Created user" not in result.output
    assert await stored_users() == []


async def test_createuser_refuses_a_taken_email(db_env: str) -> None:
    await migrated()
    args = ["createuser", "--email", "ada@example.com", "--name", "Ada", "--password", STRONG]
    assert (await crm(*args)).exit_code == 0

    again = await crm(*[a.replace("ada@", "ADA@") for a in args])

    assert again.exit_code == 2
    assert "--email: another user has this email address" in again.output
    assert len(await stored_users()) == 1


async def test_createuser_needs_a_migrated_database(db_env: str) -> None:
    result = await crm(
        "createuser", "--email", "ada@example.com", "--name", "Ada", "--password", STRONG
    )

    assert result.exit_code == 2
    assert "not migrated; run `crm migrate` first" in result.output


async def test_demo_makes_a_user_in_every_built_in_role_and_prints_the_logins(
    db_env: str,
) -> None:
    result = await crm("demo", "--size", "5")

    assert result.exit_code == 0, result.output
    assert f"password for all: {DEMO_PASSWORD}" in result.output
    expected = demo_users(5)
    for demo_user in expected:
        assert demo_user.email in result.output
    users = await stored_users()
    assert sorted(user.email for user in users) == sorted(u.email for u in expected)
    held = {u.role for u in expected}
    assert held == {role.key for role in BUILTIN_ROLES}
    for demo_user in expected:
        assert demo_user.role in result.output
    admin = await viewer_after_login("admin@demo.example", DEMO_PASSWORD)
    assert admin["roles"] == [{"key": "ADMINISTRATOR"}]
    rep = await viewer_after_login("sales1@demo.example", DEMO_PASSWORD)
    assert rep["roles"] == [{"key": "SALES_REPRESENTATIVE"}]
    assert rep["team"] == {"name": "North"}


async def test_demo_if_empty_on_a_filled_database_loads_nothing(db_env: str) -> None:
    # Given a real deployment: migrated, with its first administrator
    await migrated()
    created = await crm(
        "createuser", "--email", "first@example.com", "--name", "First Admin",
        "--password", STRONG, "--admin",
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    before = (await stored_users(), await audit_actions())

    # When the demo is asked for only if the database is empty
    skipped = await crm("demo", "--if-empty")

    # Then it succeeds, loads nothing and prints no demo logins
    assert skipped.exit_code == 0, skipped.output
    assert "already holds data; no demo data loaded" in skipped.output
    assert DEMO_PASSWORD not in skipped.output
    assert "admin@demo.example" not in skipped.output
    after = (await stored_users(), await audit_actions())
    assert [u.email for u in after[0]] == [u.email for u in before[0]] == ["first@example.com"]
    assert after[1] == before[1]

    # And without --if-empty it refuses, naming the tables that hold rows
    refused = await crm("demo")
    assert refused.exit_code == 2
    assert "demo data loads into an empty database" in refused.output
    assert "users" in refused.output
    assert [u.email for u in await stored_users()] == ["first@example.com"]


async def test_demo_prints_the_logins_the_plugins_add_with_their_teams(
    db_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRM_PLUGINS", "tickets")
    result = await crm("demo", "--size", "5")

    assert result.exit_code == 0, result.output
    rows = {
        cells[0]: cells[1:]
        for line in result.output.splitlines()
        if line.startswith("│") and (cells := [cell.strip() for cell in line.strip("│").split("│")])
    }
    # The tickets plugin's second support representative, and both in its Support team.
    assert rows["helpdesk@demo.example"] == ["SUPPORT_REPRESENTATIVE", "Support"]
    assert rows["support@demo.example"] == ["SUPPORT_REPRESENTATIVE", "Support"]
    assert rows["sales1@demo.example"] == ["SALES_REPRESENTATIVE", "North"]
    assert rows["admin@demo.example"] == ["ADMINISTRATOR", ""]
