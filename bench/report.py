"""Tables of figures, checks against the targets, and the files a run writes.

Every section of the benchmark returns :class:`Table` objects; the run prints them, then
writes them all to ``bench/results/latest.json`` and ``bench/results/latest.md``.
"""

from __future__ import annotations

import json
import platform
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table as RichTable


@dataclass(frozen=True)
class Check:
    """One target of the issue, met or not, with the figure that decides it."""

    name: str
    value: float
    limit: float
    at_most: bool = True
    """True: the value must be at most ``limit``; False: at least."""

    @property
    def passed(self) -> bool:
        return self.value <= self.limit if self.at_most else self.value >= self.limit

    def describe(self) -> str:
        sign = "≤" if self.at_most else "≥"
        verdict = "met" if self.passed else "MISSED"
        return f"{self.name}: {fmt(self.value)} (target {sign} {fmt(self.limit)}) {verdict}"


@dataclass
class Table:
    key: str
    title: str
    columns: list[str]
    rows: list[list[Any]] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def fmt(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return "-" if value is None else str(value)
    if isinstance(value, float):
        if value >= 100:
            return f"{value:,.0f}"
        if value >= 10:
            return f"{value:.1f}"
        return f"{value:.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def median_ms(seconds: Sequence[float]) -> float:
    return statistics.median(seconds) * 1000


def percentile_ms(seconds: Sequence[float], fraction: float) -> float:
    """The ``fraction`` quantile (nearest rank) of timings in seconds, in milliseconds."""
    ordered = sorted(seconds)
    if not ordered:
        return 0.0
    rank = min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))
    return ordered[rank] * 1000


def print_tables(tables: Sequence[Table], console: Console) -> None:
    for table in tables:
        shown = RichTable(title=table.title, title_justify="left")
        for column in table.columns:
            shown.add_column(column)
        for row in table.rows:
            shown.add_row(*(fmt(v) for v in row))
        console.print(shown)
        for check in table.checks:
            style = "green" if check.passed else "red"
            console.print(f"  [{style}]{check.describe()}[/{style}]", highlight=False)
        for note in table.notes:
            console.print(f"  {note}", highlight=False)


def markdown(tables: Sequence[Table], meta: dict[str, Any]) -> str:
    lines = [
        f"Run {meta['finished']} on {meta['machine']}; command: `{meta['command']}`",
        "",
    ]
    for table in tables:
        lines += [f"#### {table.title}", ""]
        lines.append("| " + " | ".join(table.columns) + " |")
        lines.append("|" + "|".join("---" for _ in table.columns) + "|")
        lines += ["| " + " | ".join(fmt(v) for v in row) + " |" for row in table.rows]
        lines.append("")
        lines += [f"- {check.describe()}" for check in table.checks]
        lines += [f"- {note}" for note in table.notes]
        if table.checks or table.notes:
            lines.append("")
    return "\n".join(lines)


def machine() -> str:
    return f"{platform.system()} {platform.machine()}, Python {platform.python_version()}"


def write(tables: Sequence[Table], meta: dict[str, Any], directory: Path) -> list[Path]:
    """Write ``latest.json`` and ``latest.md`` into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    data = {
        "meta": meta,
        "tables": [
            {**asdict(table), "checks": [{**asdict(c), "passed": c.passed} for c in table.checks]}
            for table in tables
        ],
    }
    json_path = directory / "latest.json"
    json_path.write_text(json.dumps(data, indent=2, default=str) + "\n")
    md_path = directory / "latest.md"
    md_path.write_text(markdown(tables, meta) + "\n")
    return [json_path, md_path]
