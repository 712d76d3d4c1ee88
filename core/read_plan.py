"""Planning a query document for the compiled read path.

A plan is the document's selection tree resolved against the schema once: for every object
type a value may take, the fields to answer, in response order, each with how its value is
found (the type name, an attribute, a node's global id, or a declared batch function). A
field with a resolver that declares no batch function (or a field extension other than a
permission check) makes the document unplannable: it runs on the reference executor.

Fields are collected by graphql-core's own collector, with the request's variables, so
fragments, type conditions, aliases, field merging and ``@skip``/``@include`` mean exactly
what they mean to the reference executor; the plan is cached per document, operation and the
values of the variables that ``@skip``/``@include`` read.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLString,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    is_abstract_type,
    is_leaf_type,
    is_object_type,
)
from strawberry.permission import PermissionExtension
from strawberry.types.field import StrawberryField

from core.batch_fields import BatchLoad, batch_of, reads_of

if TYPE_CHECKING:
    from graphql.execution.collect_fields import FieldDetailsList

Builder = Callable[[list[Any]], "list[dict[str, Any]] | None"]
"""``builder(objects)``: one response object per object, or ``None`` when a value needs
the runner's general completion (:func:`core.read_rows.builder_of`)."""

TYPENAME = 0
ATTRIBUTE = 1
NODE_ID = 2
BATCH = 3
COMPUTED = 4

DEFINITION = "strawberry-definition"


AnyClass = type[Any]


class Unplannable(Exception):
    """The document has a field the compiled path cannot answer; the message names it."""


@dataclass(slots=True)
class FieldPlan:
    key: str
    """The response key (the alias, else the field's name)."""
    kind: int
    type: GraphQLOutputType
    details: FieldDetailsList
    label: str
    """``Parent.field``, as graphql-core names a field in its messages."""
    attribute: str | None = None
    node_type: str | None = None
    load: BatchLoad | None = None
    reads: frozenset[str] | None = None
    """Of a batch field: the attributes of its parents its function reads (``None``:
    undeclared)."""
    compute: Callable[[Any], Any] | None = None
    """A method computing the value from its object alone (no arguments, no ``info``)."""
    definition: GraphQLField | None = None
    strawberry_field: StrawberryField | None = None
    permissions: tuple[str | None, ...] = ()
    """Permissions the field requires (``core.access.requires``), checked once per level."""
    objects: dict[str, ObjectPlan] = field(default_factory=dict)
    """The plan of each object type the field's value may be, by name."""
    named: Any = None
    """The named type of :attr:`type` (lists and non-null unwrapped)."""
    parent: GraphQLObjectType | None = None
    """The type the field belongs to."""
    only: ObjectPlan | None = None
    """The plan of the value's type when it is an object type, not an abstract one."""
    wanted: tuple[str, frozenset[str]] | None = None
    """Of a root or batch field whose value is a connection whose nodes the query reads
    plain fields and declared batch fields of only: the node type and the attributes read
    (:func:`core.read_rows.prepare`; :data:`core.light_nodes.wanted_nodes`)."""
    edges: EdgesPlan | None = None
    """Of a field whose value is a list of wrapper objects each holding one object (a
    connection's edges): how the runner completes the list, the wrappers and the objects
    they hold as one level (:func:`core.read_rows.edges_plan_of`)."""

    @property
    def nodes(self) -> list[FieldNode]:
        return [details.node for details in self.details]


@dataclass(slots=True)
class ObjectPlan:
    type: GraphQLObjectType
    fields: list[FieldPlan]
    builder: Builder | None = None
    """The generated builder of this level's objects, if any (:func:`core.read_rows.prepare`)."""
    plain: tuple[bool, ...] = ()
    """For each field, whether :attr:`builder` answers it."""
    exact: AnyClass | None = None
    """A class whose instances (not cast to another type) are of this type by strawberry's
    ``is_type_of`` without asking it (:func:`core.read_rows.exact_class`)."""


@dataclass(slots=True)
class EdgesPlan:
    """A list of wrappers (edges) each holding one object (a node), answered as one level:
    the wrappers' plain fields by :attr:`build` and the held objects by the runner as one
    level of their own (see :meth:`core.read_edges.EdgeLevels._edges`)."""

    edge: ObjectPlan
    node: FieldPlan
    """The wrapper's field holding the object (non-null, of one object type)."""
    build: Builder
    """The wrappers' builder: their plain fields, ``None`` where the held object goes."""
    nullable: bool
    """Whether the list itself may be null."""
    layout: tuple[tuple[str, int], ...] | None = None
    """Of a connection's edges whose fields are the type name, the cursor and the node
    only: each field's response key and which of the three it is (:data:`EDGE_TYPENAME`,
    :data:`EDGE_CURSOR`, :data:`EDGE_NODE`), so a page's edges are answered from its
    nodes and sort values (:meth:`core.read_edges.EdgeLevels._page_edges`); else ``None``."""


EDGE_TYPENAME = 0
EDGE_CURSOR = 1
EDGE_NODE = 2


Collect = Callable[[GraphQLObjectType, "FieldDetailsList"], Any]
"""graphql-core's ``Executor.collect_subfields`` of the request being planned."""


class Planner:
    """Plans the selections below one root field, with one request's collector."""

    def __init__(self, schema: Any, collect: Collect) -> None:
        self.schema = schema
        self.collect = collect

    def field(
        self, parent: GraphQLObjectType, key: str, details: FieldDetailsList, root: bool = False
    ) -> FieldPlan:
        """The plan of a field of ``parent``. A ``root`` field's value comes from its own
        resolver, run by graphql-core: only what is below it is planned."""
        node = details[0].node
        name = node.name.value
        if name == "__typename":
            return FieldPlan(key, TYPENAME, GraphQLNonNull(GraphQLString), details, "")
        definition = parent.fields.get(name)
        if definition is None:
            raise Unplannable(f"{parent.name}.{name} is not a field of the schema")
        plan = FieldPlan(key, BATCH, definition.type, details, f"{parent.name}.{name}")
        plan.definition, plan.parent = definition, parent
        if root:
            plan.parent = None  # its value comes from graphql-core, with its own info
        else:
            self._how(definition, plan)
        self._children(plan)
        return plan

    def _how(self, definition: GraphQLField, plan: FieldPlan) -> None:
        resolve = definition.resolve
        attribute = getattr(resolve, "attribute", None)
        if attribute is not None:
            plan.kind, plan.attribute = ATTRIBUTE, attribute
            return
        node_type = getattr(resolve, "node_type", None)
        if node_type is not None:
            plan.kind, plan.node_type = NODE_ID, node_type
            plan.attribute = getattr(resolve, "node_attribute", None)
            return
        strawberry_field = definition.extensions.get(DEFINITION)
        if not isinstance(strawberry_field, StrawberryField):
            raise Unplannable(f"{plan.label} is not a Strawberry field")
        resolver = strawberry_field.base_resolver
        load = batch_of(getattr(resolver, "wrapped_func", None))
        if load is None and resolver is not None and _computed(resolver):
            plan.kind, plan.compute = COMPUTED, resolver.wrapped_func  # type: ignore[assignment]
            plan.strawberry_field = strawberry_field
            plan.permissions = _permissions(strawberry_field, plan.label)
            return
        if load is None:
            raise Unplannable(f"{plan.label} has a resolver that declares no batch function")
        plan.load = load
        plan.reads = reads_of(getattr(resolver, "wrapped_func", None))
        plan.strawberry_field = strawberry_field
        plan.permissions = _permissions(strawberry_field, plan.label)

    def _children(self, plan: FieldPlan) -> None:
        named = plan.named = get_named_type(plan.type)
        if is_leaf_type(named):
            return
        if is_object_type(named):
            candidates: Sequence[GraphQLObjectType] = [named]
        elif is_abstract_type(named):
            candidates = self.schema.get_possible_types(named)
        else:  # pragma: no cover - every output type is one of these
            raise Unplannable(f"{plan.label} has an unknown type")
        for candidate in candidates:
            plan.objects[candidate.name] = self.object(candidate, plan.details)
        if is_object_type(named):
            plan.only = plan.objects[named.name]

    def object(self, object_type: GraphQLObjectType, details: FieldDetailsList) -> ObjectPlan:
        grouped, _defers, _forbidden = self.collect(object_type, details)
        fields = []
        for key, field_details in grouped.items():
            fields.append(self.field(object_type, key, field_details))
        return ObjectPlan(object_type, fields)


def _computed(resolver: Any) -> bool:
    """A plain method of its object: not async, no arguments, no ``info``, no parent or root
    parameter; what it returns depends on the object alone, so it runs as it is."""
    return (
        not resolver.is_async
        and resolver.self_parameter is not None
        and resolver.info_parameter is None
        and resolver.parent_parameter is None
        and resolver.root_parameter is None
        and not resolver.arguments
        and callable(resolver.wrapped_func)
    )


def _permissions(field_: StrawberryField, label: str) -> tuple[str | None, ...]:
    from core.access import Requires

    found: list[str | None] = []
    for extension in field_.extensions:
        # Exactly these classes: a subclass may check more than the permission's name.
        if type(extension) is not PermissionExtension:
            raise Unplannable(f"{label} has a field extension the compiled path does not run")
        for permission in extension.permissions:
            if type(permission) is not Requires:
                raise Unplannable(f"{label} has a permission the compiled path does not check")
            found.append(permission.permission)
    return tuple(found)


def directive_variables(
    operation: OperationDefinitionNode, fragments: dict[str, Any]
) -> tuple[str, ...]:
    """Names of the variables that ``@skip``/``@include`` read in the operation (and the
    fragments it spreads), sorted: their values choose the plan."""
    names: set[str] = set()
    seen: set[str] = set()

    def walk(selection_set: SelectionSetNode | None) -> None:
        if selection_set is None:
            return
        for selection in selection_set.selections:
            for directive in selection.directives or ():
                if directive.name.value in ("skip", "include"):
                    for argument in directive.arguments or ():
                        if isinstance(argument.value, VariableNode):
                            names.add(argument.value.name.value)
            if isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name not in seen and name in fragments:
                    seen.add(name)
                    walk(fragments[name].selection_set)
            elif isinstance(selection, FieldNode | InlineFragmentNode):
                walk(selection.selection_set)

    walk(operation.selection_set)
    return tuple(sorted(names))
