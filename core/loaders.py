"""Dataloaders: one small class per relationship, batched per request.

Subclass :class:`Loader`, implement :meth:`Loader.load_batch`, and reach it through
``info.context.loader(MyLoader)``. Each batch opens its own short read session, so batches
of different loaders may run concurrently without sharing an ``AsyncSession``; batches are
cut at :attr:`Loader.max_batch_size` keys to stay under SQLite's bound-parameter limit.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from aiodataloader import DataLoader

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from core.context import RequestContext

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

MAX_BATCH_SIZE = 500


class Loader(DataLoader[K, V]):
    """Base of every dataloader: batches keys, returns values in key order."""

    max_batch_size_default = MAX_BATCH_SIZE

    def __init__(self, context: RequestContext) -> None:
        super().__init__(max_batch_size=self.max_batch_size_default)
        self.context = context

    async def batch_load_fn(self, keys: Sequence[K]) -> list[V]:
        async with self.context.db.read() as session:
            values = await self.load_batch(session, keys)
        if len(values) != len(keys):
            raise RuntimeError(
                f"{type(self).__name__} returned {len(values)} values for {len(keys)} keys"
            )
        return values

    async def load_batch(self, session: AsyncSession, keys: Sequence[K]) -> list[V]:
        """Return one value per key, in the order of ``keys``."""
        raise NotImplementedError


def group_by_key(keys: Sequence[K], rows: Sequence[Any], key_attr: str) -> list[list[Any]]:
    """Group ``rows`` by ``getattr(row, key_attr)`` into one list per key, in key order."""
    groups: dict[Any, list[Any]] = {key: [] for key in keys}
    for row in rows:
        bucket = groups.get(getattr(row, key_attr))
        if bucket is not None:
            bucket.append(row)
    return [groups[key] for key in keys]
