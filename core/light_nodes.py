"""Pages whose nodes a query reads a few fields of, read with those fields' columns alone.

When the compiled read path knows that a query reads only plain fields of a page's nodes
(scalars, enums, ids) and batch fields that declare the attributes they read, it says which
(:data:`wanted_nodes`), and a node type that declares the columns of those attributes
(``ModelNode.read_columns``) has its page read with those columns alone and its nodes built
from them (:func:`light_nodes`): the rest of each row is neither fetched nor converted. Nested
pages (:mod:`core.child_pages`) and root pages (:func:`core.pagination.paginate`) both ask.
"""

from __future__ import annotations

import contextvars
import enum
import functools
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Select


def only_columns(statement: Select[Any], names: Sequence[str]) -> Select[Any]:
    """``statement`` selecting its columns named ``names`` alone (by the names its rows
    would have, the last of a name winning as it does in a row's dict); unchanged when it
    has no column of one of those names."""
    selected = {column.key: column for column in statement.selected_columns}
    wanted = dict.fromkeys(names)
    if any(name not in selected for name in wanted):
        return statement
    return statement.with_only_columns(
        *(selected[name] for name in wanted), maintain_column_froms=True
    )


wanted_nodes: contextvars.ContextVar[tuple[str, frozenset[str]] | None]
wanted_nodes = contextvars.ContextVar("crm_wanted_nodes", default=None)
"""Set by the compiled read path around a root field's resolver or a batch function whose
connections' nodes the query reads plain fields (and declared batch fields) of only: the node
type's GraphQL name and the attributes read. The first :func:`light_nodes` of that node type
clears it."""

NodeReads = tuple[tuple[str, str, Callable[[Any], Any] | None], ...]


Light = tuple[tuple[str, ...], Callable[[dict[str, Any]], Any]]
"""The columns a page reads and the builder of its nodes from them (:func:`light_nodes`)."""


def light_nodes(to_node: Callable[[Any], Any]) -> Light | None:
    """The columns to read and the node builder (from a row's columns by name) for a page
    whose nodes ``to_node`` (a node type's ``from_model``) would build, when
    :data:`wanted_nodes` asks for attributes of that type which it declares the columns of
    (``read_columns``); else ``None``."""
    wanted = wanted_nodes.get()
    if wanted is None:
        return None
    kind = getattr(to_node, "__self__", None)
    from_model = getattr(kind, "from_model", None)
    if kind is None or getattr(from_model, "__func__", None) is not getattr(to_node, "__func__", 0):
        return None
    definition = getattr(kind, "__strawberry_definition__", None)
    if definition is None or definition.name != wanted[0]:
        return None
    found = _reads(kind, wanted[1])
    if found is None:
        return None
    wanted_nodes.set(None)  # one page per batch function: the one the query reads
    return found


@functools.lru_cache(maxsize=1024)
def _reads(kind: type[Any], attributes: frozenset[str]) -> Light | None:
    column_reads = getattr(kind, "column_reads", None)
    declared = column_reads() if column_reads is not None else {}
    if not declared or not attributes <= declared.keys():
        return None
    reads: list[tuple[str, str, Callable[[Any], Any] | None]] = []
    for attribute, how in declared.items():
        column, convert = (how, None) if isinstance(how, str) else how
        # Conversions run for every node, read or not: a stored value that from_model
        # cannot convert fails the page on both paths alike.
        if attribute in attributes or convert is not None:
            reads.append((attribute, column, convert))
    columns = tuple(sorted({column for _attribute, column, _convert in reads}))
    return columns, _builder(kind, tuple(reads))


def _builder(kind: type[Any], reads: NodeReads) -> Callable[[dict[str, Any]], Any]:
    """A node of ``kind`` holding the attributes of ``reads`` alone, from a row's columns
    by name (a new dict, which becomes the node's; converted as ``from_model`` converts
    them): what the query reads, and nothing else reads these nodes."""
    # The row's columns become the node's attributes whole (a column nothing reads under
    # its own name is never read), then the attributes named otherwise than their column,
    # and the converted ones.
    renamed = tuple(
        (attribute, column)
        for attribute, column, convert in reads
        if convert is None and attribute != column
    )
    converted = tuple(
        (attribute, column, _quick(convert)) for attribute, column, convert in reads if convert
    )
    written = {attribute for attribute, _column in renamed} | {
        attribute for attribute, column, _convert in converted if attribute != column
    }
    # An attribute written over a column that another attribute reads needs the columns as
    # they came: then the node's attributes start from a copy.
    copied = bool(written & {column for _attribute, column, _convert in reads})
    new = object.__new__

    def build(values: dict[str, Any]) -> Any:
        state = values.copy() if copied else values
        for attribute, column in renamed:
            state[attribute] = values[column]
        for attribute, column, convert in converted:
            state[attribute] = convert(values[column])
        node = new(kind)
        node.__dict__ = state
        return node

    return build


def _quick(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``convert``, by a look-up of its members for an enum (what ``Enum(value)`` finds
    after two calls more); anything the look-up does not find is converted as before."""
    if not (isinstance(convert, type) and issubclass(convert, enum.Enum)):
        return convert
    members = convert._value2member_map_

    def by_value(value: Any) -> Any:
        try:
            return members[value]
        except (KeyError, TypeError):  # not a value, or unhashable: Enum's own answer
            return convert(value)

    return by_value
