"""The command runner handed to plugins' commands (``crm_cli_commands(cli, run)``)."""

from __future__ import annotations

import asyncio
import os
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
from core.i18n import LocaleName, environment_locale, render, translator
from core.zones import use_zone
from schema.modules import build_plugin_manager

T = TypeVar("T")

console = Console(stderr=True, soft_wrap=True)
_ = translator(__name__)


def cli_locale() -> LocaleName:
    """The language of the command line's messages (:func:`core.i18n.environment_locale`)."""
    return environment_locale(os.environ)


def local(text: str) -> str:
    """A message in the command line's language."""
    return render(text, cli_locale())


def say(text: str) -> None:
    """Print a message (on stderr) in the command line's language."""
    console.print(local(text), highlight=False)


def fail(message: str) -> NoReturn:
    """End the command with ``error: message`` on stderr and exit status 2."""
    console.print(f"[red]{local(_('error:'))}[/red] {local(message)}", highlight=False)
    raise typer.Exit(2)


def run_command(work: Callable[[CommandContext], Awaitable[T]], *, migrated: bool = True) -> T:
    """Await ``work`` with settings, plugin manager and database ready (see
    :class:`core.extension.CommandRunner`)."""

    async def main() -> T:
        settings = load_settings()
        pm = build_plugin_manager(settings.enabled_plugins)
        db = Database.from_settings(settings)
        try:
            if migrated and not await migrate.at_head(db, pm):
                fail(_("the database is not migrated; run `crm migrate` first"))
            with use_zone(settings.zone):  # commands write times in the deployment's zone
                return await work(CommandContext(settings=settings, db=db, pm=pm, clock=utcnow))
        finally:
            await db.dispose()

    try:
        return asyncio.run(main())
    except (ConfigError, PluginError) as exc:
        fail(str(exc))
    except UserErrors as exc:
        fail(
            "; ".join(
                f"{e.field}: {local(e.message)}" if e.field else local(e.message)
                for e in exc.errors
            )
        )
