"""Profile the hot path: the nested customer query at N = 100, in process.

    python -m bench.profile [--postgres-url URL] [--requests 20]

Prints what each part of the query adds to a request (the query grown one relationship at
a time, medians of requests sent in turns), where the time goes (pyinstrument, sampling)
and the Python function calls per request (cProfile): a count that does not depend on how
busy the machine is, so it shows what a change to the hot path bought even where timings
are noisy. Writes the sampled profile as HTML to ``bench/results/profile-<backend>.html``.
"""

from __future__ import annotations

import asyncio
import cProfile
import pstats
import time
from collections import Counter
from pathlib import Path
from typing import Annotated

import typer
from pyinstrument import Profiler

from bench.dataset import Client, in_process, prepare
from bench.queries import NESTED

_CUSTOMER = "id number name stage grade industry lastInteractionAt"
_PARTS = [
    ("owner and tags", "owner { id name } tags { name }"),
    ("5 contacts each", "contacts(first: 5) { edges { node { id name email phone primary } } }"),
    (
        "3 interactions each",
        "interactions(first: 3) { edges { node { id channel summary occurredAt } } }",
    ),
    (
        "3 tickets each",
        "tickets(first: 3) { edges { node { id number subject status priority } } }",
    ),
]


def _grown() -> list[tuple[str, str]]:
    """The nested query built up a part at a time, from a request that reads nothing."""
    queries = [("a request reading nothing (__typename)", "{ __typename }")]
    selection = _CUSTOMER
    queries.append(("100 customers, their own fields", selection))
    for label, part in _PARTS:
        selection = f"{selection} {part}"
        queries.append((f"+ {label}", selection))
    page = "{{ customers(first: 100) {{ edges {{ node {{ {} }} }} }} }}"
    return [(label, q if q.startswith("{") else page.format(q)) for label, q in queries]


async def parts(client: Client, rounds: int) -> list[tuple[str, float]]:
    """Median milliseconds of each step of :func:`_grown`, the steps sent in turns."""
    queries = _grown()
    samples: dict[str, list[float]] = {label: [] for label, _ in queries}
    for _ in range(rounds):
        for label, query in queries:
            started = time.perf_counter()
            await client.post(query)
            samples[label].append((time.perf_counter() - started) * 1000)
    return [(label, sorted(found)[len(found) // 2]) for label, found in samples.items()]


RESULTS = Path(__file__).parent / "results"
cli = typer.Typer(add_completion=False)


def _area(filename: str) -> str:
    if "site-packages/" in filename:
        return filename.split("site-packages/")[1].split("/")[0]
    if filename.startswith("~") or filename.startswith("<"):
        return "builtins"
    for area in ("core", "plugins", "schema", "bench"):
        if f"/{area}/" in filename:
            return "app (core, plugins, schema)" if area != "bench" else "bench"
    return "stdlib"


async def calls_per_request(client: Client, requests: int) -> tuple[float, Counter[str]]:
    """Python function calls per request, in all and by package."""
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(requests):
        await client.post(NESTED, {"first": 100})
    profile.disable()
    stats = pstats.Stats(profile)
    areas: Counter[str] = Counter()
    for (filename, _line, _name), (_cc, calls, *_rest) in stats.stats.items():  # type: ignore[attr-defined]
        areas[_area(filename)] += calls // requests
    return stats.total_calls / requests, areas  # type: ignore[attr-defined]


@cli.command()
def main(
    postgres_url: Annotated[
        str | None, typer.Option(envvar="CRM_BENCH_POSTGRES_URL", help="Profile on PostgreSQL.")
    ] = None,
    size: Annotated[int, typer.Option(min=100)] = 10_000,
    requests: Annotated[int, typer.Option(min=1)] = 20,
) -> None:
    """Profile the nested customer query (N = 100) through the in-process app."""

    async def work() -> None:
        backend = "postgresql" if postgres_url else "sqlite"
        target = await prepare(backend, size, data_dir=Path("var/bench"), postgres_url=postgres_url)
        async with in_process(target) as client:
            for _ in range(5):
                await client.post(NESTED, {"first": 100})
            steps = await parts(client, max(requests, 10))
            started = time.process_time()
            for _ in range(requests):
                await client.post(NESTED, {"first": 100})
            cpu = (time.process_time() - started) / requests * 1000
            total, areas = await calls_per_request(client, min(requests, 5))
            profiler = Profiler(interval=0.001, async_mode="enabled")
            with profiler:
                for _ in range(requests):
                    await client.post(NESTED, {"first": 100})
        print(profiler.output_text(unicode=True, color=False))
        print(f"{backend}: what each part of the nested query adds (median ms)")
        previous = 0.0
        for label, median in steps:
            print(f"  {label:42s} {median:7.1f}  (+{median - previous:.1f})")
            previous = median
        print(f"{backend}: {cpu:.1f} ms CPU per request, {total:,.0f} Python calls per request")
        for area, count in areas.most_common(8):
            print(f"  {area:30s} {count:9,d} calls")
        RESULTS.mkdir(exist_ok=True)
        html = RESULTS / f"profile-{backend}.html"
        html.write_text(profiler.output_html())
        print(f"wrote {html}")

    asyncio.run(work())


if __name__ == "__main__":
    cli()
