"""Section 5: a bounded load run over loopback.

``crm serve`` runs in a child process (uvicorn with 1, then 2 workers on PostgreSQL; 1 on
SQLite). The load comes from separate OS processes (``spawn``, :mod:`bench.loadgen`), each an
asyncio loop with one httpx client and a fixed number of closed-loop virtual users: a user
sends its next request when the previous one is answered. User n starts with operation n
(so every operation is sent in the warm-up), then draws operations by fixed weights from an
RNG seeded with its own number, so a run repeats the same mix. After a
short warm-up that is not counted, requests answered within ``load_seconds`` make the
figures. While the window runs, the benchmark's main process reads the CPU time of the
server's process tree, of the PostgreSQL server, of the load generator and of the whole
machine from ``/proc``, so the table can say what bounds the figures.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import queue
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from multiprocessing.queues import Queue
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench.context import Run
from bench.dataset import ADMIN_EMAIL, LOGIN, Target, over_loopback, served
from bench.loadgen import (
    MAX_MESSAGES,
    OPERATIONS,
    START_TIMEOUT,
    LoadSpec,
    OperationTally,
    SignIn,
    load_process,
)
from bench.report import Check, Table, median_ms, percentile_ms
from core.identity.demo import DEMO_PASSWORD

USERS = 16
"""Virtual users in all, split evenly over the load processes."""
LOAD_PROCESSES = 2
SAMPLE = 300
"""Customer ids fetched before a run; every operation picks one of them."""
SAMPLE_IDS = """
query LoadSample($first: Int!, $after: String) {
  customers(first: $first, after: $after) {
    edges { node { id } }
    pageInfo { hasNextPage endCursor }
  }
}"""

# ---------------------------------------------------------------------------------------
# CPU time from /proc
# ---------------------------------------------------------------------------------------

TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class ProcessInfo:
    pid: int
    ppid: int
    cpu: float
    """CPU seconds (user plus system) of the process and of its children that have exited
    and been waited for: a tree's CPU time stays counted when a child exits."""
    command: str


def processes() -> dict[int, ProcessInfo]:
    """Every process readable in /proc, by pid."""
    found: dict[int, ProcessInfo] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        # After "pid (comm)": state ppid ... utime stime cutime cstime (fields 14 to 17).
        fields = stat.rpartition(")")[2].split()
        ticks = sum(int(value) for value in fields[11:15])
        pid = int(entry.name)
        found[pid] = ProcessInfo(pid, int(fields[1]), ticks / TICKS, command.strip())
    return found


def descendants(table: dict[int, ProcessInfo], roots: Iterable[int]) -> set[int]:
    """``roots`` and every process below them."""
    children: dict[int, list[int]] = {}
    for info in table.values():
        children.setdefault(info.ppid, []).append(info.pid)
    result: set[int] = set()
    todo = [pid for pid in roots if pid in table]
    while todo:
        pid = todo.pop()
        if pid not in result:
            result.add(pid)
            todo += children.get(pid, [])
    return result


def machine_busy() -> float:
    """CPU seconds the whole machine spent busy (not idle, not waiting on I/O) so far."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    guest = sum(values[8:10]) if len(values) > 9 else 0  # already counted in user and nice
    return (sum(values) - idle - guest) / TICKS


@dataclass(frozen=True)
class CpuSnapshot:
    at: float
    machine: float
    by_pid: dict[int, float]
    groups: dict[str, set[int]]


@dataclass(frozen=True)
class CpuUse:
    """Cores used on average during the measured window."""

    server: float
    database: float
    """The PostgreSQL server on this machine, all its databases."""
    load: float
    machine: float
    cores: int

    @property
    def other(self) -> float:
        return max(0.0, self.machine - self.server - self.database - self.load)


class CpuMeter:
    """Reads the CPU time of the server, PostgreSQL, the load processes and the machine.

    A group is a process tree whose root lives through the window (the ``crm serve``
    process, the PostgreSQL postmaster, each load process). Its CPU time is the sum over its
    processes, each counting its exited children too, so a PostgreSQL backend that opens
    and closes inside the window is counted in the postmaster's total.
    """

    def __init__(self, port: int, load_pids: Sequence[int]) -> None:
        self.port = port
        self.load_pids = list(load_pids)

    def groups(self, table: dict[int, ProcessInfo]) -> dict[str, set[int]]:
        serve = [
            pid
            for pid in descendants(table, [os.getpid()])
            if "schema.cli serve" in table[pid].command
            and f"--port {self.port} " in table[pid].command + " "
        ]
        postmasters = {info.ppid for info in table.values() if info.command.startswith("postgres:")}
        return {
            "server": descendants(table, serve),
            "database": descendants(table, postmasters),
            "load": descendants(table, self.load_pids),
        }

    def measure(self) -> CpuSnapshot:
        table = processes()
        return CpuSnapshot(
            time.time(),
            machine_busy(),
            {pid: info.cpu for pid, info in table.items()},
            self.groups(table),
        )

    @staticmethod
    def use(first: CpuSnapshot, last: CpuSnapshot) -> CpuUse:
        elapsed = max(last.at - first.at, 1e-9)

        def cores(group: str) -> float:
            spent = sum(last.by_pid.get(pid, 0.0) for pid in last.groups[group]) - sum(
                first.by_pid.get(pid, 0.0) for pid in first.groups[group]
            )
            return max(0.0, spent) / elapsed

        return CpuUse(
            server=cores("server"),
            database=cores("database"),
            load=cores("load"),
            machine=(last.machine - first.machine) / elapsed,
            cores=os.cpu_count() or 1,
        )


# ---------------------------------------------------------------------------------------
# One load run, and the section
# ---------------------------------------------------------------------------------------


@dataclass
class LoadRun:
    """The outcome of one load run against one server."""

    backend: str
    workers: int
    users: int
    warmup: float
    seconds: float
    tallies: dict[str, OperationTally]
    cpu: CpuUse

    @property
    def requests(self) -> int:
        return sum(len(t.durations) for t in self.tallies.values())

    @property
    def errors(self) -> int:
        return sum(t.errors for t in self.tallies.values())

    def created(self, operation: str) -> list[str]:
        return self.tallies[operation].created


def warmup_for(seconds: float) -> float:
    """The uncounted warm-up before a window of ``seconds``."""
    return min(3.0, max(1.0, seconds * 0.15))


async def sample_ids(base_url: str, size: int = SAMPLE) -> list[str]:
    """Global ids of up to ``size`` customers, read through the API."""
    ids: list[str] = []
    after: str | None = None
    async with over_loopback(base_url) as client:
        while len(ids) < size:
            data = await client.data(
                SAMPLE_IDS, {"first": min(100, size - len(ids)), "after": after}
            )
            page = data["customers"]
            ids += [edge["node"]["id"] for edge in page["edges"]]
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
    return ids


async def _expect(messages: Queue[Any], kind: str) -> Any:
    """The next message of a load process, which must be ``kind``."""
    try:
        got, index, value = await asyncio.to_thread(messages.get, True, START_TIMEOUT)
    except queue.Empty as exc:
        raise RuntimeError(f"no {kind!r} from the load processes in {START_TIMEOUT:g} s") from exc
    if got == "failed":
        raise RuntimeError(f"load process {index} failed:\n{value}")
    if got != kind:
        raise RuntimeError(f"load process {index} said {got!r}, expected {kind!r}")
    return value


def _merge(parts: Sequence[dict[str, OperationTally]]) -> dict[str, OperationTally]:
    merged = {op.name: OperationTally() for op in OPERATIONS}
    for part in parts:
        for name, tally in part.items():
            into = merged[name]
            into.durations += tally.durations
            into.answered += tally.answered
            into.errors += tally.errors
            into.created += tally.created
            into.messages += tally.messages[: max(0, MAX_MESSAGES - len(into.messages))]
    return merged


async def measure(
    target: Target,
    workers: int,
    seconds: float,
    *,
    users: int = USERS,
    load_processes: int = LOAD_PROCESSES,
) -> LoadRun:
    """Serve ``target`` with ``workers`` uvicorn workers and put it under load."""
    warmup = warmup_for(seconds)
    tag = f"Load run {uuid.uuid4().hex[:8]}"
    with served(target, workers) as base_url:
        ids = tuple(await sample_ids(base_url))
        if not ids:
            raise RuntimeError(f"no customers in the data set at {target.shown_url}")
        how = SignIn(LOGIN, ADMIN_EMAIL, DEMO_PASSWORD)
        context = multiprocessing.get_context("spawn")
        ready: Queue[Any] = context.Queue()
        begin: Queue[float] = context.Queue()
        shares = [
            users // load_processes + (n < users % load_processes) for n in range(load_processes)
        ]
        specs = [
            LoadSpec(n, base_url, how, share, sum(shares[:n]), ids, warmup, seconds, tag)
            for n, share in enumerate(shares)
            if share
        ]
        spawned: list[BaseProcess] = [
            context.Process(target=load_process, args=(spec, ready, begin), daemon=True)
            for spec in specs
        ]
        for process in spawned:
            process.start()
        try:
            for _ in spawned:
                await _expect(ready, "ready")
            port = urlsplit(base_url).port or 0
            meter = CpuMeter(port, [p.pid for p in spawned if p.pid is not None])
            started = time.time() + 0.2
            for _ in spawned:
                begin.put(started)
            await asyncio.sleep(max(0.0, started + warmup - time.time()))
            before = meter.measure()
            await asyncio.sleep(max(0.0, started + warmup + seconds - time.time()))
            after = meter.measure()
            parts = [await _expect(ready, "done") for _ in spawned]
        finally:
            for process in spawned:
                process.join(timeout=10)
                if process.is_alive():
                    process.terminate()
                    process.join()
    return LoadRun(
        target.backend,
        workers,
        users,
        warmup,
        seconds,
        _merge(parts),
        CpuMeter.use(before, after),
    )


def _bound(run: LoadRun) -> str:
    """What bounds the figures of ``run``, judged from the CPU it used."""
    cpu = run.cpu
    if cpu.machine >= 0.85 * cpu.cores:
        sharers = ["the server"]
        if run.backend == "postgresql":
            sharers.append("PostgreSQL")
        sharers.append("the load generator")
        if cpu.other >= 0.1:
            sharers.append(f"other processes ({cpu.other:.2f} cores)")
        return (
            f"the machine's CPU bounds these figures: {', '.join(sharers[:-1])} and "
            f"{sharers[-1]} share its {cpu.cores} cores"
        )
    if cpu.server >= 0.85 * run.workers:
        return (
            f"the {_worker_label(run.workers)} bound these figures: a worker runs its Python "
            "on one core at most"
        )
    return (
        "neither the CPU nor the workers were saturated: the time each request waits "
        "(on the database, on locks) bounds these closed-loop figures"
    )


def _cpu_note(run: LoadRun) -> str:
    cpu = run.cpu
    per_request = (
        f" ({cpu.server * run.seconds / run.requests * 1000:.0f} ms of CPU per request)"
        if run.requests
        else ""
    )
    database = (
        f", PostgreSQL {cpu.database:.2f} (all its databases)"
        if run.backend == "postgresql"
        else ""
    )
    return (
        f"CPU, {run.backend} with {_worker_label(run.workers)}: the server used "
        f"{cpu.server:.2f} of {cpu.cores} cores{per_request}{database}, the load generator "
        f"{cpu.load:.2f} (it shares the machine), other processes {cpu.other:.2f}; the "
        f"machine was {cpu.machine:.2f} of {cpu.cores} cores busy, so {_bound(run)}."
    )


def _worker_label(workers: int) -> str:
    return f"{workers} worker{'s' if workers > 1 else ''}"


def table(runs: Sequence[LoadRun], *, sqlite_only: bool) -> Table:
    """The section's table: one row per (backend, workers, operation) and a total per run."""
    first = runs[0]
    result = Table(
        key="load",
        title=(
            f"5. Load over loopback: {first.users} closed-loop virtual users, "
            f"{first.seconds:g} s per run"
        ),
        columns=[
            "backend",
            "workers",
            "operation",
            "requests",
            "req/s",
            "p50 ms",
            "p99 ms",
            "errors",
        ],
    )
    for run in runs:
        total: list[float] = []
        for operation in OPERATIONS:
            tally = run.tallies[operation.name]
            total += tally.durations
            result.rows.append(_row(run, operation.name, tally.durations, tally.errors))
        result.rows.append(_row(run, "total", total, run.errors))
        result.checks.append(
            Check(f"errors ({run.backend}, {_worker_label(run.workers)})", run.errors, 0)
        )
    mix = ", ".join(f"{op.name} {op.weight}%" for op in OPERATIONS)
    result.notes.append(
        f"{first.users} virtual users in {LOAD_PROCESSES} load processes of their own (one "
        f"asyncio loop and httpx client each), each user sending its next request when the "
        f"last is answered; mix by weight: {mix}; customers drawn from {SAMPLE} sampled ids. "
        f"Requests and latencies count the requests answered without error inside the window; "
        f"a {first.warmup:g} s warm-up before it is not counted, except in errors."
    )
    for run in runs:
        result.notes.append(_cpu_note(run))
    if len(runs) > 1 and runs[0].requests:
        ratio = runs[-1].requests / runs[-1].seconds / (runs[0].requests / runs[0].seconds)
        result.notes.append(
            f"{_worker_label(runs[-1].workers)} vs {runs[0].workers}: {ratio:.2f}x the "
            "requests per second on the same machine."
        )
    if sqlite_only:
        result.notes.append(
            "SQLite only: SQLite serves one writer at a time, so the run uses 1 worker; "
            "the scale-out figures (1 and 2 workers) need PostgreSQL (--postgres-url)."
        )
    shown = 0
    for run in runs:
        for name, tally in run.tallies.items():
            for message in tally.messages:
                if shown < 2 * MAX_MESSAGES:
                    result.notes.append(
                        f"error, {run.backend} with {_worker_label(run.workers)}, {name}: {message}"
                    )
                    shown += 1
    return result


def _row(run: LoadRun, name: str, durations: list[float], errors: int) -> list[Any]:
    return [
        run.backend,
        run.workers,
        name,
        len(durations),
        len(durations) / run.seconds,
        median_ms(durations) if durations else None,
        percentile_ms(durations, 0.99) if durations else None,
        errors,
    ]


async def runs(bench: Run) -> list[LoadRun]:
    """The load runs of the section: PostgreSQL with 1 and 2 workers, else SQLite with 1."""
    postgres = bench.target("postgresql")
    sqlite = bench.target("sqlite")
    plan = [(postgres, 1), (postgres, 2)] if postgres else [(sqlite, 1)] if sqlite else []
    results: list[LoadRun] = []
    for target, workers in plan:
        assert target is not None
        bench.log(
            f"load: {target.backend}, {_worker_label(workers)}, {USERS} users, "
            f"{bench.load_seconds:g} s"
        )
        results.append(await measure(target, workers, bench.load_seconds))
    return results


async def run(bench: Run) -> list[Table]:
    done = await runs(bench)
    if not done:
        return []
    return [table(done, sqlite_only=bench.target("postgresql") is None)]
