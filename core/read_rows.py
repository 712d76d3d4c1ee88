"""Generated builders of a level's response objects, for the compiled read path.

Most fields of a level are plain: the type name, an attribute holding a scalar or an enum,
a node's global id. :func:`builder_of` writes one Python function per object plan that
reads all of a level's plain fields in a single loop over its objects and builds each
response object as a dict literal, in response order (graphql-jit's way, for Python: the
loop, the attribute reads and the keys are spelled out in the generated code, so no
per-field column, call or lookup is left at run time). Fields that are not plain (batch
functions, computed fields, objects and lists) hold ``None`` in their place, and
:class:`core.read_run.Runner` fills them in as it does for every field of a level without a
builder.

A builder does the easy case only. A value that is not already in its output form goes
through its type's serialiser; a value that needs more (a missing non-null value, a
serialiser that fails, an attribute that raises, an exception in place of a value) makes
the builder give up on the whole level, which the runner then completes column by column
with the same errors, paths and null propagation as graphql-core: a builder never decides
what an error looks like, so the two ways cannot disagree on one.
"""

from __future__ import annotations

import base64
import contextlib
import keyword
from collections.abc import Callable
from typing import Any

from graphql import (
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLID,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLString,
)
from graphql.pyutils import Undefined
from strawberry.types.cast import TYPE_CAST_ATTRIBUTE

from core.read_plan import (
    ATTRIBUTE,
    BATCH,
    EDGE_CURSOR,
    EDGE_NODE,
    EDGE_TYPENAME,
    NODE_ID,
    TYPENAME,
    Builder,
    EdgesPlan,
    FieldPlan,
    ObjectPlan,
)

_MAX_INT = 2**31


class _GiveUp(Exception):
    """A value the builder leaves to the runner's general completion."""


def fast_serializer(type_: GraphQLScalarType | GraphQLEnumType) -> Callable[[Any], Any]:
    """``type_.coerce_output_value``, short-cut for values already in their output form."""
    coerce = type_.coerce_output_value
    if type_ is GraphQLString or type_ is GraphQLID:
        return lambda value: value if type(value) is str else coerce(value)
    if type_ is GraphQLInt:
        return lambda value: (
            value if type(value) is int and -_MAX_INT <= value < _MAX_INT else coerce(value)
        )
    if type_ is GraphQLBoolean:
        return lambda value: value if type(value) is bool else coerce(value)
    if isinstance(type_, GraphQLEnumType):
        names: dict[Any, Any] = {}

        def enum(value: Any) -> Any:
            try:
                return names[value]
            except (KeyError, TypeError):
                name = coerce(value)
                with contextlib.suppress(TypeError):  # an unhashable value: coerced each time
                    names[value] = name
                return name

        return enum
    return coerce


def _leaf(field: FieldPlan) -> GraphQLScalarType | GraphQLEnumType | None:
    """The scalar or enum type of a field, when its value is one (not a list)."""
    type_ = field.type.of_type if isinstance(field.type, GraphQLNonNull) else field.type
    return type_ if isinstance(type_, GraphQLScalarType | GraphQLEnumType) else None


def plain(field: FieldPlan) -> bool:
    """Whether a builder answers ``field`` (else the runner does)."""
    if field.kind == TYPENAME:
        return True
    if field.kind not in (ATTRIBUTE, NODE_ID) or _leaf(field) is None:
        return False
    name = field.attribute
    return (
        name is not None
        and name.isascii()  # Python folds other identifiers (NFKC): read as written
        and name.isidentifier()
        and not keyword.iskeyword(name)
    )


def _serialise(coerce: Callable[[Any], Any], value: Any) -> Any:
    """A value through its type's serialiser; anything unusual gives up."""
    if value is Undefined or isinstance(value, Exception):
        raise _GiveUp
    done = coerce(value)
    if done is None or done is Undefined:
        raise _GiveUp
    return done


def builder_of(object_plan: ObjectPlan, always: bool = False) -> Builder | None:
    """The generated builder of ``object_plan``, or ``None`` when it has no plain field
    (unless ``always``: then one that builds each object's dict with its keys in place)."""
    fields = object_plan.fields
    if not always and not any(plain(field) and field.kind != TYPENAME for field in fields):
        return None
    names: dict[str, Any] = {
        "_GiveUp": _GiveUp,
        "_serialise": _serialise,
        "_b64encode": base64.b64encode,
        "_MAX_INT": _MAX_INT,
    }
    lines = ["def build(objects):", "    rows = []", "    append = rows.append"]
    lines.append("    try:")
    lines.append("        for o in objects:")
    entries: list[str] = []
    for number, field in enumerate(fields):
        key = repr(field.key)
        if not plain(field):
            entries.append(f"{key}: None")
            continue
        if field.kind == TYPENAME:
            entries.append(f"{key}: {object_plan.type.name!r}")
            continue
        value = f"v{number}"
        leaf = _leaf(field)
        assert leaf is not None
        required = isinstance(field.type, GraphQLNonNull)
        if field.kind == NODE_ID:
            # A global id as strawberry's to_base64 writes it: "<type name>:<id>" in base64
            names[f"t{number}"] = f"{field.node_type}:"
            read = f'_b64encode(f"{{t{number}}}{{o.{field.attribute}}}".encode()).decode()'
        else:
            read = f"o.{field.attribute}"
        names[f"s{number}"] = fast_serializer(leaf)
        lines.append(f"            {value} = {read}")
        check = _fast_check(leaf, value)
        slow = f"{value} = _serialise(s{number}, {value})"
        if isinstance(leaf, GraphQLEnumType):
            # An enum's names by value, learnt from its serialiser as values come (a value
            # that cannot be a key gives the level up, as any surprise does).
            names[f"e{number}"] = {}
            slow = (
                f"{value} = e{number}.get({value}) or"
                f" e{number}.setdefault({value}, _serialise(s{number}, {value}))"
            )
        if required:
            lines.append(f"            if {value} is None: raise _GiveUp")
            lines.append(f"            if not ({check}): {slow}")
        else:
            lines.append(f"            if {value} is not None and not ({check}): {slow}")
        entries.append(f"{key}: {value}")
    lines.append("            append({" + ", ".join(entries) + "})")
    lines.append("    except Exception:")
    lines.append("        return None")
    lines.append("    return rows")
    code = compile("\n".join(lines), f"<read rows of {object_plan.type.name}>", "exec")
    # Request text enters the code only as repr() literals (the response keys); attribute
    # names come from the schema and are checked identifiers; other values are in `names`.
    exec(code, names)
    build: Builder = names["build"]
    return build


def _fast_check(leaf: GraphQLScalarType | GraphQLEnumType, value: str) -> str:
    """A condition true when ``value`` is already in its output form (else: serialise)."""
    if leaf is GraphQLString or leaf is GraphQLID:
        return f"type({value}) is str"
    if leaf is GraphQLBoolean:
        return f"type({value}) is bool"
    if leaf is GraphQLInt:
        return f"type({value}) is int and -_MAX_INT <= {value} < _MAX_INT"
    return "False"  # enums and other scalars always take their serialiser


_CONNECTION_FIELDS = frozenset({"__typename", "edges", "pageInfo", "totalCount"})
_EDGE_FIELDS = frozenset({"__typename", "cursor", "node"})


def wanted_nodes_of(field: FieldPlan) -> tuple[str, frozenset[str]] | None:
    """For a field whose value is a connection (edges, page info, count) whose nodes the
    query reads plain fields and batch fields that declare what they read of only, all of
    one object type: that type's name and the attributes read
    (:func:`core.light_nodes.light_nodes` reads just their columns)."""
    connection = field.only
    if connection is None:
        return None
    node_type: str | None = None
    attributes: set[str] = set()
    for part in connection.fields:
        name = part.nodes[0].name.value
        if name not in _CONNECTION_FIELDS:
            return None
        if name != "edges":
            continue
        if part.only is None:
            return None
        for edge_part in part.only.fields:
            edge_name = edge_part.nodes[0].name.value
            if edge_name not in _EDGE_FIELDS:
                return None
            if edge_name != "node":
                continue
            node = edge_part.only
            if node is None or node_type not in (None, node.type.name):
                return None
            node_type = node.type.name
            for node_field in node.fields:
                if node_field.kind == BATCH and node_field.reads is not None:
                    attributes |= node_field.reads
                    continue
                if not plain(node_field):
                    return None
                if node_field.attribute is not None:
                    attributes.add(node_field.attribute)
    if node_type is None:
        return None
    return node_type, frozenset(attributes)


def edges_plan_of(field: FieldPlan) -> EdgesPlan | None:
    """For an attribute holding a list of non-null objects of one type whose fields are
    plain but one, a non-null object of one type (a connection's ``edges { cursor node }``):
    how the runner answers the list as one level (:meth:`core.read_edges.EdgeLevels._edges`)."""
    if field.kind != ATTRIBUTE:
        return None
    type_: Any = field.type
    nullable = not isinstance(type_, GraphQLNonNull)
    if not nullable:
        type_ = type_.of_type
    if not isinstance(type_, GraphQLList) or not isinstance(type_.of_type, GraphQLNonNull):
        return None
    edge = field.only
    if edge is None or not isinstance(type_.of_type.of_type, GraphQLObjectType):
        return None
    held = [number for number, part in enumerate(edge.fields) if not plain(part)]
    if len(held) != 1:
        return None
    node = edge.fields[held[0]]
    if (
        node.kind != ATTRIBUTE
        or not isinstance(node.type, GraphQLNonNull)
        or not isinstance(node.type.of_type, GraphQLObjectType)
        or node.only is None
        or node.attribute is None
    ):
        return None
    build = edge.builder or builder_of(edge, always=True)
    assert build is not None
    return EdgesPlan(edge, node, build, nullable, _edge_layout(edge, node))


def _edge_layout(edge: ObjectPlan, node: FieldPlan) -> tuple[tuple[str, int], ...] | None:
    """The edges' fields as :attr:`EdgesPlan.layout` has them, when they are the type name,
    a connection edge's cursor and the node only."""
    layout: list[tuple[str, int]] = []
    for part in edge.fields:
        if part is node:
            layout.append((part.key, EDGE_NODE))
        elif part.kind == TYPENAME:
            layout.append((part.key, EDGE_TYPENAME))
        elif (
            part.kind == ATTRIBUTE
            and part.attribute == "cursor"
            and isinstance(part.type, GraphQLNonNull)
            and part.type.of_type is GraphQLString
        ):
            layout.append((part.key, EDGE_CURSOR))
        else:
            return None
    return tuple(layout)


def exact_class(type_: GraphQLObjectType) -> type | None:
    """The strawberry class of ``type_`` when ``type_``'s ``is_type_of`` is strawberry's own
    (the class declares none, and is no specialised generic): that check says yes to an
    instance of exactly this class that no ``strawberry.cast`` made another type's, so the
    runner need not call it for one (:func:`is_of`)."""
    definition = type_.extensions.get("strawberry-definition")
    if definition is None or definition.is_type_of is not None or definition.concrete_of:
        return None
    origin = definition.origin
    return origin if isinstance(origin, type) else None


def taken_as_is(object_plan: ObjectPlan, value: Any) -> bool:
    """Whether ``value`` is an instance of exactly :attr:`ObjectPlan.exact`, not cast."""
    return type(value) is object_plan.exact and getattr(value, TYPE_CAST_ATTRIBUTE, None) is None


def all_taken_as_is(object_plan: ObjectPlan, values: list[Any]) -> bool:
    """Whether every one of ``values`` is :func:`taken_as_is` (then none is missing or
    failed either), in one loop."""
    exact = object_plan.exact
    if exact is None:
        return False
    for value in values:
        if type(value) is not exact or getattr(value, TYPE_CAST_ATTRIBUTE, None) is not None:
            return False
    return True


def is_of(object_plan: ObjectPlan, value: Any, info: Any) -> bool:
    """Whether ``value`` is of ``object_plan``'s type, as its ``is_type_of`` says."""
    if taken_as_is(object_plan, value):
        return True
    is_type_of = object_plan.type.is_type_of
    return is_type_of is None or bool(is_type_of(value, info))


def prepare(plan: FieldPlan) -> None:
    """Completes a new plan with what the runner reads of it, once, where it is planned:
    each object plan's builder and plain fields, each root or batch field's wanted nodes,
    and each list of edges answered as one level."""
    if plan.load is not None or plan.parent is None:
        plan.wanted = wanted_nodes_of(plan)
    for object_plan in plan.objects.values():
        object_plan.plain = tuple(plain(field) for field in object_plan.fields)
        object_plan.exact = exact_class(object_plan.type)
        object_plan.builder = builder_of(object_plan)
        for field in object_plan.fields:
            prepare(field)
            field.edges = edges_plan_of(field)
