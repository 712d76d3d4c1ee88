"""Orderings of lists: the sort keys of a query and a list's ``orderBy: [XOrder!]``.

Every list sorts by the entries of its ``orderBy`` in turn and then by its unique id, so that
keyset cursors (:mod:`core.pagination`) stay stable; a nullable key sorts its NULLs after
every value on every database.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import strawberry
from sqlalchemy import case

from core.errors import bad_argument
from core.i18n import _


@strawberry.enum(description="Ascending or descending.")
class OrderDirection(enum.Enum):
    ASC = "ASC"
    DESC = "DESC"


@dataclass(frozen=True)
class SortKey:
    """One column (or expression) of an ordering; the last key of an ordering must be
    unique (the id).

    A ``nullable`` key sorts NULL after every value: last when ascending, first when
    descending, on every database (an ordering by ``column IS NULL`` first, then the
    column), and pages across its NULLs like across any value.
    """

    column: Any
    descending: bool = False
    nullable: bool = False


def flat_keys(keys: Sequence[SortKey]) -> tuple[SortKey, ...]:
    """``keys`` as the database orders by them: a nullable key becomes a NULL flag (0, then
    1) and the column."""
    return _flat_cached(tuple(keys))


@functools.lru_cache(maxsize=256)
def _flat_cached(keys: tuple[SortKey, ...]) -> tuple[SortKey, ...]:
    flat: list[SortKey] = []
    for key in keys:
        if key.nullable:
            flag = case((key.column.is_(None), 1), else_=0)
            flat.append(SortKey(flag, key.descending))
            flat.append(SortKey(key.column, key.descending))
        else:
            flat.append(key)
    return tuple(flat)


MAX_ORDER_ENTRIES = 3
"""The most entries an ``orderBy`` takes."""

ORDER_BY_HELP = (
    "Sorts by each entry in turn (at most 3, each field once), then by id; null or empty: "
    "the list's default order. A cursor works only with the orderBy it was given out under."
)
"""The description of every list's ``orderBy`` argument."""


class ListOrder:
    """The orderings a list offers, for its ``orderBy: [XOrder!]`` argument.

    Each entry of ``orderBy`` (an input with ``field`` and ``direction``) sorts by the
    field's column in turn; ``unique`` (the id) comes last, in the direction of the first
    entry, so that every ordering is total and its cursors stable. An empty or missing
    ``orderBy`` is ``default``.

    :param columns: the column (or SQL expression) of each field of the list's enum.
    :param unique: the unique column ending every ordering.
    :param default: the ordering without ``orderBy``: (field, descending) pairs.
    :param nullable: fields whose column can be NULL (sorted after every value).
    """

    def __init__(
        self,
        columns: Mapping[Any, Any],
        unique: Any,
        default: Sequence[tuple[Any, bool]],
        nullable: Iterable[Any] = (),
    ) -> None:
        self.columns, self.unique, self.default = dict(columns), unique, tuple(default)
        self.nullable = frozenset(nullable)
        self._built: dict[tuple[tuple[Any, bool], ...], tuple[SortKey, ...]] = {}

    def keys(self, order_by: Sequence[Any] | None, argument: str = "orderBy") -> list[SortKey]:
        """The sort keys of ``order_by`` (entries with ``field`` and ``direction``); a
        duplicate field or more than :data:`MAX_ORDER_ENTRIES` entries is a
        BAD_USER_INPUT error naming ``argument``."""
        entries = list(order_by or [])
        if len(entries) > MAX_ORDER_ENTRIES:
            raise bad_argument(
                argument,
                _("takes at most {max} entries", max=MAX_ORDER_ENTRIES),
            )
        seen: set[Any] = set()
        wanted: list[tuple[Any, bool]] = []
        for index, entry in enumerate(entries):
            if entry.field in seen:
                raise bad_argument(
                    f"{argument}.{index}.field",
                    _("{name} is already in {argument}", name=entry.field.name, argument=argument),
                )
            seen.add(entry.field)
            wanted.append((entry.field, entry.direction == OrderDirection.DESC))
        return list(self._keys(tuple(wanted) or self.default))

    def _keys(self, wanted: tuple[tuple[Any, bool], ...]) -> tuple[SortKey, ...]:
        # Built once per ordering: the same key objects each request, so the ordering's
        # fingerprint (ordering_tag) is computed once too.
        built = self._built.get(wanted)
        if built is None:
            keys = [
                SortKey(self.columns[field], descending, field in self.nullable)
                for field, descending in wanted
            ]
            keys.append(SortKey(self.unique, wanted[0][1]))
            built = self._built[wanted] = tuple(keys)
        return built
