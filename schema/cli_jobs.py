"""``crm jobs run`` (periodic work), ``crm worker`` (background jobs) and ``crm import``."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Mapping
from typing import Annotated

import typer
from rich.progress import Progress

from core.access import AuthenticationError
from core.background import FINISHED, BackgroundJob, JobRunner, JobStatus, request_cancel
from core.catalog import catalog_for
from core.context import RequestContext
from core.customers import importing
from core.db import utcnow
from core.extension import CommandContext
from core.i18n import translator
from core.identity.callers import caller_for_email
from core.mutations import transact
from core.schedule import Scheduler
from core.text_encoding import TextEncodingError, decode, import_encoding
from core.worker import Worker
from schema.runner import console, fail, local, run_command, say

_ = translator(__name__)

jobs_cli = typer.Typer(help="Periodic work, safe to run from cron.", no_args_is_help=True)
import_cli = typer.Typer(help="Load records from files.", no_args_is_help=True)


@jobs_cli.command("run")
def jobs_run() -> None:
    """Run every module's periodic jobs once (idempotent)."""

    async def work(ctx: CommandContext) -> dict[str, Mapping[str, int]]:
        scheduler = Scheduler(db=ctx.db, settings=ctx.settings, pm=ctx.pm, clock=ctx.clock)
        return await scheduler.run_all()

    for summary in run_command(work).values():
        for what, count in summary.items():
            typer.echo(f"{what}: {count}")


@import_cli.command("customers")
def import_customers(
    file: Annotated[
        typer.FileBinaryRead,
        typer.Argument(help="CSV file with a header row (UTF-8 or GB18030)."),
    ],
    as_user: Annotated[
        str, typer.Option("--as", help="Email of the user the import acts as (their scope).")
    ],
    match_on: Annotated[
        list[str] | None,
        typer.Option("--match-on", help="EMAIL, PHONE or NUMBER (repeatable; default EMAIL)."),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check every row, keep nothing.")
    ] = False,
    encoding: Annotated[
        str,
        typer.Option(
            "--encoding",
            help="AUTO (strict UTF-8, else strict GB18030), UTF-8 or GB18030 (also GBK).",
        ),
    ] = "AUTO",
) -> None:
    """Create or update customers from a CSV file: every row is checked first; if any row
    fails, nothing is imported. Runs as a background job, here, with a progress bar; other
    clients keep working meanwhile."""
    try:
        named = import_encoding(encoding)
    except TextEncodingError as exc:
        fail(_("--encoding: {problem}", problem=exc.message))
    try:
        text = decode(file.read(), named)
    except TextEncodingError as exc:
        fail(_("{file}: {problem}", file=file.name, problem=exc.message))
    keys = [key.strip().upper() for key in (match_on or ["EMAIL"])]
    bad = [key for key in keys if key not in ("EMAIL", "PHONE", "NUMBER")]
    if bad:
        fail(_("--match-on: {keys} is not EMAIL, PHONE or NUMBER", keys=", ".join(bad)))

    async def work(ctx: CommandContext) -> BackgroundJob:
        try:
            caller = await caller_for_email(ctx.db, catalog_for(ctx.pm), as_user)
        except AuthenticationError as exc:
            fail(_("--as: {reason}", reason=exc.message))
        context = RequestContext(settings=ctx.settings, db=ctx.db, pm=ctx.pm, caller=caller)
        job = await transact(
            ctx.db, lambda s: importing.start_import(s, context, text, keys, dry_run)
        )
        return await _follow_import(ctx, job.id)

    job = run_command(work)
    state = job.state
    for error in state.get("errors", []):
        say(
            _(
                "line {line}: {field}: {message}",
                line=error["line"],
                field=error["field"] or "row",
                message=error["message"],
            )
        )
    if state.get("error_count", 0) > len(state.get("errors", [])):
        say(_("... {count} rows with errors in all", count=state["error_count"]))
    kept = bool(state.get("imported"))
    counts = {
        "created": state.get("created", 0),
        "updated": state.get("updated", 0),
        "errors": state.get("error_count", 0),
    }
    if kept:
        say(_("created {created}, updated {updated}; {errors} rows with errors", **counts))
    else:
        say(
            _(
                "would create {created}, would update {updated}; {errors} rows with errors "
                "(nothing imported)",
                **counts,
            )
        )
    if job.status == JobStatus.FAILED and not state.get("error_count"):
        fail_line = local(_("error:"))
        console.print(f"[red]{fail_line}[/red] {job.error}", highlight=False)
    if job.status == JobStatus.CANCELLED:
        say(_("cancelled after {count} rows were written", count=state.get("written", 0)))
    if state.get("error_count") or job.status != JobStatus.SUCCEEDED:
        raise typer.Exit(1)


async def _follow_import(ctx: CommandContext, job_id: int) -> BackgroundJob:
    """Run import ``job_id`` here (unless a server's runner took it first), showing its
    progress, and return the finished job. Ctrl-C cancels it."""
    db = ctx.db
    runner = JobRunner(db=db, settings=ctx.settings, pm=ctx.pm, clock=ctx.clock)
    run = await runner.claim(job_id)
    task = asyncio.create_task(runner.execute(run)) if run is not None else None
    try:
        with Progress(console=console) as progress:
            bar = progress.add_task("Queued", total=None)
            while True:
                async with db.read() as session:
                    job = await session.get(BackgroundJob, job_id, populate_existing=True)
                assert job is not None
                state = job.state or {}
                total = int(state.get("total", 0)) or 1
                if state.get("phase") == "WRITING":
                    progress.update(
                        bar, description="Writing", total=total, completed=state["written"]
                    )
                elif state.get("phase") == "VALIDATING":
                    progress.update(
                        bar, description="Validating", total=total, completed=state["validated"]
                    )
                if job.status in FINISHED:
                    return job
                await asyncio.sleep(0.25)
    except (asyncio.CancelledError, KeyboardInterrupt):
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        async with db.transaction() as session:
            job = await session.get(BackgroundJob, job_id, with_for_update=True)
            if job is not None and job.status not in FINISHED:
                await request_cancel(session, job, utcnow())
        raise
    finally:
        if task is not None and not task.done():
            await task


def worker() -> None:
    """Run background jobs (large imports), deliver outbox messages (emails, webhooks) and
    run periodic jobs (reminders) as they fall due, until stopped (Ctrl-C or SIGTERM hands
    work in progress back, for the next worker to resume)."""

    async def work(ctx: CommandContext) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        runner = Worker(db=ctx.db, settings=ctx.settings, pm=ctx.pm, clock=ctx.clock)
        kinds = ", ".join(sorted(runner.jobs.handlers)) or "none"
        say(_("Worker {id} running jobs of kinds: {kinds}", id=runner.worker_id, kinds=kinds))
        task = asyncio.create_task(runner.serve(stop))
        await stop.wait()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        say(_("Worker {id} stopped", id=runner.worker_id))

    run_command(work)
