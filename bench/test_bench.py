"""The benchmark measures what it says: the floor, the naive app and graphql-core alone give
the app's exact response, statement counts are real, and the report files hold the tables.
Nothing here is timed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import latency, statements, throughput
from bench.context import Run
from bench.dataset import drop, in_process, prepare
from bench.floor import nested_customers
from bench.queries import NESTED
from bench.report import Check, Table, markdown, write
from core.db import Database


async def test_floor_returns_the_apps_bytes(bench_run: Run) -> None:
    (target,) = bench_run.targets
    db = Database(target.url)
    try:
        async with in_process(target) as client:
            for first in (1, 7, 60):
                ours = await client.post(NESTED, {"first": first})
                assert await nested_customers(db.engine, first) == ours
            body = json.loads(ours)
    finally:
        await db.dispose()
    edges = body["data"]["customers"]["edges"]
    assert len(edges) == 60
    # The page really carries nested rows: 5 contacts each at this size's demo data or
    # fewer, interactions and tickets for some.
    assert all(1 <= len(e["node"]["contacts"]["edges"]) <= 5 for e in edges)
    assert any(e["node"]["interactions"]["edges"] for e in edges)
    assert any(e["node"]["tickets"]["edges"] for e in edges)
    assert all(e["node"]["owner"] for e in edges)


async def test_statements_do_not_grow_with_the_page(bench_run: Run) -> None:
    (table,) = await statements.run(bench_run)
    ours = [row[2] for row in table.rows]
    naive = [row[3] for row in table.rows]
    assert len(set(ours)) == 1
    assert ours[0] <= 16
    # The naive app pays per customer (the data set has 60, so N = 100 gives 60).
    assert naive[0] < naive[1] < naive[2]
    assert naive[1] > 5 * ours[1]
    assert all(check.passed for check in table.checks)


async def test_latency_section_compares_the_same_work(bench_run: Run) -> None:
    overhead, naive_table, per_customer = await latency.run(bench_run)
    backend = bench_run.targets[0].backend
    ways = [row[1] for row in overhead.rows]
    assert ways == [
        "raw SQL floor",
        "app in process (ASGI)",
        "app in process, reference executor",
        "app over loopback (uvicorn), found idle",
        "app over loopback (uvicorn), warm",
        "graphql-core alone, rows in memory",
    ]
    assert all(row[0] == backend and row[2] > 0 for row in overhead.rows)
    assert overhead.rows[0][4] == 1.0
    # Held to the target: in process, and over loopback warm (the idle row is shown).
    assert [check.name for check in overhead.checks] == [
        f"{backend}, app in process (ASGI) / floor",
        f"{backend}, app over loopback (uvicorn), warm / floor",
    ]
    # The reference executor answered the same requests (its bytes were checked first).
    (ratio,) = [note for note in overhead.notes if "reference executor takes" in note]
    assert ratio.startswith(f"{backend}: the reference executor takes ")
    (row,) = naive_table.rows
    assert row[1] > 0
    assert row[2] > 0
    # Cost per customer at each page size, beside the floor's.
    assert [r[1] for r in per_customer.rows] == [10, 50, 100]
    assert all(r[0] == backend and r[2] > 0 and r[3] > 0 and r[4] > 0 for r in per_customer.rows)


async def test_data_sets_are_reused_until_asked_fresh(tmp_path: Path) -> None:
    logged: list[str] = []
    first = await prepare("sqlite", 100, data_dir=tmp_path, log=logged.append)
    assert any("loading 100 demo customers" in line for line in logged)
    logged.clear()
    again = await prepare("sqlite", 100, data_dir=tmp_path, log=logged.append)
    assert again.url == first.url
    assert logged == []  # reused, not loaded again
    async with in_process(again) as client:
        data = await client.data("{ customers(first: 1) { totalCount } }")
    assert data["customers"]["totalCount"] == 100
    await prepare("sqlite", 100, data_dir=tmp_path, fresh=True, log=logged.append)
    assert any("loading 100 demo customers" in line for line in logged)
    async with in_process(again) as client:
        data = await client.data("{ customers(first: 1) { totalCount } }")
    assert data["customers"]["totalCount"] == 100  # made anew, not added to


def test_report_files(tmp_path: Path) -> None:
    table = Table(
        key="t",
        title="A table",
        columns=["backend", "ms"],
        rows=[["sqlite", 12.345]],
        checks=[Check("ratio", 2.5, 3.0), Check("naive / ours", 4.0, 10.0, at_most=False)],
        notes=["a note"],
    )
    meta = {"finished": "now", "machine": "here", "command": "python -m bench"}
    json_path, md_path = write([table], meta, tmp_path)
    saved = json.loads(json_path.read_text())
    assert saved["tables"][0]["rows"] == [["sqlite", 12.345]]
    assert [c["passed"] for c in saved["tables"][0]["checks"]] == [True, False]
    text = md_path.read_text()
    assert text == markdown([table], meta) + "\n"
    assert "| sqlite | 12.3 |" in text
    assert "ratio: 2.50 (target ≤ 3.00) met" in text
    assert "naive / ours: 4.00 (target ≥ 10.0) MISSED" in text


def test_readme_shows_the_latest_results(tmp_path: Path) -> None:
    from bench.__main__ import END, README, RESULTS, START, update_readme

    latest = (RESULTS / "latest.md").read_text(encoding="utf-8").strip()
    shown = README.read_text(encoding="utf-8").split(START, 1)[1].split(END, 1)[0].strip()
    assert shown == latest, "run `make bench` (it updates the README) or copy latest.md"
    assert json.loads((RESULTS / "latest.json").read_text())["tables"]

    readme = tmp_path / "README.md"
    readme.write_text(f"# x\n\n{START}\nold\n{END}\n\n## after\n", encoding="utf-8")
    new = tmp_path / "latest.md"
    new.write_text("| a |\n", encoding="utf-8")
    assert update_readme(readme, new)
    assert readme.read_text(encoding="utf-8") == f"# x\n\n{START}\n| a |\n{END}\n\n## after\n"
    readme.write_text("# no markers\n", encoding="utf-8")
    assert not update_readme(readme, new)


def test_results_never_show_addresses_or_local_paths() -> None:
    from bench.__main__ import _shown_arguments

    assert _shown_arguments(
        [
            "--postgres-url",
            "postgresql://u:secret@db:5432/postgres",
            "--data-dir=/home/someone/x",
            "--results",
            "/tmp/r",
            "--large-size",
            "1000000",
        ]
    ) == [
        "--postgres-url",
        "$CRM_BENCH_POSTGRES_URL",
        "--data-dir=DIR",
        "--results",
        "DIR",
        "--large-size",
        "1000000",
    ]


async def test_bad_data_set_requests_are_refused_by_name(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown backend 'mysql'"):
        await prepare("mysql", 100, data_dir=tmp_path)
    with pytest.raises(ValueError, match="--postgres-url"):
        await prepare("postgresql", 100, data_dir=tmp_path)
    with pytest.raises(ValueError, match="crm_bench_"):
        await prepare(
            "postgresql",
            100,
            data_dir=tmp_path,
            postgres_url="postgresql://postgres@127.0.0.1:5432/postgres",
            database="postgres",
        )
    target = await prepare("sqlite", 100, data_dir=tmp_path, log=lambda _: None)
    with pytest.raises(ValueError, match="not a benchmark database"):
        await drop(target, "postgresql://postgres@127.0.0.1:5432/postgres")


def test_an_unknown_section_is_refused_by_name() -> None:
    from typer.testing import CliRunner

    from bench.__main__ import cli

    result = CliRunner().invoke(cli, ["--section", "latency", "--section", "speed"])
    assert result.exit_code == 2
    assert "unknown section(s): speed" in result.output


async def test_throughput_section_serves_both_read_paths_without_errors(bench_run: Run) -> None:
    (table,) = await throughput.run(bench_run)
    backend = bench_run.targets[0].backend
    assert [(row[0], row[1]) for row in table.rows] == [
        (backend, "compiled"),
        (backend, "reference"),
    ]
    # However slow the machine, the window lasts until each client has had an answer in it.
    assert all(row[2] >= throughput.CLIENTS and row[3] > 0 and row[6] == 0 for row in table.rows), (
        table.rows
    )
    errors = [check for check in table.checks if check.name.startswith("errors")]
    assert len(errors) == 2
    assert all(check.passed for check in errors)
    (ratio,) = [check for check in table.checks if "compiled / reference" in check.name]
    assert ratio.value > 0
