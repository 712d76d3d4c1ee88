"""Rows read with Core rather than the ORM, for reads that change nothing.

The ORM's work around a statement and each of its rows (identity map, object state, loader
options) buys nothing to a read that only builds a response. A statement of columns is run
with Core (:func:`column_rows`); a page of nodes whose ``from_model`` reads columns only is
read as plain records (:func:`records`), for root pages (:func:`core.pagination.paginate`,
when the node type sets ``ModelNode.plain_rows``) and for every nested page
(:mod:`core.child_pages`). A plain object costs a fraction of a Row's or an ORM object's per
attribute read.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVarTuple

from sqlalchemy import Result, Row, Select

from core.prepared import LeanRows

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from core.prepared import Rows

Ts = TypeVarTuple("Ts")

ColumnRow = Row[*tuple[Any, ...]]
"""A row of a statement of columns, of any number and type."""


async def core_result(
    session: AsyncSession, statement: Select[*Ts], values: Mapping[str, Any] | None = None
) -> Result[*Ts]:
    """``statement`` executed with Core on ``session``'s connection (``values``: of its
    named parameters); changes pending in the session are flushed first, as
    ``session.execute`` would."""
    if session.autoflush and (session.new or session.deleted or session.dirty):
        await session.flush()
    connection = await session.connection()
    return await connection.execute(statement, values)


async def column_rows(
    session: AsyncSession, statement: Select[*Ts], values: Mapping[str, Any] | None = None
) -> Sequence[Row[*Ts]]:
    """The rows of a statement of columns (no ORM entity), with Core (:func:`core_result`)."""
    return (await core_result(session, statement, values)).all()


class Record:
    """A row read with Core as a plain object: its columns are its attributes (the models'
    attributes are their columns' names)."""

    def __repr__(self) -> str:
        return f"Record({self.__dict__!r})"


def records(
    result: Rows,
    trailing: int,
    make: Callable[[dict[str, Any]], Any] | None = None,
    ignored: int = 0,
) -> list[tuple[Any, tuple[Any, ...]]]:
    """Each row of ``result`` as a :class:`Record` of its columns but the last
    ``trailing`` (at least one), whose values come beside it (a page's sort values), but the
    last ``ignored`` of them. ``make``: each row as what it makes of those columns by name
    (a new dict, its own)."""
    names = list(result.keys())[:-trailing]
    if len(set(names)) != len(names):  # one column would hide another of the same name
        raise ValueError(f"a page's columns must have distinct names: {names}")
    made = make if make is not None else _record
    if isinstance(result, LeanRows):  # made as the driver's rows are converted
        return result.records(trailing, made, ignored)
    at = len(names)
    end = -ignored if ignored else None
    found: list[tuple[Any, tuple[Any, ...]]] = []
    append = found.append
    for row in result.all():
        append((made(dict(zip(names, row, strict=False))), tuple(row[at:end])))
    return found


def _record(values: dict[str, Any]) -> Record:
    record = Record.__new__(Record)
    record.__dict__ = values
    return record


def reads_plain_rows(to_node: Callable[[Any], Any]) -> bool:
    """Whether ``to_node`` is the ``from_model`` of a node type that builds its nodes from
    plain records: it sets ``ModelNode.plain_rows`` itself, beside its own ``from_model``
    (a subclass inherits neither the flag's promise nor a parent's ``from_model``)."""
    kind = getattr(to_node, "__self__", None)
    if kind is None:
        return False
    own = vars(kind)
    builder = own.get("from_model")
    return bool(own.get("plain_rows", False)) and getattr(to_node, "__func__", None) is getattr(
        builder, "__func__", 0
    )
