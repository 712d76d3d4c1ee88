"""Where in a field's arguments a value sits, for errors that do not say it themselves.

Strawberry turns an ``ID`` argument into a :class:`~strawberry.relay.GlobalID` while it
prepares a resolver's arguments; a string that is no global id fails there with "Value
cannot represent a GlobalID" and no hint of which argument held it. :func:`bad_id_argument`
finds it again among the field's ``ID`` positions (by the schema's argument and input types,
literals and variables alike) so the error can name it in ``extensions.argument``, as every
other bad argument is named: ``id``, ``input.assigneeId``, ``input.customerIds.1``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
    GraphQLSchema,
    IntValueNode,
    ListValueNode,
    ObjectValueNode,
    StringValueNode,
    TypeInfo,
    TypeInfoVisitor,
    ValueNode,
    VariableNode,
    Visitor,
    visit,
)
from graphql.type import GraphQLField
from strawberry.relay import GlobalID, GlobalIDValueError

_BAD_GLOBAL_ID = re.compile(r'^Value cannot represent a GlobalID: "(?P<value>.*)"\.$', re.DOTALL)

Path = tuple[str | int, ...]


def bad_id_argument(
    error: GraphQLError,
    variables: Mapping[str, Any] | None,
    schema: GraphQLSchema,
    document: DocumentNode | None,
) -> str | None:
    """The argument path (dots between names and list indices) of the malformed global id
    ``error`` complains about, or ``None`` if it is not such an error or cannot be found."""
    found = _BAD_GLOBAL_ID.match(error.message)
    if found is None or document is None:
        return None
    value = found.group("value")
    for node, definition in _fields_of(error, schema, document):
        for argument in node.arguments or ():
            declared = definition.args.get(argument.name.value)
            if declared is None:
                continue
            for path, text in _ids(
                argument.value, declared.type, (argument.name.value,), variables or {}
            ):
                if text == value and not _is_global_id(text):
                    return ".".join(str(part) for part in path)
    return None


def _fields_of(
    error: GraphQLError, schema: GraphQLSchema, document: DocumentNode
) -> list[tuple[FieldNode, GraphQLField]]:
    """The field nodes of ``error`` in ``document`` (by their place in the text), each with
    its definition in ``schema``."""
    starts = {
        node.loc.start for node in error.nodes or [] if isinstance(node, FieldNode) and node.loc
    }
    type_info = TypeInfo(schema)
    found: list[tuple[FieldNode, GraphQLField]] = []

    class Fields(Visitor):
        def enter_field(self, node: FieldNode, *_: Any) -> None:
            definition = type_info.get_field_def()
            if node.loc is not None and node.loc.start in starts and definition is not None:
                found.append((node, definition))

    visit(document, TypeInfoVisitor(type_info, Fields()))
    return found


def _is_global_id(text: str) -> bool:
    try:
        GlobalID.from_id(text)
    except GlobalIDValueError:
        return False
    return True


def _unwrapped(kind: GraphQLInputType) -> GraphQLInputType:
    return kind.of_type if isinstance(kind, GraphQLNonNull) else kind


def _is_id(kind: GraphQLInputType) -> bool:
    return isinstance(kind, GraphQLScalarType) and kind.name == "ID"


def _ids(
    node: ValueNode, kind: GraphQLInputType, path: Path, variables: Mapping[str, Any]
) -> Iterator[tuple[Path, str]]:
    """Every value written at an ``ID`` position of an argument (a string, or an integer,
    which an ``ID`` also takes), with its path, in document order."""
    kind = _unwrapped(kind)
    if isinstance(node, VariableNode):
        yield from _json_ids(variables.get(node.name.value), kind, path)
    elif isinstance(kind, GraphQLList):
        items = node.values if isinstance(node, ListValueNode) else [node]
        for index, item in enumerate(items):
            yield from _ids(item, kind.of_type, (*path, index), variables)
    elif isinstance(kind, GraphQLInputObjectType) and isinstance(node, ObjectValueNode):
        for field in node.fields:
            declared = kind.fields.get(field.name.value)
            if declared is not None:
                yield from _ids(field.value, declared.type, (*path, field.name.value), variables)
    elif _is_id(kind) and isinstance(node, StringValueNode | IntValueNode):
        yield path, node.value


def _json_ids(value: Any, kind: GraphQLInputType, path: Path) -> Iterator[tuple[Path, str]]:
    kind = _unwrapped(kind)
    if isinstance(kind, GraphQLList):
        items = value if isinstance(value, list) else [value]
        for index, item in enumerate(items):
            yield from _json_ids(item, kind.of_type, (*path, index))
    elif isinstance(kind, GraphQLInputObjectType) and isinstance(value, dict):
        for key, item in value.items():
            declared = kind.fields.get(key)
            if declared is not None:
                yield from _json_ids(item, declared.type, (*path, key))
    elif _is_id(kind):
        if isinstance(value, str):
            yield path, value
        elif isinstance(value, int) and not isinstance(value, bool):  # an ID sent as a number
            yield path, str(value)
