"""Where in a field's arguments a value sits, for errors that do not say it themselves.

Strawberry turns an ``ID`` argument into a :class:`~strawberry.relay.GlobalID` while it
prepares a resolver's arguments; a string that is no global id fails there with "Value
cannot represent a GlobalID" and no hint of which argument held it. :func:`bad_id_argument`
finds it again in the field's arguments (literals and variables alike) so the error can name
it in ``extensions.argument``, as every other bad argument is named: ``id``,
``input.assigneeId``, ``input.customerIds.1``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from graphql import (
    FieldNode,
    GraphQLError,
    IntValueNode,
    ListValueNode,
    ObjectValueNode,
    StringValueNode,
    ValueNode,
    VariableNode,
)
from strawberry.relay import GlobalID, GlobalIDValueError

_BAD_GLOBAL_ID = re.compile(r'^Value cannot represent a GlobalID: "(?P<value>.*)"\.$', re.DOTALL)


def bad_id_argument(error: GraphQLError, variables: Mapping[str, Any] | None) -> str | None:
    """The argument path (dots between names and list indices) of the malformed global id
    ``error`` complains about, or ``None`` if it is not such an error or cannot be found."""
    found = _BAD_GLOBAL_ID.match(error.message)
    if found is None:
        return None
    value = found.group("value")
    for node in error.nodes or []:
        if not isinstance(node, FieldNode):
            continue
        for argument in node.arguments or ():
            for path, text in _strings(argument.value, (argument.name.value,), variables or {}):
                if text == value and not _is_global_id(text):
                    return ".".join(str(part) for part in path)
    return None


def _is_global_id(text: str) -> bool:
    try:
        GlobalID.from_id(text)
    except GlobalIDValueError:
        return False
    return True


def _strings(
    node: ValueNode, path: tuple[str | int, ...], variables: Mapping[str, Any]
) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Every string (and integer, which an ``ID`` also takes) in an argument's value, with
    its path, in document order."""
    if isinstance(node, StringValueNode | IntValueNode):  # an ID may be written as either
        yield path, node.value
    elif isinstance(node, VariableNode):
        yield from _json_strings(variables.get(node.name.value), path)
    elif isinstance(node, ListValueNode):
        for index, item in enumerate(node.values):
            yield from _strings(item, (*path, index), variables)
    elif isinstance(node, ObjectValueNode):
        for field in node.fields:
            yield from _strings(field.value, (*path, field.name.value), variables)


def _json_strings(
    value: Any, path: tuple[str | int, ...]
) -> Iterator[tuple[tuple[str | int, ...], str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, int) and not isinstance(value, bool):  # an ID sent as a number
        yield path, str(value)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _json_strings(item, (*path, index))
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _json_strings(item, (*path, key))
