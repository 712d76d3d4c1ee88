"""Section 6: requests per second at 8 concurrent clients, compiled beside reference.

Two servers (``crm serve``, one worker) on the same data set, one on the compiled read path
and one on graphql-core's executor (``CRM_READ_PATH=reference``), each take the nested
customer query (N = 100) from 8 closed-loop clients for the same time: a client sends its
next request when the last is answered. The servers run one after the other, never side by
side (the machine has two cores). A request counts when it is answered with data and no
errors inside the window, which stretches until every client has had such an answer; every
other answer is an error.
"""

from __future__ import annotations

import asyncio
import time

from bench.context import Run
from bench.dataset import Target, over_loopback, served
from bench.queries import NESTED
from bench.report import Check, Table, median_ms, percentile_ms

CLIENTS = 8
N = 100
PATHS = ("compiled", "reference")


MAX_STRETCH_SECONDS = 60.0
"""How long past its end the window waits for a client that has had no answer inside it."""


async def _measure(
    target: Target, read_path: str, seconds: float
) -> tuple[list[float], int, float]:
    """Durations of the requests answered inside the window, the errors, and the window's
    length.

    A request counts when it is answered inside the window, whenever it was sent: with 8
    clients queued on one worker, a request can take longer than a short window. The window
    lasts ``seconds`` and then, on a slow or busy machine, until every client has had an
    answer inside it (at most :data:`MAX_STRETCH_SECONDS` more), so that each path's rate
    is taken over answers, never over an empty window.
    """
    durations: list[float] = []
    errors = 0
    with served(target, workers=1, read_path=read_path) as base_url:
        async with over_loopback(base_url) as client:
            started = time.perf_counter()
            window_start = started + min(1.0, seconds / 2)
            end = window_start + seconds
            give_up = end + MAX_STRETCH_SECONDS
            last_answer = end

            async def one_client() -> None:
                nonlocal errors, last_answer
                counted = 0
                while True:
                    now = time.perf_counter()
                    if now >= give_up or (now >= end and counted):
                        return
                    try:
                        body = await client.post(NESTED, {"first": N})
                        ok = body.startswith(b'{"data"')  # errors come first when there are any
                    except Exception:
                        ok = False
                    answered = time.perf_counter()
                    if not ok:
                        errors += 1
                    elif window_start <= answered and (answered < end or not counted):
                        durations.append(answered - now)
                        counted += 1
                        last_answer = max(last_answer, answered)

            await asyncio.gather(*(one_client() for _ in range(CLIENTS)))
    return durations, errors, last_answer - window_start


async def run(bench: Run) -> list[Table]:
    seconds = max(1.0, bench.load_seconds / 2)
    table = Table(
        key="throughput",
        title=(
            f"6. Nested customer query (N = {N}) at {CLIENTS} concurrent clients, one worker: "
            "compiled read path beside the reference executor"
        ),
        columns=["backend", "read path", "requests", "req/s", "p50 ms", "p99 ms", "errors"],
    )
    for target in bench.targets:
        rates: dict[str, float] = {}
        for read_path in PATHS:
            bench.log(
                f"throughput: {target.backend}, {read_path}, {CLIENTS} clients, {seconds:g} s"
            )
            durations, errors, window = await _measure(target, read_path, seconds)
            rates[read_path] = len(durations) / window
            table.rows.append(
                [
                    target.backend,
                    read_path,
                    len(durations),
                    round(rates[read_path], 1),
                    median_ms(durations) if durations else 0.0,
                    percentile_ms(durations, 0.99),
                    errors,
                ]
            )
            table.checks.append(Check(f"errors ({target.backend}, {read_path})", errors, 0))
        if rates["reference"]:
            table.checks.append(
                Check(
                    f"{target.backend}, compiled / reference req/s",
                    rates["compiled"] / rates["reference"],
                    4.0,
                    at_most=False,
                )
            )
    table.notes.append(
        f"{CLIENTS} closed-loop clients in the benchmark's process over loopback; a warm-up "
        f"before a {seconds:g} s window is not counted, except in errors (the window stretches "
        "until each client has had an answer inside it). One worker is bound by its one "
        "core, so the ratio is the CPU each path spends per request."
    )
    return [table]
