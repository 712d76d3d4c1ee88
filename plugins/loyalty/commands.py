"""``crm loyalty ...`` commands: ``crm loyalty verify`` re-folds every account's ledger and
reports each stored figure that differs from it (exit status 1 when any does)."""

from __future__ import annotations

import typer

from core.plugin_api import CommandContext, CommandRunner
from plugins.loyalty.service import ledger


def register(cli: typer.Typer, run: CommandRunner) -> None:
    group = typer.Typer(help="The loyalty programme.", no_args_is_help=True)

    @group.command("verify")
    def verify() -> None:
        """Re-fold every account's ledger and compare it with the stored balance, debt,
        lifetime earned and lots; print each difference (exit status 1 if any)."""

        async def work(context: CommandContext) -> list[str]:
            async with context.db.read() as session:
                # One snapshot for the whole run: every writer changes an account, its
                # entries and its lots in one transaction (SQLite's read is one already).
                if context.db.dialect == "postgresql":
                    await session.connection(
                        execution_options={"isolation_level": "REPEATABLE READ"}
                    )
                return [str(found) for found in await ledger.verify(session)]

        found = run(work)
        for line in found:
            typer.echo(line)
        if found:
            typer.echo(f"{len(found)} differences", err=True)
            raise typer.Exit(1)
        typer.echo("no differences")

    cli.add_typer(group, name="loyalty")
