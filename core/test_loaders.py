"""Dataloaders: ``load_many`` answers in key order, and a failed batch fails its keys without
leaving failures nobody looked at."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

import pytest

from core.loaders import Loader


class Doubles(Loader[int, int]):
    max_batch_size_default = 2

    def __init__(self, fail: bool = False) -> None:
        super().__init__(SimpleNamespace())  # type: ignore[arg-type]
        self.fail = fail
        self.batches: list[list[int]] = []

    async def batch_load_fn(self, keys: Sequence[int]) -> list[int]:
        self.batches.append(list(keys))
        if self.fail:
            raise RuntimeError("the database went away")
        return [key * 2 for key in keys]


async def test_load_many_answers_in_key_order_across_batches() -> None:
    loader = Doubles()
    assert await loader.load_many([3, 1, 2, 3, 5]) == [6, 2, 4, 6, 10]
    assert sorted(key for batch in loader.batches for key in batch) == [1, 2, 3, 5]
    assert all(len(batch) <= 2 for batch in loader.batches)
    assert await loader.load_many([5, 1]) == [10, 2]  # from the cache: no new batch
    assert len(loader.batches) == 2


async def test_a_failed_batch_leaves_no_failure_unseen() -> None:
    loop = asyncio.get_running_loop()
    reported: list[dict[str, Any]] = []
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, context: reported.append(context))
    try:
        loader = Doubles(fail=True)
        with pytest.raises(RuntimeError, match="went away"):
            await loader.load_many([1, 2, 3, 4, 5])
        for _ in range(3):  # every batch has run and its futures are gone
            await asyncio.sleep(0)
        del loader
        gc.collect()
        await asyncio.sleep(0)
    finally:
        loop.set_exception_handler(previous)
    assert reported == []
