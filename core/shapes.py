"""Statements built once per shape, for the read path's hot statements.

Building a SQLAlchemy statement (and, when it runs, its cache key) is Python work that a
request pays for every statement it sends: for a nested page, wrapped in a numbered
subquery, about half a millisecond. Yet the statements of a read differ only in a few
values from one request to the next.

:func:`identity` says what a statement *is*: its SQLAlchemy cache key (its structure, the
one SQLAlchemy itself compiles by) together with every value bound in it. Two statements of
one identity send the same SQL with the same values, so a statement built around one of them
(a page around a loader's scoped statement) serves the other unchanged: the caller's scope
is among the values, so a statement built for one caller never runs for another whose
scope differs. :class:`Shapes` keeps such statements, the most recently used ones, and
whatever varies beyond the identity (the parents of a nested page) is a named parameter,
given when the statement runs. A statement SQLAlchemy cannot key, or a value that cannot be
compared, has no identity, and its statement is built every time.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

from sqlalchemy.sql import ClauseElement

T = TypeVar("T")

Identity = tuple[Any, tuple[Any, ...]]


class _Unkeyed(Exception):
    """A bound value that cannot be part of a dictionary key."""


def _frozen(value: Any) -> Hashable:
    """``value`` as a key, its type beside it (``1``, ``1.0`` and ``True`` are equal
    keys in Python, not equal values in SQL)."""
    if isinstance(value, list | tuple):
        return (type(value), tuple(_frozen(item) for item in value))
    if isinstance(value, set | frozenset):
        return (type(value), frozenset(_frozen(item) for item in value))
    try:
        hash(value)
    except TypeError as error:
        raise _Unkeyed from error
    return (type(value), value)


def identity(statement: ClauseElement) -> Identity | None:
    """The structure of ``statement`` and every value bound in it, or ``None`` when either
    cannot be a key."""
    key = statement._generate_cache_key()
    if key is None:
        return None
    try:
        values = tuple(_frozen(bound.effective_value) for bound in key.bindparams)
    except _Unkeyed:
        return None
    return key.key, values


class Shapes(Generic[T]):
    """The statements built for the most recently used keys (at most ``size``)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._built: OrderedDict[Hashable, T] = OrderedDict()

    def get(self, key: Hashable | None, build: Callable[[], T]) -> T:
        """The statement kept for ``key``, else ``build()`` (kept, unless ``key`` is
        ``None``: a statement without an identity)."""
        if key is None:
            return build()
        found = self._built.get(key)
        if found is not None:
            self._built.move_to_end(key)
            return found
        found = self._built[key] = build()
        if len(self._built) > self.size:
            self._built.popitem(last=False)
        return found

    def __len__(self) -> int:
        return len(self._built)
