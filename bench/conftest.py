"""Fixtures of the benchmark's own tests: a small data set on each backend.

The tests check that every section runs and that what it compares is the same work (the
raw floor and the naive app answer exactly what the app answers); they time nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bench.context import Run
from bench.dataset import drop, prepare
from tests.support import BACKENDS, POSTGRES_URL

SMALL = 60


@pytest.fixture(params=BACKENDS)
async def bench_run(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Run]:
    """A :class:`Run` over a data set of ``SMALL`` demo customers on one backend."""
    backend: str = request.param
    if backend == "sqlite":
        target = await prepare("sqlite", SMALL, data_dir=tmp_path, log=lambda _: None)
        yield Run(targets=[target], repeats=3, load_seconds=2, log=lambda _: None)
        return
    name = f"crm_bench_test_{uuid.uuid4().hex[:10]}"
    target = await prepare(
        "postgresql",
        SMALL,
        data_dir=tmp_path,
        postgres_url=POSTGRES_URL,
        database=name,
        log=lambda _: None,
    )
    try:
        yield Run(targets=[target], large=target, repeats=3, load_seconds=2, log=lambda _: None)
    finally:
        await drop(target, POSTGRES_URL)
