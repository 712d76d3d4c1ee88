"""Compose the GraphQL schema from core and every enabled plugin.

Root types are new classes per build that inherit every module's root fields; fields that
modules add to types they do not own are injected through :meth:`CRMSchema.get_fields`, so
the types themselves never change and schemas built side by side (with different plugins)
stay independent. Two contributions of one field name stop the build, naming both modules.
"""

from __future__ import annotations

import copy
import functools
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import pluggy
import strawberry
from graphql import GraphQLError, GraphQLNonNull, GraphQLObjectType
from strawberry import relay
from strawberry.exceptions import DuplicatedTypeName
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)
from strawberry.relay.utils import to_base64
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext, ExecutionResult
from strawberry.types.base import StrawberryObjectDefinition, has_object_definition
from strawberry.types.field import StrawberryField

from core import read_compare as compare
from core.catalog import catalog_for
from core.config import Settings
from core.customers.filter_fields import input_fields
from core.customers.inputs import CustomerFilter
from core.extension import TypeFields
from core.host import CORE_PLUGIN_NAME, contributions
from core.read_path import (
    COMPARE,
    REFERENCE,
    CompiledExecutor,
    execute_with_retry,
    forced_path,
    wanted_path,
)
from schema.introspection import introspection_guard
from schema.scalars import SCALAR_OVERRIDES

logger = logging.getLogger("crm.graphql")

PARSE_CACHE_SIZE = 512


_EXECUTE_PARAMETERS = (
    "variable_values",
    "context_value",
    "root_value",
    "operation_name",
    "allowed_operation_types",
    "operation_extensions",
)
"""``strawberry.Schema.execute``'s parameters after the query, in order."""


class SchemaConflictError(Exception):
    """Two modules contribute the same field; the message names both."""


class CRMSchema(strawberry.Schema):
    """A ``strawberry.Schema`` whose object types may carry fields other modules added."""

    def __init__(
        self,
        *args: Any,
        extra_fields: dict[type[Any] | str, list[StrawberryField]] | None = None,
        **kwargs: Any,
    ) -> None:
        # Must exist before the parent constructor converts the types.
        self._extra_fields = extra_fields or {}
        super().__init__(*args, **kwargs)
        self.plain_resolvers = _direct_resolvers(self)

    def get_fields(self, type_definition: StrawberryObjectDefinition) -> list[StrawberryField]:
        extra = [
            *self._extra_fields.get(type_definition.origin, ()),
            *self._named_fields(type_definition),
        ]
        if not extra:
            return type_definition.fields
        return [*type_definition.fields, *extra]

    def _named_fields(self, type_definition: StrawberryObjectDefinition) -> list[StrawberryField]:
        """Fields added to a type by its GraphQL name (a type another plugin owns)."""
        named = self._extra_fields.get(type_definition.name)
        if not named:
            return []
        own = {_graphql_name(self.config, field) for field in type_definition.fields}
        fields = []
        for field in named:
            name = _graphql_name(self.config, field)
            if name in own:
                raise SchemaConflictError(
                    f"{type_definition.name}.{name} is the type's own field; a module "
                    "cannot add it again"
                )
            added = copy.copy(field)
            added.origin = type_definition.origin
            fields.append(added)
        return fields

    async def execute(self, query: str | None, *args: Any, **kwargs: Any) -> ExecutionResult:
        """Execute as Strawberry does; under ``CRM_READ_PATH=compare``, a query document
        runs on both read paths, which must agree (:mod:`core.read_compare`)."""
        named = dict(zip(_EXECUTE_PARAMETERS, args, strict=False)) | kwargs
        context = named.get("context_value")

        def run(on: Any) -> Any:
            def once() -> Any:
                return super(CRMSchema, self).execute(query, **(named | {"context_value": on}))

            return execute_with_retry(once, on)

        if forced_path.get() is not None or wanted_path(context) != COMPARE:
            return await run(context)  # type: ignore[no-any-return]
        return await compare.both(run, context, query)

    def execute_sync(self, query: str | None, *args: Any, **kwargs: Any) -> ExecutionResult:
        """Execute without an event loop: on graphql-core's executor (the compiled read
        path awaits its batch functions)."""
        token = forced_path.set(REFERENCE)
        try:
            return super().execute_sync(query, *args, **kwargs)
        finally:
            forced_path.reset(token)

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # The HTTP layer decides what is expected and logs the rest with the request id.
        return None


def _attribute(name: str) -> Callable[..., Any]:
    def resolve(source: Any, _info: Any) -> Any:
        return getattr(source, name)

    resolve._is_default = True  # type: ignore[attr-defined]  # tracing extensions skip these
    resolve.attribute = name  # type: ignore[attr-defined]  # read by the compiled read path
    return resolve


def _node_id(type_name: str, attribute: str) -> Callable[..., Any]:
    def resolve(source: Any, _info: Any) -> str:
        return to_base64(type_name, getattr(source, attribute))

    resolve._is_default = True  # type: ignore[attr-defined]
    resolve.node_type = type_name  # type: ignore[attr-defined]  # read by the compiled read path
    resolve.node_attribute = attribute  # type: ignore[attr-defined]
    return resolve


def _inherited(cls: type, method: str) -> bool:
    """``cls`` uses :class:`relay.Node`'s own ``method`` (a classmethod), not an override."""
    mine = getattr(getattr(cls, method), "__func__", None)
    return mine is not None and mine is getattr(getattr(relay.Node, method), "__func__", None)


def _direct_resolvers(schema: strawberry.Schema) -> int:
    """Resolve plain attribute fields and node ids without Strawberry's per-field wrapper.

    A field with no resolver, no extension and no permission reads an attribute; a node's
    ``id`` (the default ``resolve_id``) encodes the type name and that attribute. Strawberry
    answers both through several layers per field (an ``Info`` object, argument conversion,
    a ``GlobalID``); a response of a few hundred nodes has thousands of such fields, so they
    get one function each that does just that. Returns how many fields were set.
    """
    config = schema.config
    count = 0
    for name, graphql_type in schema._schema.type_map.items():
        if not isinstance(graphql_type, GraphQLObjectType) or name.startswith("__"):
            continue
        definition = schema.get_type_by_name(name)
        if not isinstance(definition, StrawberryObjectDefinition):
            continue
        fields = {
            config.name_converter.get_graphql_name(f): f for f in schema.get_fields(definition)
        }
        origin = definition.origin
        default_node = (
            isinstance(origin, type)
            and issubclass(origin, relay.Node)
            and _inherited(origin, "resolve_id")
            and _inherited(origin, "resolve_typename")
        )
        for field_name, graphql_field in graphql_type.fields.items():
            field = fields.get(field_name)
            if field is None or graphql_field.args or field.extensions:
                continue
            if field_name == "id" and isinstance(origin, type) and issubclass(origin, relay.Node):
                # A node's id is never a plain attribute; only the default one is known.
                if default_node:
                    graphql_field.resolve = _node_id(name, origin.resolve_id_attr())
                    count += 1
            elif field.is_basic_field and field.default_resolver is getattr:
                graphql_field.resolve = _attribute(field.python_name)
                count += 1
    return count


def _graphql_name(config: StrawberryConfig, field: StrawberryField) -> str:
    return config.name_converter.get_graphql_name(field)


def _compose_root(
    name: str, parts: Sequence[tuple[str, type[Any]]], config: StrawberryConfig
) -> type[Any] | None:
    if not parts:
        return None
    owners: dict[str, str] = {}
    for plugin, part in parts:
        if not has_object_definition(part):
            raise SchemaConflictError(f"{plugin}: {name} contribution {part!r} is not a type")
        for field in part.__strawberry_definition__.fields:
            field_name = _graphql_name(config, field)
            if field_name in owners:
                raise SchemaConflictError(
                    f"{name}.{field_name} is contributed by both {owners[field_name]!r} "
                    f"and {plugin!r}"
                )
            owners[field_name] = plugin
    root = type(name, tuple(part for _, part in parts), {})
    return strawberry.type(root, name=name)


def _type_owner(target: type[Any], type_owners: dict[type[Any], str]) -> str:
    """The module that owns ``target``: the one that contributed it, else its package."""
    if target in type_owners:
        return type_owners[target]
    module = target.__module__.split(".")[0]
    return CORE_PLUGIN_NAME if module == "core" else target.__module__


def _compose_type_fields(
    parts: Iterable[tuple[str, Sequence[TypeFields]]],
    config: StrawberryConfig,
    type_owners: dict[type[Any], str],
) -> dict[type[Any] | str, list[StrawberryField]]:
    extra: dict[type[Any] | str, list[StrawberryField]] = {}
    owners: dict[tuple[type[Any] | str, str], str] = {}
    for plugin, added_fields in parts:
        for contribution in added_fields:
            target = contribution.target
            if isinstance(target, str):
                _compose_named(plugin, target, contribution.fields, config, extra, owners)
                continue
            if not has_object_definition(target):
                raise SchemaConflictError(
                    f"{plugin}: cannot add fields to {target!r}, which is not a GraphQL type"
                )
            definition = target.__strawberry_definition__
            for own in definition.fields:
                owners.setdefault(
                    (target, _graphql_name(config, own)), _type_owner(target, type_owners)
                )
            for python_name, field in contribution.fields.items():
                if not isinstance(field, StrawberryField) or field.base_resolver is None:
                    raise SchemaConflictError(
                        f"{plugin}: {definition.name}.{python_name} must be "
                        "strawberry.field(resolver=...)"
                    )
                added = copy.copy(field)
                added.python_name = python_name
                added.origin = target
                field_name = _graphql_name(config, added)
                key = (target, field_name)
                if key in owners:
                    raise SchemaConflictError(
                        f"{definition.name}.{field_name} is contributed by both "
                        f"{owners[key]!r} and {plugin!r}"
                    )
                owners[key] = plugin
                extra.setdefault(target, []).append(added)
    return extra


def _compose_named(
    plugin: str,
    target: str,
    fields: Mapping[str, Any],
    config: StrawberryConfig,
    extra: dict[type[Any] | str, list[StrawberryField]],
    owners: dict[tuple[type[Any] | str, str], str],
) -> None:
    """Fields for the type named ``target``, added when the schema holds such a type (the
    type's own fields are checked then, in :meth:`CRMSchema.get_fields`)."""
    for python_name, field in fields.items():
        if not isinstance(field, StrawberryField) or field.base_resolver is None:
            raise SchemaConflictError(
                f"{plugin}: {target}.{python_name} must be strawberry.field(resolver=...)"
            )
        added = copy.copy(field)
        added.python_name = python_name
        key = (target, _graphql_name(config, added))
        if key in owners:
            raise SchemaConflictError(
                f"{target}.{key[1]} is contributed by both {owners[key]!r} and {plugin!r}"
            )
        owners[key] = plugin
        extra.setdefault(target, []).append(added)


def schema_extensions(settings: Settings) -> list[Callable[[], SchemaExtension]]:
    """Per-request extension factories (never shared instances) for the request limits.

    The depth and alias rules are made once, here: validation results are cached by query
    and rule classes, so rules made anew for each request (as the limiter extensions do
    when constructed) would make every request miss the cache and validate again.
    """
    rules = [
        *QueryDepthLimiter(max_depth=settings.max_query_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=settings.max_aliases).validation_rules,
    ]
    extensions: list[Callable[[], SchemaExtension]] = [
        functools.partial(AddValidationRules, rules),
        functools.partial(MaxTokensLimiter, max_token_count=settings.max_tokens),
        functools.partial(ParserCache, maxsize=PARSE_CACHE_SIZE),
        functools.partial(ValidationCache, maxsize=PARSE_CACHE_SIZE),
    ]
    guard = introspection_guard(settings)  # anonymous introspection (CRM_INTROSPECTION)
    if guard is not None:
        extensions.append(guard)
    return extensions


def schema_settings(settings: Settings) -> tuple[object, ...]:
    """The settings a built schema depends on (:func:`schema_extensions` reads them): two
    settings equal here give the same schema for the same modules."""
    return (
        settings.max_query_depth,
        settings.max_aliases,
        settings.max_tokens,
        settings.anonymous_introspection,
    )


def build_schema(pm: pluggy.PluginManager, settings: Settings) -> CRMSchema:
    """Build the schema of core plus the plugins registered in ``pm``.

    Also checks the modules' permission declarations (:class:`CatalogError`, a
    :class:`PluginError`), so a bad one stops startup like a schema conflict does.
    """
    catalog_for(pm)
    config = StrawberryConfig()
    query = _compose_root("Query", contributions(pm, "crm_graphql_query"), config)
    if query is None:
        raise SchemaConflictError("no module contributes Query fields")
    mutation = _compose_root("Mutation", contributions(pm, "crm_graphql_mutation"), config)
    subscription = _compose_root(
        "Subscription", contributions(pm, "crm_graphql_subscription"), config
    )
    types: list[type[Any]] = []
    type_owners: dict[type[Any], str] = {}
    for plugin, contributed in contributions(pm, "crm_graphql_types"):
        types.extend(contributed)
        for contributed_type in contributed:
            type_owners.setdefault(contributed_type, plugin)
    extra = _compose_type_fields(contributions(pm, "crm_graphql_type_fields"), config, type_owners)
    filter_fields = input_fields(pm)  # a clash stops the build with a PluginError
    if filter_fields:
        extra.setdefault(CustomerFilter, []).extend(filter_fields)
    try:
        return CRMSchema(
            scalar_overrides=SCALAR_OVERRIDES,
            query=query,
            mutation=mutation,
            subscription=subscription,
            types=types,
            extensions=schema_extensions(settings),
            config=config,
            extra_fields=extra,
            execution_context_class=CompiledExecutor,
        )
    except TypeError as exc:  # graphql-core wraps what get_fields raised
        if isinstance(exc.__cause__, SchemaConflictError):
            raise exc.__cause__ from None
        raise
    except DuplicatedTypeName as exc:
        raise SchemaConflictError(
            f"two modules define a GraphQL type of the same name: {exc}"
        ) from exc


def non_null_root_fields(schema: strawberry.Schema) -> list[str]:
    """The query and mutation root fields declared non-null, as ``Type.field``.

    Every root field must be nullable (docs/api.md, "Nullability and partial results"): a
    refused or failed root field is then ``null`` with an error at its path, and the rest
    of ``data`` survives. Each module's tests assert this is empty.
    """
    found = []
    for root in (schema._schema.query_type, schema._schema.mutation_type):
        if root is None:
            continue
        for name, field in root.fields.items():
            if isinstance(field.type, GraphQLNonNull):
                found.append(f"{root.name}.{name}")
    return found
