"""The ``crm`` command line (typer): serve, migrate, demo, createuser, export-schema, plugins."""

from __future__ import annotations

import copy
import sys
from typing import Annotated, TypeVar

import pluggy
import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from core import migrate as migrations
from core.audit import Actor
from core.catalog import ADMINISTRATOR
from core.config import ConfigError, load_settings
from core.db import Database
from core.demo import load_all
from core.errors import UserErrors
from core.host import (
    PluginError,
    enabled_plugin_names,
    module_callers,
    module_label,
)
from core.i18n import translator
from core.identity import service
from core.identity.demo import DEMO_PASSWORD, DemoUser, demo_logins
from schema.builder import SchemaConflictError, build_schema
from schema.cli_jobs import import_cli, jobs_cli, worker
from schema.cli_persisted import persisted_cli
from schema.cli_support import console, fail, local, run_async, say, settings_or_fail
from schema.modules import build_plugin_manager
from schema.runner import run_command

T = TypeVar("T")
_ = translator(__name__)

cli = typer.Typer(
    name="crm",
    help="A GraphQL-first CRM with plugin modules.",
    no_args_is_help=True,
    add_completion=False,
)
cli.add_typer(jobs_cli, name="jobs")
cli.add_typer(import_cli, name="import")
cli.command("worker")(worker)
cli.add_typer(persisted_cli, name="persisted-queries")


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
    reload: Annotated[bool, typer.Option(help="Restart on code changes (development).")] = False,
) -> None:
    """Serve the GraphQL API over HTTP (uvicorn)."""
    import uvicorn

    settings = settings_or_fail()
    try:  # fail here, with a clear message, rather than in every worker
        build_schema(build_plugin_manager(settings.enabled_plugins), settings)
    except (PluginError, SchemaConflictError) as exc:
        fail(str(exc))
    say(_("Serving http://{host}:{port}/graphql", host=host, port=port))
    uvicorn.run(
        "schema.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        reload=reload,
        # The app itself decides whom to believe (CRM_TRUSTED_PROXIES); uvicorn's own
        # proxy handling would trust X-Forwarded-For from any local peer.
        proxy_headers=False,
        access_log=False,
        log_level="info",
    )


@cli.command()
def migrate() -> None:
    """Bring core and every enabled plugin's tables up to date."""
    settings = settings_or_fail()

    async def work() -> None:
        pm = build_plugin_manager(settings.enabled_plugins)
        db = Database.from_settings(settings)
        try:
            await migrations.upgrade(db, pm)
        finally:
            await db.dispose()
        modules = ", ".join(["core", *enabled_plugin_names(pm)])
        say(_("Migrated: {modules}", modules=modules))

    run_async(work)


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
    settings = settings_or_fail()

    async def work() -> None:
        pm = build_plugin_manager(settings.enabled_plugins)
        db = Database.from_settings(settings)
        try:
            await migrations.upgrade(db, pm)
            filled = await migrations.tables_with_rows(db, pm)
            if filled:
                if if_empty:
                    say(_("The database already holds data; no demo data loaded."))
                    return
                fail(
                    _(
                        "demo data loads into an empty database; these tables hold rows: {tables}",
                        tables=", ".join(sorted(filled)),
                    )
                )
            modules = len(module_callers(pm, "crm_demo_data"))
            if not modules:
                say(_("No enabled module provides demo data."))
                return
            with Progress(console=console) as progress:
                task = progress.add_task("Demo data", total=modules)

                def advance(name: str) -> None:
                    progress.update(task, description=f"Demo data: {name}")
                    progress.advance(task)

                await load_all(db, pm, settings, size, on_module=advance)
            async with db.read() as session:
                _print_demo_logins(await demo_logins(session))
        finally:
            await db.dispose()

    run_async(work)


def _print_demo_logins(logins: list[DemoUser]) -> None:
    table = Table(title=f"Demo logins (password for all: {DEMO_PASSWORD})")
    table.add_column("email")
    table.add_column("role")
    table.add_column("team")
    for user in logins:
        table.add_row(user.email, user.role, user.team or "")
    Console(soft_wrap=True).print(table)


@cli.command()
def createuser(
    email: Annotated[str, typer.Option(help="Sign-in email (unique, case-insensitive).")],
    name: Annotated[str, typer.Option(help="Display name.")],
    password: Annotated[
        str | None,
        typer.Option(
            envvar="CRM_PASSWORD",
            help="The password; prompted for when neither this nor CRM_PASSWORD is given.",
            show_envvar=True,
        ),
    ] = None,
    role: Annotated[
        list[str] | None,
        typer.Option("--role", help="A role key (repeatable), e.g. SALES_REPRESENTATIVE."),
    ] = None,
    admin: Annotated[bool, typer.Option("--admin", help="Make the user ADMINISTRATOR.")] = False,
    team: Annotated[
        str | None, typer.Option(help="Team name; created when it does not exist.")
    ] = None,
) -> None:
    """Create a user (the first administrator, or users for scripts)."""
    settings = settings_or_fail()
    if password is None:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    roles = list(role or []) + ([ADMINISTRATOR] if admin else [])

    async def work() -> None:
        pm = build_plugin_manager(settings.enabled_plugins)
        db = Database.from_settings(settings)
        try:
            if not await migrations.at_head(db, pm):
                fail(_("the database is not migrated; run `crm migrate` first"))
            password_hash = await service.hash_ahead(settings, password)  # before the transaction
            async with db.transaction() as session:
                actor = Actor(label="crm createuser")
                team_row = await service.team_named(session, team, actor) if team else None
                role_rows = await service.roles_by_key(session, roles, "role")
                user = await service.add_user(
                    session,
                    settings,
                    actor,
                    service.NewUser(
                        email=email,
                        name=name,
                        password=password,
                        password_hash=password_hash,
                        team_id=team_row.id if team_row else None,
                    ),
                    role_rows,
                )
                created, user_id = user.email, user.id
        except UserErrors as exc:
            fail(
                "; ".join(
                    f"--{(e.field or 'input').lower()}: {local(e.message)}" for e in exc.errors
                )
            )
        finally:
            await db.dispose()
        held = ", ".join(sorted(r.upper() for r in roles)) or _("no roles")
        say(
            _(
                "Created user {email} (id {id}) with {roles}",
                email=created,
                id=user_id,
                roles=held,
            )
        )

    run_async(work)


@cli.command("export-schema")
def export_schema() -> None:
    """Print the GraphQL schema (SDL) of core and the enabled plugins."""
    settings = settings_or_fail()
    try:
        schema = build_schema(build_plugin_manager(settings.enabled_plugins), settings)
    except (PluginError, SchemaConflictError) as exc:
        fail(str(exc))
    sys.stdout.write(schema.as_str() + "\n")


@cli.command()
def plugins() -> None:
    """List installed plugins: name, version, enabled or disabled."""
    settings = settings_or_fail()
    try:
        pm = build_plugin_manager(settings.enabled_plugins)
    except PluginError as exc:
        fail(str(exc))
    enabled = set(enabled_plugin_names(pm))
    if not pm.installed:
        say(_("No plugins installed."))
    for name, plugin in sorted(pm.installed.items()):
        state = "enabled" if name in enabled else "disabled"
        typer.echo(f"{name}\t{plugin.version}\t{state}")


def command_line(pm: pluggy.PluginManager) -> typer.Typer:
    """``crm``: core's commands plus those the modules ``pm`` enables add (a copy of
    :data:`cli`, so building it twice adds nothing twice)."""
    app = copy.copy(cli)
    app.registered_commands = list(cli.registered_commands)
    app.registered_groups = list(cli.registered_groups)
    add_plugin_commands(pm, app)
    return app


def _with_plugin_commands() -> typer.Typer:
    """The command line of the configured plugins; a broken configuration leaves core's
    commands only (they report it)."""
    try:
        settings = load_settings()
        pm = build_plugin_manager(settings.enabled_plugins)
    except (ConfigError, PluginError):
        return cli
    try:
        return command_line(pm)
    except PluginError as exc:
        fail(str(exc))


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
    for plugin, caller in module_callers(pm, "crm_cli_commands"):
        commands, groups = len(app.registered_commands), len(app.registered_groups)
        caller(cli=app, run=run_command)
        label = module_label(pm, plugin)
        for name in _command_names(app, commands, groups):
            if name in owners:
                raise PluginError(
                    f"command {name!r} is added by both {owners[name]!r} and {label!r}"
                )
            owners[name] = label


def main() -> None:
    try:
        app = _with_plugin_commands()
    except typer.Exit as exc:  # two plugins add the same command: reported, exit status 2
        sys.exit(exc.exit_code)
    app()


if __name__ == "__main__":
    main()
