"""The ``crm`` command line (typer): serve, migrate, demo, export-schema, plugins."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Coroutine
from typing import Annotated, Any, NoReturn, TypeVar

import pluggy
import typer
from rich.console import Console
from rich.progress import Progress

from core import migrate as migrations
from core.config import ConfigError, Settings, load_settings
from core.db import Database
from core.plugins import PluginError, build_plugin_manager, enabled_plugin_names, maybe_await
from schema.builder import SchemaConflictError, build_schema

T = TypeVar("T")

cli = typer.Typer(
    name="crm",
    help="A GraphQL-first CRM with plugin modules.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console(stderr=True, soft_wrap=True)


def _fail(message: str) -> NoReturn:
    console.print(f"[red]error:[/red] {message}", highlight=False)
    raise typer.Exit(2)


def _settings() -> Settings:
    try:
        return load_settings()
    except ConfigError as exc:
        _fail(str(exc))


def _run(coroutine_factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    try:
        return asyncio.run(coroutine_factory())
    except (ConfigError, PluginError, SchemaConflictError) as exc:
        _fail(str(exc))


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
    reload: Annotated[bool, typer.Option(help="Restart on code changes (development).")] = False,
) -> None:
    """Serve the GraphQL API over HTTP (uvicorn)."""
    import uvicorn

    settings = _settings()
    try:  # fail here, with a clear message, rather than in every worker
        build_schema(build_plugin_manager(settings.enabled_plugins), settings)
    except (PluginError, SchemaConflictError) as exc:
        _fail(str(exc))
    console.print(f"Serving http://{host}:{port}/graphql", highlight=False)
    uvicorn.run(
        "schema.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        reload=reload,
        access_log=False,
        log_level="info",
    )


@cli.command()
def migrate() -> None:
    """Bring core and every enabled plugin's tables up to date."""
    settings = _settings()

    async def work() -> None:
        pm = build_plugin_manager(settings.enabled_plugins)
        db = Database(settings.resolved_database_url)
        try:
            await migrations.upgrade(db, pm)
        finally:
            await db.dispose()
        modules = ", ".join(["core", *enabled_plugin_names(pm)])
        console.print(f"Migrated: {modules}", highlight=False)

    _run(work)


@cli.command()
def demo(
    size: Annotated[
        int, typer.Option(min=1, max=1_000_000, help="How many customers to make.")
    ] = 50,
    if_empty: Annotated[
        bool, typer.Option("--if-empty", help="Do nothing (and succeed) if data exists.")
    ] = False,
) -> None:
    """Load the demo data set of core and every enabled plugin into an empty database."""
    settings = _settings()

    async def work() -> None:
        pm = build_plugin_manager(settings.enabled_plugins)
        db = Database(settings.resolved_database_url)
        try:
            await migrations.upgrade(db, pm)
            filled = await migrations.tables_with_rows(db, pm)
            if filled:
                if if_empty:
                    console.print("The database already holds data; no demo data loaded.")
                    return
                _fail(
                    "demo data loads into an empty database; these tables hold rows: "
                    + ", ".join(sorted(filled))
                )
            impls = pm.hook.crm_demo_data.get_hookimpls()  # core first
            if not impls:
                console.print("No enabled module provides demo data.")
                return
            with Progress(console=console) as progress:
                task = progress.add_task("Demo data", total=len(impls))
                async with db.transaction() as session:
                    for impl in impls:
                        progress.update(task, description=f"Demo data: {impl.plugin_name}")
                        args = {"session": session, "size": size}
                        await maybe_await(impl.function(**{k: args[k] for k in impl.argnames}))
                        progress.advance(task)
        finally:
            await db.dispose()

    _run(work)


@cli.command("export-schema")
def export_schema() -> None:
    """Print the GraphQL schema (SDL) of core and the enabled plugins."""
    settings = _settings()
    try:
        schema = build_schema(build_plugin_manager(settings.enabled_plugins), settings)
    except (PluginError, SchemaConflictError) as exc:
        _fail(str(exc))
    sys.stdout.write(schema.as_str() + "\n")


@cli.command()
def plugins() -> None:
    """List installed plugins: name, version, enabled or disabled."""
    settings = _settings()
    try:
        pm = build_plugin_manager(settings.enabled_plugins)
    except PluginError as exc:
        _fail(str(exc))
    enabled = set(enabled_plugin_names(pm))
    if not pm.installed:
        console.print("No plugins installed.")
    for name, plugin in sorted(pm.installed.items()):
        state = "enabled" if name in enabled else "disabled"
        typer.echo(f"{name}\t{plugin.version}\t{state}")


def _register_plugin_commands() -> None:
    """Let enabled plugins add commands; a broken configuration leaves core's only."""
    try:
        settings = load_settings()
        pm = build_plugin_manager(settings.enabled_plugins)
    except (ConfigError, PluginError):
        return
    try:
        add_plugin_commands(pm, cli)
    except PluginError as exc:
        _fail(str(exc))


def _command_names(app: typer.Typer, skip_commands: int = 0, skip_groups: int = 0) -> list[str]:
    """Names of ``app``'s commands and groups, past the first ``skip_*`` of each."""
    names: list[str] = []
    for command in app.registered_commands[skip_commands:]:
        callback = command.callback
        default = callback.__name__.replace("_", "-") if callback is not None else ""
        names.append(command.name or default)
    names.extend(group.name or "" for group in app.registered_groups[skip_groups:])
    return names


def add_plugin_commands(pm: pluggy.PluginManager, app: typer.Typer) -> None:
    """Call each plugin's ``crm_cli_commands``; a name taken twice stops with both owners."""
    owners = dict.fromkeys(_command_names(app), "core")
    for impl in pm.hook.crm_cli_commands.get_hookimpls():
        commands, groups = len(app.registered_commands), len(app.registered_groups)
        impl.function(cli=app)
        for name in _command_names(app, commands, groups):
            if name in owners:
                raise PluginError(
                    f"command {name!r} is added by both {owners[name]!r} and {impl.plugin_name!r}"
                )
            owners[name] = impl.plugin_name


def main() -> None:
    _register_plugin_commands()
    cli()
