"""The load section runs every operation without errors, and what it creates is really there.

No timing is asserted: the figures depend on the machine.
"""

from __future__ import annotations

from typing import Any

import httpx

from bench import load, loadgen
from bench.context import Run
from bench.dataset import in_process, served

NODES = """
query($ids: [ID!]!) {
  nodes(ids: $ids) {
    __typename id
    ... on Interaction { summary customer { id } }
    ... on Ticket { subject status customer { id } }
  }
}"""


async def _nodes(run: Run, ids: list[str]) -> list[Any]:
    found: list[Any] = []
    async with in_process(run.targets[0]) as client:
        for start in range(0, len(ids), 100):
            data = await client.data(NODES, {"ids": ids[start : start + 100]})
            found += data["nodes"]
    return found


async def test_load_section_runs_every_operation_without_errors(bench_run: Run) -> None:
    runs = await load.runs(bench_run)
    tables = [load.table(runs, sqlite_only=bench_run.target("postgresql") is None)]

    backend = bench_run.targets[0].backend
    expected = [1, 2] if backend == "postgresql" else [1]
    assert [(r.backend, r.workers) for r in runs] == [(backend, w) for w in expected]
    (table,) = tables
    names = [op.name for op in loadgen.OPERATIONS]
    for run in runs:
        rows = {
            row[2]: row for row in table.rows if row[0] == run.backend and row[1] == run.workers
        }
        assert set(rows) == {*names, "total"}
        assert rows["total"][3] > 0, f"no requests in the window with {run.workers} workers"
        for name in names:
            # Every operation was answered (each user starts with one in turn, in the
            # warm-up); how many fall inside a two-second window depends on the machine.
            tally = run.tallies[name]
            assert tally.answered > 0, f"no {name} requests with {run.workers} workers"
            assert tally.answered >= len(tally.durations) == rows[name][3]
            assert rows[name][7] == 0, table.notes
        assert rows["total"][3] == sum(rows[name][3] for name in names)
        assert rows["total"][7] == 0
    assert all(check.passed for check in table.checks)
    assert len(table.checks) == len(runs)
    if backend == "sqlite":
        assert any("SQLite serves one writer at a time" in note for note in table.notes)
    assert any("the server used" in note for note in table.notes)

    for operation, typename, text in (
        ("log interaction", "Interaction", "summary"),
        ("open ticket", "Ticket", "subject"),
    ):
        created = [gid for run in runs for gid in run.created(operation)]
        # Every answered create counted in the window returned its record (and more in the
        # warm-up, also recorded).
        assert len(created) >= sum(len(run.tallies[operation].durations) for run in runs), operation
        assert len(set(created)) == len(created)
        found = await _nodes(bench_run, created)
        assert [node["id"] if node else None for node in found] == created
        assert {node["__typename"] for node in found} == {typename}
        assert all(node[text].startswith("Load run ") for node in found)
        assert all(node["customer"] is not None for node in found)


async def test_a_served_app_keeps_answering_after_logging_more_than_a_pipe_holds(
    bench_run: Run,
) -> None:
    # The app logs a line (~250 bytes) per request; 400 requests write ~100 KB, more than a
    # pipe buffers (64 KiB). A server whose output nobody read would stop answering.
    with served(bench_run.targets[0]) as base_url:
        async with httpx.AsyncClient(base_url=base_url, timeout=10) as http:
            for _ in range(400):
                assert (await http.get("/healthz")).status_code == 200
