"""Dataloaders: one small class per relationship, batched per request.

Subclass :class:`Loader`, implement :meth:`Loader.load_batch`, and reach it through
``info.context.loader(MyLoader)``. Each batch opens its own short read session
(:meth:`core.db.Database.lookup`: no transaction around it), so batches
of different loaders may run concurrently without sharing an ``AsyncSession``; batches are
cut at :attr:`Loader.max_batch_size` keys to stay under SQLite's bound-parameter limit.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Hashable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from aiodataloader import DataLoader
from sqlalchemy import Select, func, select

from core.child_pages import ChildPage, child_pages
from core.key_lists import among
from core.light_nodes import Light
from core.ordering import SortKey
from core.pagination import PageArgs, page_bounds

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from core.context import RequestContext

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
R = TypeVar("R")

MAX_BATCH_SIZE = 500


class Loader(DataLoader[K, V]):
    """Base of every dataloader: batches keys, returns values in key order."""

    max_batch_size_default = MAX_BATCH_SIZE

    def __init__(self, context: RequestContext) -> None:
        super().__init__(max_batch_size=self.max_batch_size_default)
        self.context = context

    async def load_many(self, keys: Iterable[K]) -> list[V]:  # type: ignore[override]
        """The values of ``keys``, in their order.

        As aiodataloader's, without its ``gather``: the futures of a batch are resolved
        together, so awaiting them in turn waits once per batch, and no callback is
        scheduled per key. Unlike aiodataloader's, this is a coroutine, not a future: the
        keys are queued when it is first awaited (every caller awaits it at once).
        """
        futures = [self.load(key) for key in keys]
        try:
            return [await future for future in futures]
        except BaseException:
            # As gather would: the other keys' failures (a failed batch fails every key of
            # it) count as seen, not logged as never retrieved when they are collected.
            for future in futures:
                future.add_done_callback(_seen)
            raise

    async def load_level(self, keys: Sequence[K]) -> list[V]:
        """The values of ``keys``, in their order, for a batch function: one that answers a
        whole level of a response (every parent of a field) in one call.

        The keys not loaded yet are loaded now, in batches of :attr:`max_batch_size`,
        without the wait for the event loop's next turn that :meth:`load_many` spends to
        gather the keys of many resolvers, each asking for its own, and without a callback
        per key. As with ``load``, each key is in the request's cache from the moment it is
        asked for: a key loaded or being loaded already is not loaded again, here or by a
        caller asking while this batch runs. A failed batch fails the call and leaves its
        keys out of the cache, as aiodataloader does.
        """
        cache = self._cache
        caching = self.cache
        loop = self.loop
        waiting: list[asyncio.Future[V]] = []
        missing: list[K] = []
        ours: list[asyncio.Future[V]] = []
        for key in keys:
            if key is None:
                raise TypeError(f"{type(self).__name__} was asked for the key None")
            future = cache.get(key) if caching else None
            if future is None:
                future = loop.create_future()
                if caching:
                    cache[key] = future
                missing.append(key)
                ours.append(future)
            waiting.append(future)
        size = self.max_batch_size or len(missing) or 1
        try:
            for start in range(0, len(missing), size):
                batch = missing[start : start + size]
                values = await self.batch_load_fn(batch)
                for key, value, future in zip(
                    batch, values, ours[start : start + size], strict=True
                ):
                    if isinstance(value, Exception):  # a key that failed, as aiodataloader
                        self._fail(key, future, value)
                    else:
                        future.set_result(value)
        except BaseException as error:
            for key, future in zip(missing, ours, strict=True):
                if not future.done():
                    self._fail(key, future, error)
            raise
        return [await future for future in waiting]

    def _fail(self, key: K, future: asyncio.Future[V], error: BaseException) -> None:
        """Fail ``future`` (of ``key``) with ``error``, out of the cache; a caller that
        shared it gets the error, and nobody is told of it as never retrieved."""
        if self._cache.get(key) is future:
            del self._cache[key]
        if isinstance(error, asyncio.CancelledError):
            future.cancel()
        else:
            future.set_exception(error)
        future.add_done_callback(_seen)

    async def batch_load_fn(self, keys: Sequence[K]) -> list[V]:
        async with self.context.db.lookup() as session:
            values = await self.load_batch(session, keys)
        if len(values) != len(keys):
            raise RuntimeError(
                f"{type(self).__name__} returned {len(values)} values for {len(keys)} keys"
            )
        return values

    async def load_batch(self, session: AsyncSession, keys: Sequence[K]) -> list[V]:
        """Return one value per key, in the order of ``keys``."""
        raise NotImplementedError


def _seen(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()


def group_by_key(keys: Sequence[K], rows: Sequence[Any], key_attr: str) -> list[list[Any]]:
    """Group ``rows`` by ``getattr(row, key_attr)`` into one list per key, in key order."""
    groups: dict[Any, list[Any]] = {key: [] for key in keys}
    for row in rows:
        bucket = groups.get(getattr(row, key_attr))
        if bucket is not None:
            bucket.append(row)
    return [groups[key] for key in keys]


def one_by_key(keys: Sequence[K], rows: Sequence[R], key_attr: str = "id") -> list[R | None]:
    """The row whose ``key_attr`` equals each key (``None`` where there is none), in key order."""
    found = {getattr(row, key_attr): row for row in rows}
    return [found.get(key) for key in keys]


class ByIdLoader(Loader[int, R | None]):
    """Rows of :attr:`entity` by id, ``None`` for an id that does not exist or that the
    caller may not see: the by-id loader of a :class:`core.node.ModelNode`.

    Subclasses set :attr:`entity` and override :meth:`statement` to add the caller's scope;
    one mixin that defines ``entity`` and ``statement`` serves this loader and the nested
    connection's :class:`ChildPageLoader` and :class:`ChildCountLoader` alike.
    """

    entity: ClassVar[Any]

    def statement(self) -> Select[Any]:
        return select(self.entity)

    async def load_batch(self, session: AsyncSession, keys: Sequence[int]) -> list[R | None]:
        ids = type(self).entity.id  # read from the class: a column is a descriptor
        rows: Sequence[R] = (await session.scalars(self.statement().where(among(ids, keys)))).all()
        return one_by_key(keys, rows)


class PageSpec:
    """What a nested page is asked for, beside its parent: the page arguments, the ordering,
    and the columns its rows need with the builder of its nodes from them (``None``: all
    columns, as records; see :func:`core.light_nodes.light_nodes`).

    Equal when their parts are; its hash is computed once (a level asks for one page per
    parent, and each key is hashed several times on its way)."""

    __slots__ = ("_hash", "args", "light", "ordering")

    def __init__(self, args: PageArgs, ordering: tuple[SortKey, ...], light: Light | None) -> None:
        self.args, self.ordering, self.light = args, ordering, light
        self._hash = hash((args, ordering, light))

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        return self is other or (
            isinstance(other, PageSpec)
            and self._hash == other._hash
            and (self.args, self.ordering, self.light) == (other.args, other.ordering, other.light)
        )


PageKey = tuple[Any, PageSpec]
"""A nested page's loader key: the parent's id and what its page is asked for."""


class ChildPageLoader(Loader[PageKey, ChildPage]):
    """Pages of a nested connection (``customer.contacts(first: 5)``) for many parents at once.

    Subclasses set :attr:`entity`, :attr:`parent` (the child's column naming its parent) and
    :attr:`keys` (the default ordering, unique by its last key), and override
    :meth:`statement` to add the caller's scope. Keys are :data:`PageKey` (the ordering a
    field's ``orderBy`` asked for); parents asking for the same page arguments, ordering and
    columns share one statement.
    """

    entity: ClassVar[Any]
    parent: ClassVar[Any]
    keys: ClassVar[Sequence[SortKey]]

    def statement(self) -> Select[Any]:
        return select(self.entity)

    async def load_batch(self, session: AsyncSession, keys: Sequence[PageKey]) -> list[ChildPage]:
        by_spec: dict[PageSpec, list[Any]] = defaultdict(list)
        for parent_id, spec in keys:
            by_spec[spec].append(parent_id)
        pages: dict[PageKey, ChildPage] = {}
        for spec, parent_ids in by_spec.items():
            args = spec.args
            # Checked once, where the field was resolved (RequestContext.child_pages).
            limit, backwards = page_bounds(args, self.context.settings.max_page_size)
            rows = await child_pages(
                session,
                self.statement(),
                parent=type(self).parent,  # read from the class: a column is a descriptor
                parent_ids=parent_ids,
                keys=spec.ordering,
                args=args,
                limit=limit,
                backwards=backwards,
                light=spec.light,
            )
            for parent_id in parent_ids:
                pages[(parent_id, spec)] = ChildPage(rows[parent_id], args, limit, backwards)
        return [pages[key] for key in keys]


class ChildCountLoader(Loader[Any, int]):
    """How many children each parent has (``totalCount`` of a nested connection)."""

    entity: ClassVar[Any]
    parent: ClassVar[Any]

    def statement(self) -> Select[Any]:
        return select(self.entity)

    async def load_batch(self, session: AsyncSession, keys: Sequence[Any]) -> list[int]:
        parent = type(self).parent  # read from the class: a column is a descriptor
        children = self.statement().where(among(parent, keys)).subquery("children")
        parent_column = children.c[parent.key]
        rows = (
            await session.execute(select(parent_column, func.count()).group_by(parent_column))
        ).all()
        counts = {parent_id: int(count) for parent_id, count in rows}
        return [counts.get(key, 0) for key in keys]
