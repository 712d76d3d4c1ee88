"""Page rows read with Core rather than the ORM, as plain records.

A page is read, never changed, and a plain object costs a fraction of a Row's or an ORM
object's per attribute read. Root pages (:func:`core.pagination.paginate`) and nested ones
(:mod:`core.child_pages`) read their rows this way when the node type allows it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Result


class Record:
    """A row read with Core, not the ORM, as a plain object: its columns are its
    attributes (the models' attributes are their columns' names)."""

    def __repr__(self) -> str:
        return f"Record({self.__dict__!r})"


def records(result: Result[Any], trailing: int) -> list[tuple[Record, tuple[Any, ...]]]:
    """Each row of ``result`` as a :class:`Record` of its columns but the last
    ``trailing`` (at least one), whose values come beside it: a page's sort values.

    A plain object costs a fraction of a Row's or an ORM object's per attribute read, and
    a page is read, never changed.
    """
    names = list(result.keys())[:-trailing]
    at = len(names)
    new = Record.__new__
    found: list[tuple[Record, tuple[Any, ...]]] = []
    append = found.append
    for row in result.all():
        record = new(Record)
        record.__dict__ = dict(zip(names, row, strict=False))
        append((record, tuple(row[at:])))
    return found


def reads_plain_rows(to_node: Callable[[Any], Any]) -> bool:
    """Whether ``to_node`` is the ``from_model`` of a node type that builds its nodes from
    plain records (``ModelNode.plain_rows``)."""
    kind = getattr(to_node, "__self__", None)
    return bool(getattr(kind, "plain_rows", False)) and getattr(
        to_node, "__func__", None
    ) is getattr(getattr(kind, "from_model", None), "__func__", 0)
