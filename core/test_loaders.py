"""Dataloaders: ``load_many`` and ``load_level`` answer in key order, and a failed batch fails
its keys without leaving failures nobody looked at."""

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


@pytest.mark.parametrize("method", ["load_many", "load_level"])
async def test_a_failed_batch_leaves_no_failure_unseen(method: str) -> None:
    loop = asyncio.get_running_loop()
    reported: list[dict[str, Any]] = []
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, context: reported.append(context))
    try:
        loader = Doubles(fail=True)
        with pytest.raises(RuntimeError, match="went away"):
            await getattr(loader, method)([1, 2, 3, 4, 5])
        for _ in range(3):  # every batch has run and its futures are gone
            await asyncio.sleep(0)
        del loader
        gc.collect()
        await asyncio.sleep(0)
    finally:
        loop.set_exception_handler(previous)
    assert reported == []


async def test_load_level_loads_a_level_at_once_in_key_order_across_batches() -> None:
    loader = Doubles()
    assert await loader.load_level([3, 1, 2, 3, 5]) == [6, 2, 4, 6, 10]
    assert loader.batches == [[3, 1], [2, 5]]  # each key once, cut at max_batch_size
    assert await loader.load_level([]) == []
    assert len(loader.batches) == 2


async def test_load_level_shares_the_cache_with_load() -> None:
    loader = Doubles()
    assert await loader.load(4) == 8
    assert await loader.load_level([4, 6]) == [8, 12]
    assert loader.batches == [[4], [6]]  # 4 came from the cache
    assert await loader.load(6) == 12  # cached by load_level: no new batch
    assert await loader.load_many([6, 4]) == [12, 8]
    assert len(loader.batches) == 2


async def test_load_level_waits_for_a_key_already_being_loaded() -> None:
    loader = Doubles()
    pending = loader.load(7)  # queued for the next turn of the event loop
    assert not pending.done()
    assert await loader.load_level([7, 8]) == [14, 16]
    assert sorted(loader.batches) == [[7], [8]]  # 7 was not loaded twice


async def test_load_level_fails_with_a_failed_batch_and_caches_nothing() -> None:
    loader = Doubles(fail=True)
    with pytest.raises(RuntimeError, match="went away"):
        await loader.load_level([1, 2])
    loader.fail = False
    assert await loader.load_level([1, 2]) == [2, 4]  # loaded again, not a cached failure
    assert loader.batches == [[1, 2], [1, 2]]


async def test_load_level_fails_with_a_key_that_failed_and_keeps_the_others() -> None:
    class Picky(Doubles):
        async def batch_load_fn(self, keys: Sequence[int]) -> list[Any]:
            self.batches.append(list(keys))
            return [ValueError(f"no {key}") if key == 2 else key for key in keys]

    loader = Picky()
    with pytest.raises(ValueError, match="no 2"):
        await loader.load_level([1, 2])
    assert await loader.load_level([1]) == [1]  # from the cache, as aiodataloader keeps it
    with pytest.raises(ValueError, match="no 2"):
        await loader.load_level([2])  # asked again: a failure is not cached
    assert loader.batches == [[1, 2], [2]]


async def test_a_key_asked_for_while_load_level_loads_it_is_not_loaded_twice() -> None:
    loader = Doubles()
    first = asyncio.ensure_future(loader.load_level([1, 2]))
    await asyncio.sleep(0)  # the first call has put its keys in the cache and is loading
    pages, one = await asyncio.gather(loader.load_level([2, 3]), loader.load(1))
    assert await first == [2, 4]
    assert (pages, one) == ([4, 6], 2)
    assert sorted(loader.batches) == [[1, 2], [3]]


async def test_load_level_refuses_the_key_none() -> None:
    with pytest.raises(TypeError, match="None"):
        await Doubles().load_level([1, None])  # type: ignore[list-item]
