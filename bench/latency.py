"""Sections 2 and 3: latency of the nested customer query at N = 100.

Four ways to get the same page, timed in turns (each round runs all of them, in a shuffled
order, on every backend) so that the machine's noise falls on all of them alike:

- floor: hand-written SQL through the same driver, serialised to the same JSON
  (:mod:`bench.floor`), in this process;
- ASGI: the full app (middleware, authentication, GraphQL, dataloaders) in this process, on
  the compiled read path (:mod:`core.read_path`);
- reference: the same app with ``CRM_READ_PATH=reference``: graphql-core's executor field by
  field, for the same requests;
- loopback: the same app served by ``crm serve`` (uvicorn, one worker) over 127.0.0.1, timed
  twice: as the request that finds it idle (the other ways run between its turns, a second or
  more), and warm, right after an untimed request (the floor and the in-process ways run in
  this busy process, which is never idle when they are timed);
- naive: one query per parent row for every relationship (:mod:`bench.naive`), in process;
- engine: graphql-core alone running the same document over the floor's rows already in
  memory (the app's schema, no database, no app code): the part of the app's time that any
  server built on graphql-core pays for a response of this many fields.

Before timing, the app's bytes are compared with the floor's and the naive app's data with
the app's: all four do the same work.
"""

from __future__ import annotations

import functools
import inspect
import json
import random
import time
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Any

import graphql
import httpx

from bench import naive
from bench.context import Run
from bench.dataset import Target, in_process, over_loopback, plugin_manager, served
from bench.floor import nested_customers, render
from bench.queries import NESTED
from bench.report import Check, Table, median_ms, percentile_ms
from core.db import Database
from schema.builder import build_schema

N = 100
WARMUP = 5
SMALLER = (10, 50)
"""Smaller pages, for the cost per customer as the page grows (N itself is the largest)."""
WAYS = (
    "floor",
    "asgi",
    "reference",
    "loopback",
    "loopback warm",
    "naive",
    "engine",
    *(f"{way} {n}" for n in SMALLER for way in ("floor", "asgi", "reference")),
)


@dataclass
class Subject:
    target: Target
    calls: dict[str, Callable[[], Awaitable[bytes]]]
    samples: dict[str, list[float]] = field(default_factory=dict)
    before: dict[str, Callable[[], Awaitable[bytes]]] = field(default_factory=dict)
    """An untimed call made just before a way's timed one."""


async def _subject(target: Target, stack: AsyncExitStack) -> Subject:
    variables = {"first": N}
    floor_db = Database(target.url)
    stack.push_async_callback(floor_db.dispose)
    naive_db = Database(target.url)
    stack.push_async_callback(naive_db.dispose)
    asgi = await stack.enter_async_context(in_process(target))
    reference = await stack.enter_async_context(in_process(target, read_path="reference"))
    base_url = stack.enter_context(served(target, workers=1))
    loopback = await stack.enter_async_context(over_loopback(base_url))
    naive_http = await stack.enter_async_context(
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=naive.create_app(naive_db)),
            base_url="http://naive",
        )
    )

    sdl = build_schema(plugin_manager(), target.settings()).as_str()
    engine_call = _engine(sdl, json.loads(await nested_customers(floor_db.engine, N)))

    async def naive_call() -> bytes:
        response = await naive_http.post("/graphql", json={"query": NESTED, "variables": variables})
        return response.content

    calls: dict[str, Callable[[], Awaitable[bytes]]] = {
        "floor": lambda: nested_customers(floor_db.engine, N),
        "asgi": lambda: asgi.post(NESTED, variables),
        "reference": lambda: reference.post(NESTED, variables),
        "loopback": lambda: loopback.post(NESTED, variables),
        "loopback warm": lambda: loopback.post(NESTED, variables),
        "naive": naive_call,
        "engine": engine_call,
    }
    for n in SMALLER:
        calls[f"floor {n}"] = functools.partial(nested_customers, floor_db.engine, n)
        calls[f"asgi {n}"] = functools.partial(asgi.post, NESTED, {"first": n})
        calls[f"reference {n}"] = functools.partial(reference.post, NESTED, {"first": n})
    before = {"loopback warm": calls["loopback"]}
    return Subject(target, calls, {way: [] for way in WAYS}, before)


def _engine(sdl: str, body: dict[str, Any]) -> Callable[[], Awaitable[bytes]]:
    schema = graphql.build_schema(sdl)
    document = graphql.parse(NESTED)
    if graphql.validate(schema, document):
        raise RuntimeError("the nested query does not validate against the app's schema")
    data = body["data"]

    async def call() -> bytes:
        result = graphql.execute(schema, document, root_value=data, variable_values={"first": N})
        if inspect.isawaitable(result) or result.errors:
            raise RuntimeError(f"engine: {result}")
        return render({"data": result.data})

    return call


async def check_same_work(subject: Subject) -> None:
    """The four ways return the same customers, nested rows and all."""
    floor = await subject.calls["floor"]()
    asgi = await subject.calls["asgi"]()
    reference = await subject.calls["reference"]()
    loopback = await subject.calls["loopback"]()
    naive_body = json.loads(await subject.calls["naive"]())
    engine = await subject.calls["engine"]()
    backend = subject.target.backend
    edges = json.loads(asgi)["data"]["customers"]["edges"]
    if len(edges) != min(N, subject.target.size):
        raise RuntimeError(f"{backend}: the app returned {len(edges)} customers")
    if asgi != floor:
        raise RuntimeError(f"{backend}: the raw floor's JSON differs from the app's")
    if reference != asgi:
        raise RuntimeError(f"{backend}: the reference executor's JSON differs from the app's")
    if loopback != asgi:
        raise RuntimeError(f"{backend}: the served app's JSON differs from the in-process app's")
    if engine != asgi:
        raise RuntimeError(f"{backend}: graphql-core alone gave other JSON than the app")
    if naive_body != json.loads(asgi):
        raise RuntimeError(f"{backend}: the naive implementation's data differs from the app's")


async def run(bench: Run) -> list[Table]:
    rng = random.Random(6)
    async with AsyncExitStack() as stack:
        subjects = [await _subject(target, stack) for target in bench.targets]
        for subject in subjects:
            await check_same_work(subject)
        for round_ in range(WARMUP + bench.repeats):
            for subject in subjects:
                order = list(WAYS)
                rng.shuffle(order)
                for way in order:
                    ready = subject.before.get(way)
                    if ready is not None:
                        await ready()
                    started = time.perf_counter()
                    await subject.calls[way]()
                    elapsed = time.perf_counter() - started
                    if round_ >= WARMUP:
                        subject.samples[way].append(elapsed)

    overhead = Table(
        key="latency",
        title=f"2. Nested customer query, N = {N}: app latency over the raw SQL floor",
        columns=["backend", "way", "p50 ms", "p90 ms", "/ floor"],
    )
    naive_table = Table(
        key="naive",
        title=f"3. Nested customer query, N = {N}: naive (one query per row) / ours",
        columns=["backend", "naive p50 ms", "ours p50 ms", "naive / ours"],
    )
    for subject in subjects:
        backend = subject.target.backend
        floor = median_ms(subject.samples["floor"])
        for way, label in (
            ("floor", "raw SQL floor"),
            ("asgi", "app in process (ASGI)"),
            ("reference", "app in process, reference executor"),
            ("loopback", "app over loopback (uvicorn), found idle"),
            ("loopback warm", "app over loopback (uvicorn), warm"),
            ("engine", "graphql-core alone, rows in memory"),
        ):
            samples = subject.samples[way]
            p50 = median_ms(samples)
            overhead.rows.append(
                [backend, label, p50, percentile_ms(samples, 0.9), round(p50 / floor, 2)]
            )
            if way in ("asgi", "loopback warm"):
                overhead.checks.append(Check(f"{backend}, {label} / floor", p50 / floor, 2.5))
        ours = median_ms(subject.samples["asgi"])
        slow = median_ms(subject.samples["naive"])
        naive_table.rows.append([backend, slow, ours, round(slow / ours, 1)])
        if backend == "postgresql":
            naive_table.checks.append(
                Check("postgresql, naive / ours", slow / ours, 10.0, at_most=False)
            )
    for subject in subjects:
        compiled = median_ms(subject.samples["asgi"])
        field_by_field = median_ms(subject.samples["reference"])
        overhead.notes.append(
            f"{subject.target.backend}: the reference executor takes "
            f"{field_by_field / compiled:.2f}x the compiled read path's time, same requests."
        )
    overhead.notes.append(
        "Over loopback, a request that finds the served process idle for a second or more "
        "costs it more CPU time on this machine than the same request a moment after "
        "another (docs/performance.md); the floor and the in-process ways are timed in this "
        "busy process, so the warm request is the one held to the target, and both are shown."
    )
    overhead.notes.append(
        "floor + graphql-core alone is about the least a server executing field by field on "
        "graphql-core can take; the compiled read path does not execute field by field."
    )
    overhead.notes.append(
        f"{bench.repeats} samples per way after {WARMUP} warm-up rounds, in turns on each "
        "backend; the floor's and the app's JSON are byte-identical (checked first)."
    )
    naive_table.notes.append(
        "Both in process through ASGI; the naive app has no authentication or scoping."
    )
    return [overhead, naive_table, _per_customer(subjects)]


def _per_customer(subjects: list[Subject]) -> Table:
    """What one customer of the page costs at N = 10, 50 and 100, on each way."""
    table = Table(
        key="per_customer",
        title="2b. Nested customer query: cost per customer as the page grows",
        columns=[
            "backend",
            "N",
            "floor ms / customer",
            "compiled ms / customer",
            "reference ms / customer",
            "compiled / floor",
        ],
    )
    for subject in subjects:
        for n in (*SMALLER, N):
            suffix = "" if n == N else f" {n}"
            customers = min(n, subject.target.size)  # a small data set fills fewer
            floor, compiled, reference = (
                median_ms(subject.samples[f"{way}{suffix}"]) / customers
                for way in ("floor", "asgi", "reference")
            )
            table.rows.append(
                [
                    subject.target.backend,
                    n,
                    round(floor, 3),
                    round(compiled, 3),
                    round(reference, 3),
                    round(compiled / floor, 2),
                ]
            )
    table.notes.append(
        "Medians of the same rounds as section 2, divided by the customers returned; a fixed "
        "cost per request "
        "(authentication, parsing, the page's statements) weighs less as the page grows."
    )
    return table
