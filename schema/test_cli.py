"""The ``crm`` command line, run in-process with the real database file."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from schema.cli import cli

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
    assert "installed: fixture" in result.output


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
    import types as pytypes

    import typer

    from core import hookimpl
    from core.plugins import PluginError, build_plugin_manager
    from schema.cli import add_plugin_commands

    def crm_cli_commands(cli: typer.Typer) -> None:
        @cli.command("migrate")
        def my_migrate() -> None:
            """A second migrate."""

    clash = pytypes.SimpleNamespace(crm_cli_commands=hookimpl(crm_cli_commands))
    pm = build_plugin_manager(["clash"], load_entrypoints=False, extra_plugins={"clash": clash})
    app = typer.Typer()

    @app.command()
    def migrate() -> None:
        """Core's migrate."""

    with pytest.raises(PluginError, match="'migrate' is added by both 'core' and 'clash'"):
        add_plugin_commands(pm, app)


def test_plugin_commands_are_added() -> None:
    import types as pytypes

    import typer

    from core import hookimpl
    from core.plugins import build_plugin_manager
    from schema.cli import add_plugin_commands

    def crm_cli_commands(cli: typer.Typer) -> None:
        group = typer.Typer()

        @group.command()
        def hello() -> None:
            typer.echo("hello from the plugin")

        cli.add_typer(group, name="extra")

    plugin = pytypes.SimpleNamespace(crm_cli_commands=hookimpl(crm_cli_commands))
    pm = build_plugin_manager(["extra"], load_entrypoints=False, extra_plugins={"extra": plugin})
    app = typer.Typer()

    @app.command()
    def migrate() -> None:
        """Core's migrate."""

    add_plugin_commands(pm, app)
    result = runner.invoke(app, ["extra", "hello"])
    assert result.exit_code == 0, result.output
    assert "hello from the plugin" in result.output
