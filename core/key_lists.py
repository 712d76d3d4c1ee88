"""A column among many keys: :func:`among`, for batch loaders.

``column.in_(keys)`` binds one parameter per key, and SQLAlchemy renders them into the
statement's text at every execution. On PostgreSQL that adds a cast for each, and for a
batch of a hundred keys it costs about as much as the statement's round trip. There
:func:`among` binds the keys as one array instead, ``column = ANY(CAST(:keys AS <type>[]))``,
and the statement's text is the same for any number of keys (compiled and prepared once).
SQLite takes ``column IN (...)`` as it is: a JSON array read with ``json_each``, the one
value it could bind instead, costs it more than it saves.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Boolean, ColumnElement, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import operators
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import BindParameter, Grouping
from sqlalchemy.sql.visitors import InternalTraversal


class Among(ColumnElement[bool]):
    """``column`` equal to one of a list of keys bound as one value (see :func:`among`)."""

    __visit_name__ = "crm_among"
    inherit_cache = True
    type = Boolean()
    _traverse_internals = [
        ("column", InternalTraversal.dp_clauseelement),
        ("array", InternalTraversal.dp_clauseelement),
        ("listed", InternalTraversal.dp_clauseelement),
    ]

    def __init__(
        self, column: ColumnElement[Any], keys: list[Any] | None, name: str | None = None
    ) -> None:
        self.column = column
        # Both forms are part of the element (its cache key and its parameters), and each
        # database's compiler renders the one it takes; a parameter left out of a
        # statement's text is not sent.
        array_type: Any = ARRAY(column.type)
        if name is None:
            self.array: BindParameter[list[Any]] = bindparam(
                None, keys, type_=array_type, unique=True
            )
            self.listed: ColumnElement[bool] = column.in_(keys or [])
        else:
            self.array = bindparam(name, type_=array_type)
            self.listed = column.in_(bindparam(f"{name}_list", type_=column.type, expanding=True))

    def self_group(self, against: Any = None) -> ColumnElement[Any]:
        # A condition as it is (not "= 1" as a boolean value on SQLite), in parentheses
        # inside anything but a WHERE clause's AND and OR.
        if against in (None, operators._asbool, operators.and_, operators.or_):
            return self
        return Grouping(self)


def among(column: Any, keys: Iterable[Any]) -> ColumnElement[bool]:
    """``column`` is one of ``keys`` (integers or strings), bound as one value."""
    return Among(column, list(keys))


def among_named(column: Any, name: str) -> ColumnElement[bool]:
    """``column`` is one of the keys given when the statement runs, as
    :func:`among_values` names them: a statement built once and run with other keys."""
    return Among(column, None, name)


def among_values(name: str, keys: Iterable[Any]) -> dict[str, list[Any]]:
    """The parameters of :func:`among_named`'s ``name`` for ``keys`` (each database's form
    takes its own; the other is not sent)."""
    listed = list(keys)
    return {name: listed, f"{name}_list": listed}


@compiles(Among, "postgresql")
def _among_postgresql(element: Among, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.column, **kw)
    keys = compiler.process(element.array, **kw)
    return f"{column} = ANY({keys})"


@compiles(Among)
def _among_listed(element: Among, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.listed, **kw)
