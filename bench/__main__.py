"""``python -m bench`` (``make bench``): run the benchmark, print the tables, write results.

    python -m bench                                  # SQLite, 10,000 customers
    python -m bench --postgres-url postgresql://postgres@127.0.0.1:5432/postgres
    python -m bench --postgres-url ... --large-size 1000000   # plus deep pagination at 1M

Data sets are made once with the demo loader and kept (``var/bench/``, databases
``crm_bench_<size>``); ``--fresh`` makes them anew.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import shlex
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from bench import latency, load, pagination, statements, throughput
from bench.context import Run
from bench.dataset import prepare
from bench.report import Table, machine, print_tables, write

SECTIONS: dict[str, Callable[[Run], Awaitable[list[Table]]]] = {
    "statements": statements.run,
    "latency": latency.run,
    "pagination": pagination.run,
    "load": load.run,
    "throughput": throughput.run,
}
RESULTS = Path(__file__).parent / "results"
README = Path(__file__).parent.parent / "README.md"
START, END = "<!-- bench results: start -->", "<!-- bench results: end -->"

console = Console(stderr=True, soft_wrap=True)
cli = typer.Typer(add_completion=False)


@cli.command()
def main(
    size: Annotated[
        int, typer.Option(min=100, help="Customers in the default data set (5 contacts each).")
    ] = 10_000,
    postgres_url: Annotated[
        str | None,
        typer.Option(
            envvar="CRM_BENCH_POSTGRES_URL",
            help="A PostgreSQL server where crm_bench_* databases may be created.",
        ),
    ] = None,
    large_size: Annotated[
        int,
        typer.Option(
            min=0, help="Customers in the PostgreSQL data set for deep pagination (0: none)."
        ),
    ] = 0,
    section: Annotated[
        list[str] | None,
        typer.Option("--section", help=f"Run only these ({', '.join(SECTIONS)}); repeatable."),
    ] = None,
    repeats: Annotated[int, typer.Option(min=3, help="Timed samples per measurement.")] = 30,
    load_seconds: Annotated[float, typer.Option(min=1, help="Length of each load run.")] = 20,
    data_dir: Annotated[Path, typer.Option(help="Where SQLite data sets are kept.")] = Path(
        "var/bench"
    ),
    results: Annotated[Path, typer.Option(help="Where latest.json and .md go.")] = RESULTS,
    fresh: Annotated[bool, typer.Option(help="Make the data sets anew.")] = False,
) -> None:
    """Statements per request, overhead over raw SQL, naive comparison, deep pagination and
    a load run; prints the tables and writes them as JSON and Markdown."""
    chosen = section or list(SECTIONS)
    unknown = sorted(set(chosen) - set(SECTIONS))
    if unknown:
        raise typer.BadParameter(
            f"unknown section(s): {', '.join(unknown)}", param_hint="--section"
        )
    started = time.perf_counter()

    def log(message: str) -> None:
        console.print(message, highlight=False)

    async def work() -> list[Table]:
        targets = [await prepare("sqlite", size, data_dir=data_dir, fresh=fresh, log=log)]
        large = None
        if postgres_url:
            targets.append(
                await prepare(
                    "postgresql",
                    size,
                    data_dir=data_dir,
                    postgres_url=postgres_url,
                    fresh=fresh,
                    log=log,
                )
            )
            if large_size:
                large = await prepare(
                    "postgresql",
                    large_size,
                    data_dir=data_dir,
                    postgres_url=postgres_url,
                    fresh=fresh,
                    log=log,
                )
        elif large_size:
            log("--large-size needs --postgres-url; deep pagination runs on the default size")
        run = Run(targets=targets, large=large, repeats=repeats, load_seconds=load_seconds, log=log)
        tables: list[Table] = []
        for name in chosen:
            log(f"running {name} ...")
            section_started = time.perf_counter()
            tables += await SECTIONS[name](run)
            log(f"  {name}: {time.perf_counter() - section_started:.0f} s")
        return tables

    tables = asyncio.run(work())
    print_tables(tables, Console(soft_wrap=True))
    command = "python -m bench " + " ".join(_shown_arguments(sys.argv[1:]))
    if postgres_url and not any("://" in arg for arg in sys.argv[1:]):
        command = f"CRM_BENCH_POSTGRES_URL=... {command}"
    meta = {
        "finished": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "command": command.strip(),
        "size": size,
        "large_size": large_size if postgres_url else 0,
        "backends": ["sqlite", "postgresql"] if postgres_url else ["sqlite"],
        "seconds": round(time.perf_counter() - started),
    }
    for path in write(tables, meta, results):
        log(f"wrote {path}")
    if results.resolve() == RESULTS.resolve() and update_readme(README, results / "latest.md"):
        log(f"updated the Performance section of {README}")
    missed = [check for table in tables for check in table.checks if not check.passed]
    if missed:
        log(f"{len(missed)} target(s) missed: " + "; ".join(c.name for c in missed))


def _shown_arguments(arguments: list[str]) -> list[str]:
    """The command's arguments as the results show them: server addresses (they may hold
    credentials) and local paths are replaced by placeholders."""
    shown: list[str] = []
    hidden = {"--postgres-url": "$CRM_BENCH_POSTGRES_URL", "--data-dir": "DIR", "--results": "DIR"}
    follows: str | None = None
    for argument in arguments:
        if follows is not None:
            shown.append(follows)
            follows = None
            continue
        option, equals, _value = argument.partition("=")
        if option in hidden:
            shown.append(f"{option}={hidden[option]}" if equals else option)
            follows = None if equals else hidden[option]
            continue
        shown.append(shlex.quote(argument))
    return shown


def update_readme(readme: Path, latest: Path) -> bool:
    """Put ``latest.md`` between the README's result markers; False if it has none."""
    text = readme.read_text(encoding="utf-8")
    if START not in text or END not in text:
        return False
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    body = latest.read_text(encoding="utf-8").strip()
    readme.write_text(f"{head}{START}\n{body}\n{END}{tail}", encoding="utf-8")
    return True


if __name__ == "__main__":
    cli()
