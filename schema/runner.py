"""The command runner handed to plugins' commands (``crm_cli_commands(cli, run)``)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import NoReturn, TypeVar

import typer
from rich.console import Console

from core import migrate
from core.config import ConfigError, load_settings
from core.db import Database, utcnow
from core.errors import UserErrors
from core.extension import CommandContext
from core.host import PluginError
from core.zones import use_zone
from schema.modules import build_plugin_manager

T = TypeVar("T")

console = Console(stderr=True, soft_wrap=True)


def fail(message: str) -> NoReturn:
    """End the command with ``error: message`` on stderr and exit status 2."""
    console.print(f"[red]error:[/red] {message}", highlight=False)
    raise typer.Exit(2)


def run_command(work: Callable[[CommandContext], Awaitable[T]], *, migrated: bool = True) -> T:
    """Await ``work`` with settings, plugin manager and database ready (see
    :class:`core.extension.CommandRunner`)."""

    async def main() -> T:
        settings = load_settings()
        pm = build_plugin_manager(settings.enabled_plugins)
        db = Database(settings.resolved_database_url)
        try:
            if migrated and not await migrate.at_head(db, pm):
                fail("the database is not migrated; run `crm migrate` first")
            with use_zone(settings.zone):  # commands write times in the deployment's zone
                return await work(CommandContext(settings=settings, db=db, pm=pm, clock=utcnow))
        finally:
            await db.dispose()

    try:
        return asyncio.run(main())
    except (ConfigError, PluginError) as exc:
        fail(str(exc))
    except UserErrors as exc:
        fail("; ".join(f"{e.field}: {e.message}" if e.field else e.message for e in exc.errors))
