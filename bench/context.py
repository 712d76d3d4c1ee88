"""What every section of the benchmark is given: the prepared data sets and the budget."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from bench.dataset import Target


@dataclass
class Run:
    targets: list[Target]
    """The default-size data set on each backend: SQLite always, PostgreSQL with a URL."""
    large: Target | None = None
    """The large data set (PostgreSQL only), for deep pagination and search."""
    repeats: int = 30
    """Timed samples per measurement (after warm-up)."""
    load_seconds: float = 20.0
    """Length of each load run."""
    log: Callable[[str], None] = field(default=print)

    def target(self, backend: str) -> Target | None:
        return next((t for t in self.targets if t.backend == backend), None)
