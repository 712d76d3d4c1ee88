"""``crm loyalty ...`` commands."""

from __future__ import annotations

import typer

from core.plugin_api import CommandRunner


def register(cli: typer.Typer, run: CommandRunner) -> None:
    return None
