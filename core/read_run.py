"""Running a plan: each level of the response computed for all its objects at once.

Values are completed by their GraphQL type as graphql-core completes them (the same
coercions, the same errors at the same paths, the same null propagation), but a column at a
time: one list of values per field per level, one batch function call per declared field
per level, no resolver info and no awaitable per value.

A value that fails holds a :class:`Failure`. At a nullable field or list item the error is
recorded there and the value is ``null``, as graphql-core does. A failure that would null an
object or a list (a non-null field or item without a value) raises :class:`Retry` instead:
the request is answered again by graphql-core's executor, whose order of errors around such
a failure a level-by-level run cannot follow.
"""

from __future__ import annotations

import asyncio
import inspect as inspect_module
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from graphql import (
    GraphQLEnumType,
    GraphQLError,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    located_error,
)
from graphql.execution.executor import invalid_return_type_error
from graphql.execution.values import get_argument_values
from graphql.pyutils import Path, Undefined, inspect, is_iterable
from strawberry.relay.utils import to_base64
from strawberry.types.arguments import convert_arguments

from core.access import require
from core.batch_fields import mismatch
from core.light_nodes import wanted_nodes
from core.read_edges import EdgeLevels, PathOf, field_paths
from core.read_plan import (
    ATTRIBUTE,
    BATCH,
    COMPUTED,
    TYPENAME,
    FieldPlan,
    ObjectPlan,
)
from core.read_rows import all_taken_as_is, fast_serializer, is_of

if TYPE_CHECKING:
    from core.read_path import CompiledExecutor


_PASSED = {"String": str, "ID": str, "Boolean": bool}
"""Scalars whose output is a value of this Python type unchanged (Int is range-checked, so
it takes the serialiser)."""


class Retry(Exception):
    """A failure nulled an object or a list: the request is answered again by graphql-core's
    executor. graphql-core stops an object's remaining fields at its first non-null failure
    and drops errors reported after the nulling, an order a level-by-level run cannot
    follow; such failures come from bugs (a non-null field without a value), so they are
    rare, and the reference answers them exactly."""


class Failure:
    """A value that failed, between its completion and :meth:`Runner.complete`, which
    records it at a nullable position (the value becomes ``null``) or raises :class:`Retry`
    at a non-null one: :meth:`Runner.complete` never returns one."""

    __slots__ = ("error",)

    def __init__(self, error: GraphQLError) -> None:
        self.error = error


class Runner(EdgeLevels):
    """Completes the values below one root field of one request."""

    def __init__(self, executor: CompiledExecutor, info: Any) -> None:
        self.executor = executor
        self.context = executor.context_value
        self.info = info
        self.serializers: dict[str, Callable[[Any], Any]] = {}

    async def root(
        self, return_type: GraphQLOutputType, plan: FieldPlan, result: Any, path: Path
    ) -> Any:
        (value,) = await self.complete(return_type, plan, [result], lambda _index: path)
        return value

    async def complete(
        self, type_: GraphQLOutputType, plan: FieldPlan, values: list[Any], path_of: PathOf
    ) -> list[Any]:
        """The completed values of ``values`` (each of ``type_``) at ``path_of(i)``."""
        if isinstance(type_, GraphQLNonNull):
            done = await self._inner(type_.of_type, plan, values, path_of)
            # A non-null position without a value nulls its parent object or list: the
            # request is answered by the reference executor (see Retry).
            for value in done:
                if value is None or type(value) is Failure:
                    raise Retry
            return done
        done = await self._inner(type_, plan, values, path_of)
        for index, value in enumerate(done):
            if type(value) is Failure:
                self.executor.collected_errors.add(value.error, path_of(index))
                done[index] = None
        return done

    def _failure(self, error: Exception, plan: FieldPlan, path: Path) -> Failure:
        return Failure(located_error(error, plan.nodes, path.as_list()))

    async def _inner(
        self, type_: GraphQLOutputType, plan: FieldPlan, values: list[Any], path_of: PathOf
    ) -> list[Any]:
        if isinstance(type_, GraphQLList):
            return await self._list(type_, plan, values, path_of)
        if isinstance(type_, GraphQLScalarType | GraphQLEnumType):
            return self._leaves(type_, plan, values, path_of)
        return await self._objects(plan, values, path_of)

    def _leaves(
        self,
        type_: GraphQLScalarType | GraphQLEnumType,
        plan: FieldPlan,
        values: list[Any],
        path_of: PathOf,
    ) -> list[Any]:
        serialize = self.serializers.get(type_.name)
        if serialize is None:
            serialize = self.serializers[type_.name] = fast_serializer(type_)
        same = _PASSED.get(type_.name)
        done: list[Any] = []
        append = done.append
        for index, value in enumerate(values):
            kind = type(value)
            if kind is same:
                append(value)
                continue
            if value is None or value is Undefined:
                append(None)
                continue
            try:
                if isinstance(value, Exception):
                    raise value
                coerced = serialize(value)
                if coerced is None or coerced is Undefined:
                    raise TypeError(
                        f"Expected `{inspect(type_)}.coerce_output_value({inspect(value)})`"
                        f" to return non-nullable value, returned: {inspect(coerced)}"
                    )
            except Exception as error:
                append(self._failure(error, plan, path_of(index)))
                continue
            append(coerced)
        return done

    async def _list(
        self, type_: GraphQLList[Any], plan: FieldPlan, values: list[Any], path_of: PathOf
    ) -> list[Any]:
        done: list[Any] = [None] * len(values)
        items: list[Any] = []
        owners: list[int] = []
        positions: list[int] = []
        for index, value in enumerate(values):
            if value is None or value is Undefined:
                continue
            if isinstance(value, Exception):
                done[index] = self._failure(value, plan, path_of(index))
                continue
            if not is_iterable(value):
                parent, name = plan.label.split(".", 1)
                error = GraphQLError(
                    f"Expected Iterable, but did not find one for field '{parent}.{name}'."
                )
                done[index] = self._failure(error, plan, path_of(index))
                continue
            try:
                listed = list(value)
            except Exception as error:  # an iterator failing midway fails this list alone
                done[index] = self._failure(error, plan, path_of(index))
                continue
            done[index] = []
            for position, item in enumerate(listed):
                items.append(item)
                owners.append(index)
                positions.append(position)

        def item_path(number: int) -> Path:
            return path_of(owners[number]).add_key(positions[number], None)

        completed = await self.complete(type_.of_type, plan, items, item_path)
        for owner, item in zip(owners, completed, strict=True):
            target = done[owner]
            if type(target) is not Failure:  # items of a list that failed are dropped
                target.append(item)
        return done

    async def _objects(self, plan: FieldPlan, values: list[Any], path_of: PathOf) -> list[Any]:
        only = plan.only
        if only is not None and all_taken_as_is(only, values):  # none to check one by one
            return await self._fields(only, values, path_of)
        done: list[Any] = [None] * len(values)
        by_type: dict[str, list[int]] = {}
        info: Any = None
        for index, value in enumerate(values):
            if value is None or value is Undefined:
                continue
            try:
                if isinstance(value, Exception):
                    raise value
                if info is None:
                    info = self._info(plan, path_of(index))
                object_plan = only or plan.objects[self._runtime_type(plan, value, info).name]
                if not is_of(object_plan, value, info):
                    raise invalid_return_type_error(object_plan.type, value, plan.details)
            except Exception as error:
                done[index] = self._failure(error, plan, path_of(index))
                continue
            found = by_type.get(object_plan.type.name)
            if found is None:
                by_type[object_plan.type.name] = [index]
            else:
                found.append(index)
        for name, indexes in by_type.items():
            rows = await self._fields(
                plan.objects[name],
                [values[i] for i in indexes],
                lambda number, indexes=indexes: path_of(indexes[number]),  # type: ignore[misc]
            )
            for index, row in zip(indexes, rows, strict=True):
                done[index] = row
        return done

    def _info(self, plan: FieldPlan, path: Path) -> Any:
        """A resolve info of ``plan``'s field, for type resolvers (the root field's own for a
        root field; built once per level, at its first value's path, below)."""
        if plan.parent is None or plan.definition is None:
            return self.info
        return self.executor.build_resolve_info(plan.definition, plan.nodes, plan.parent, path)

    def _runtime_type(self, plan: FieldPlan, value: Any, info: Any) -> GraphQLObjectType:
        abstract = plan.named
        resolve_type = abstract.resolve_type or self.executor.type_resolver
        name = resolve_type(value, info, abstract)
        if self.executor.is_awaitable(name):
            if inspect_module.iscoroutine(name):
                name.close()
            raise TypeError(f"{plan.label}: an awaitable type resolver is not planned")
        return self.executor.ensure_valid_runtime_type(name, abstract, plan.details, info, value)

    async def _fields(
        self, object_plan: ObjectPlan, objects: list[Any], path_of: PathOf
    ) -> list[Any]:
        type_name = object_plan.type.name
        build = object_plan.builder
        # The builder answers the plain fields in one loop (None: a value needs the general
        # completion below, which then answers every field of the level).
        rows: list[Any] | None = build(objects) if build is not None else None
        skip = object_plan.plain if rows is not None else ()
        columns: list[list[Any] | None] = []
        pending = []
        try:
            for number, field in enumerate(object_plan.fields):
                kind = field.kind
                if kind == TYPENAME or (skip and skip[number]):
                    columns.append(None)
                    continue
                if kind == BATCH:
                    columns.append(None)
                    pending.append(self._batch(number, field, objects, path_of, type_name))
                    continue
                if kind == ATTRIBUTE:
                    attribute = field.attribute
                    if field.edges is not None and attribute == "edges":
                        # A page's edges from its nodes, before anything reads its edges.
                        edges = await self._page_edges(
                            field, field.edges, objects, path_of, type_name
                        )
                        if edges is not None:
                            columns.append(edges)
                            continue
                    try:
                        raw = [getattr(value, attribute) for value in objects]  # type: ignore[arg-type]
                    except Exception:
                        raw = [_read(value, attribute) for value in objects]  # type: ignore[arg-type]
                    if field.edges is not None:
                        edges = await self._edges(field, field.edges, raw, path_of, type_name)
                        if edges is not None:
                            columns.append(edges)
                            continue
                elif kind == COMPUTED:
                    raw = self._computed(field, objects)
                else:  # NODE_ID
                    raw = [_node_id(field, value) for value in objects]
                columns.append(
                    await self.complete(
                        field.type, field, raw, field_paths(path_of, field.key, type_name)
                    )
                )
        except BaseException:
            for coroutine in pending:  # a Retry before the batches ran: they never will
                coroutine.close()
            raise
        if pending:
            found = await asyncio.gather(*pending, return_exceptions=True)
            for outcome in found:
                if isinstance(outcome, BaseException):
                    raise outcome
                number, batch_column = outcome
                columns[number] = batch_column
        # Failures never reach here: a nullable field's became null and an error, a non-null
        # field's raised Retry.
        if rows is not None:
            for field, column in zip(object_plan.fields, columns, strict=True):
                if column is not None:
                    key = field.key
                    for row, value in zip(rows, column, strict=True):
                        row[key] = value
            return rows
        count = len(objects)
        full = [[type_name] * count if column is None else column for column in columns]
        keys = [field.key for field in object_plan.fields]
        if not keys:  # a union member no fragment selected fields of: {}
            return [{} for _ in range(count)]
        return [dict(zip(keys, values, strict=True)) for values in zip(*full, strict=True)]

    async def _batch(
        self,
        number: int,
        field: FieldPlan,
        objects: list[Any],
        path_of: PathOf,
        type_name: str,
    ) -> tuple[int, list[Any]]:
        try:
            arguments = self._arguments(field)  # coerced first, as graphql-core does
            for permission in field.permissions:
                require(self.context, permission)
            assert field.load is not None
            # A page of nodes the query reads plain fields of only is read with their
            # columns alone (core.light_nodes.light_nodes).
            token = wanted_nodes.set(field.wanted)
            try:
                values: list[Any] = list(await field.load(self.context, objects, **arguments))
            finally:
                wanted_nodes.reset(token)
            if len(values) != len(objects):
                raise RuntimeError(mismatch(field.load, len(values), len(objects)))
        except Exception as error:
            values = [error] * len(objects)
        return number, await self.complete(
            field.type, field, values, field_paths(path_of, field.key, type_name)
        )

    def _computed(self, field: FieldPlan, objects: list[Any]) -> list[Any]:
        """A computed field's values (an exception in place of a value it raised)."""
        try:
            for permission in field.permissions:
                require(self.context, permission)
        except Exception as error:
            return [error] * len(objects)
        compute = field.compute
        assert compute is not None
        raw: list[Any] = []
        for value in objects:
            try:
                raw.append(compute(value))
            except Exception as error:
                raw.append(error)
        return raw

    def _arguments(self, field: FieldPlan) -> dict[str, Any]:
        assert field.definition is not None
        assert field.strawberry_field is not None
        node = field.details[0].node
        if not field.definition.args and not node.arguments:
            return {}
        raw = get_argument_values(
            field.definition,
            node,
            self.executor.variable_values,
            field.details[0].fragment_variable_values,
            self.executor.hide_suggestions,
        )
        schema = self.executor.schema._strawberry_schema  # type: ignore[attr-defined]
        return convert_arguments(
            raw,
            field.strawberry_field.arguments,
            scalar_registry=schema.schema_converter.scalar_registry,
            config=schema.config,
        )


def _node_id(field: FieldPlan, value: Any) -> Any:
    """A node's global id, or the exception reading its id raised."""
    try:
        return to_base64(field.node_type, getattr(value, field.attribute))  # type: ignore[arg-type]
    except Exception as error:
        return error


def _read(value: Any, attribute: str) -> Any:
    """An attribute, or the exception reading it raised (that value's field fails)."""
    try:
        return getattr(value, attribute)
    except Exception as error:
        return error
