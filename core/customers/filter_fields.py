"""Fields that modules add to the filter of the ``customers`` list
(:func:`core.hookspecs.crm_customer_filter_fields`): checked once per plugin manager, added
to ``CustomerFilter`` by the schema builder, applied by the list and the export."""

from __future__ import annotations

import re
import weakref
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pluggy
from sqlalchemy import ColumnElement
from strawberry.annotation import StrawberryAnnotation
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.types.scalar import DEFAULT_SCALAR_REGISTRY
from strawberry.types.arguments import InputContext, convert_argument
from strawberry.types.base import StrawberryOptional, StrawberryType, get_object_definition
from strawberry.types.field import StrawberryField
from strawberry.utils.str_converters import to_camel_case

from core.context import RequestContext
from core.customers.inputs import CustomerFilter
from core.errors import bad_argument
from core.extension import CustomerFilterField
from core.host import PluginError, contributions

HOOK = "crm_customer_filter_fields"
SNAKE_NAME = re.compile(r"[a-z][a-z0-9]*(_[a-z0-9]+)*")
CONFIG = StrawberryConfig()


@dataclass(frozen=True)
class DeclaredFilterField:
    """A module's customer filter field, checked: its GraphQL name and resolved type."""

    module: str
    field: CustomerFilterField
    graphql_name: str
    type: StrawberryType | type[Any]


_declared: weakref.WeakKeyDictionary[pluggy.PluginManager, dict[str, DeclaredFilterField]] = (
    weakref.WeakKeyDictionary()
)


def customer_filter_fields(pm: pluggy.PluginManager) -> dict[str, DeclaredFilterField]:
    """The filter fields ``pm``'s modules add to ``CustomerFilter``, by GraphQL name, in
    module order; checked on first use (the schema build, at startup).

    :raises PluginError: a name that is not snake case, that core's filter or another
        module already has, a type that is not optional, or an answer that is not a
        :class:`CustomerFilterField`; the message names the module(s).
    """
    found = _declared.get(pm)
    if found is None:
        found = _check(contributions(pm, HOOK)) if hasattr(pm.hook, HOOK) else {}
        _declared[pm] = found
    return found


def _check(answers: Iterable[tuple[str, Any]]) -> dict[str, DeclaredFilterField]:
    own = {
        CONFIG.name_converter.from_field(field)
        for field in get_object_definition(CustomerFilter, strict=True).fields
    }
    found: dict[str, DeclaredFilterField] = {}
    for module, fields in answers:
        for field in fields:
            if not isinstance(field, CustomerFilterField):
                raise PluginError(
                    f"{module}: {HOOK} must return CustomerFilterField values, not {field!r}"
                )
            if not SNAKE_NAME.fullmatch(field.name):
                raise PluginError(
                    f"{module}: the customer filter field {field.name!r} is not a snake case "
                    "Python name"
                )
            name = to_camel_case(field.name)
            if name in own:
                raise PluginError(
                    f"{module}: the customer filter field {name!r} is one of core's own "
                    "CustomerFilter fields"
                )
            if name in found and found[name].module == module:
                raise PluginError(f"{module}: the customer filter field {name!r} is declared twice")
            if name in found:
                raise PluginError(
                    f"the customer filter field {name!r} is declared by two modules: "
                    f"{found[name].module} and {module}"
                )
            resolved = StrawberryAnnotation(field.annotation).resolve()
            if not isinstance(resolved, StrawberryOptional):
                raise PluginError(
                    f"{module}: the customer filter field {name!r} must have an optional "
                    f"type (X | None), not {field.annotation!r}"
                )
            found[name] = DeclaredFilterField(module, field, name, resolved.of_type)
    return found


def input_fields(pm: pluggy.PluginManager) -> list[StrawberryField]:
    """``pm``'s customer filter fields as fields of ``CustomerFilter`` for one schema
    (``= null`` when omitted, like core's own optional filters)."""
    fields = []
    for declared in customer_filter_fields(pm).values():
        field = StrawberryField(
            python_name=declared.field.name,
            type_annotation=StrawberryAnnotation(declared.field.annotation),
            origin=CustomerFilter,
            description=declared.field.description,
            default=None,
        )
        fields.append(field)
    return fields


def filter_conditions(
    context: RequestContext, filter: CustomerFilter, customer_id: ColumnElement[int]
) -> list[ColumnElement[bool]]:
    """The conditions of the module fields ``filter`` sets (not to ``null``), in the order
    the client gave them.

    :raises ApiError: ``BAD_USER_INPUT`` naming ``filter.<field>`` when a field's
        ``apply`` refuses its value with a ``ValueError``.
    """
    if not filter.plugin_values:
        return []
    declared_fields = customer_filter_fields(context.pm)
    conditions = []
    for name, raw in filter.plugin_values.items():
        declared = declared_fields.get(name)
        if declared is None or raw is None:
            continue
        value = convert_argument(raw, declared.type, DEFAULT_SCALAR_REGISTRY, CONFIG, path=(name,))
        try:
            conditions.append(declared.field.apply(value, customer_id, context))
        except ValueError as exc:
            message = exc.args[0] if exc.args and isinstance(exc.args[0], str) else str(exc)
            raise bad_argument(f"filter.{name}", message) from None
    return conditions


def _filter_from_input(
    cls: type[CustomerFilter], value: Mapping[str, Any], context: InputContext
) -> CustomerFilter:
    """A :class:`CustomerFilter` from its GraphQL input value: core's fields converted as
    Strawberry would, the fields modules added kept aside in ``plugin_values`` (the class
    has none of them: each schema adds its own)."""
    definition = get_object_definition(cls, strict=True)
    own: dict[str, Any] = {}
    names = set()
    for field in definition.fields:
        name = context.config.name_converter.from_field(field)
        names.add(name)
        if name in value:
            own[field.python_name] = context.convert(
                value[name], field.resolve_type(type_definition=definition), name
            )
    return cls(**own, plugin_values={k: v for k, v in value.items() if k not in names})


# Installed beside the code that applies the values: every schema with the customers list
# imports this module through core.customers.queries.
get_object_definition(CustomerFilter, strict=True).from_input = _filter_from_input
