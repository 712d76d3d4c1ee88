"""The compiled read path: query documents executed level by level, in batches.

A validated query document is planned once (:mod:`core.read_plan`; cached by document,
operation and the values of the variables its ``@skip``/``@include`` read) into a tree of
fields per type. graphql-core still parses, validates, coerces the variables and runs each
root field's resolver (with its permission checks and argument conversion); below each root
field the plan completes the value, each level of the response for all its objects at once
(:mod:`core.read_run`): a plain field reads an attribute, a field declared with
:func:`core.batch_fields.batch_field` runs its batch function once for every parent of the
level. Mutations, subscriptions and documents with a field that declares nothing run on
graphql-core's executor unchanged, the reference.

Which path served a request is kept on the request context (``read_path``) for the request
log; ``CRM_READ_PATH`` chooses the path (``compiled``, ``reference``, or ``compare``, which
runs both and requires the same response: :mod:`core.read_compare`).
"""

from __future__ import annotations

import contextvars
import logging
import threading
import weakref
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

from graphql import GraphQLSchema, OperationType
from graphql.execution.collect_fields import collect_fields
from graphql.pyutils import Path
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from core.light_nodes import wanted_nodes
from core.read_plan import FieldPlan, Planner, Unplannable, directive_variables
from core.read_rows import prepare
from core.read_run import Retry, Runner

logger = logging.getLogger("crm.graphql")

COMPILED = "compiled"
REFERENCE = "reference"
COMPARE = "compare"
NOT_A_QUERY = "not a query"
RETRIED = "a failure nulled part of the response"

PLAN_CACHE_SIZE = 512
PLANS_PER_DOCUMENT = 16
"""Plans kept per document (one per combination of its ``@skip``/``@include`` values: a
client sending every combination of many such variables gets the rest planned anew)."""

forced_path: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "crm_forced_read_path", default=None
)
"""Set by the compare mode to run one request on a given path."""


class _Plans:
    """The plans (or the refusal) of one operation of one document, by directive values."""

    __slots__ = ("by_directives", "variables")

    def __init__(self, variables: tuple[str, ...]) -> None:
        self.variables = variables
        self.by_directives: dict[tuple[Any, ...], dict[str, FieldPlan] | str] = {}


_cache: weakref.WeakKeyDictionary[GraphQLSchema, OrderedDict[tuple[str, str | None], _Plans]]
_cache = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def _plans_of(schema: GraphQLSchema, operation: Any, fragments: dict[str, Any]) -> _Plans:
    """The cached plans of ``operation``, by the document's text and the operation's name
    (a plan holds nodes of the first parse; another parse of the same text has the same)."""
    if operation.loc is None:  # a document built in code: planned for this request only
        return _Plans(directive_variables(operation, fragments))
    key = (operation.loc.source.body, operation.name.value if operation.name else None)
    with _lock:
        cache = _cache.get(schema)
        if cache is None:
            cache = _cache[schema] = OrderedDict()
        found = cache.get(key)
        if found is not None:
            cache.move_to_end(key)
            return found
        found = _Plans(directive_variables(operation, fragments))
        cache[key] = found
        while len(cache) > PLAN_CACHE_SIZE:
            cache.popitem(last=False)
        return found


class CompiledExecutor(StrawberryGraphQLCoreExecutionContext):
    """graphql-core's executor, with the value of each root field of a planned query
    document completed by the plan."""

    _root_plans: dict[str, FieldPlan] | None = None

    def execute_operation(self, serially: bool | None = None) -> Any:
        context = self.context_value
        path = forced_path.get() or wanted_path(context)
        if not hasattr(context, "read_path"):
            path = REFERENCE  # a context that cannot record the path (or ask for a retry)
        plans: dict[str, FieldPlan] | str = NOT_A_QUERY
        if path != REFERENCE and self.operation.operation is OperationType.QUERY:
            middleware = self.middleware_manager
            if middleware is not None and middleware._middleware_resolvers:
                plans = "a schema extension resolves fields"
            else:
                plans = self._plans()
        if isinstance(plans, dict):
            self._root_plans = plans
            _record(context, COMPILED, None)
        else:
            _record(context, REFERENCE, plans if path != REFERENCE else None)
        return super().execute_operation(serially)

    def _plans(self) -> dict[str, FieldPlan] | str:
        cached = _plans_of(self.schema, self.operation, self.fragment_definitions)
        coerced = self.variable_values.coerced
        directives = tuple(coerced.get(name) for name in cached.variables)
        found = cached.by_directives.get(directives)
        if found is None:
            found = self._plan()
            if len(cached.by_directives) < PLANS_PER_DOCUMENT:
                cached.by_directives[directives] = found
        return found

    def _plan(self) -> dict[str, FieldPlan] | str:
        root_type = self.schema.query_type
        assert root_type is not None
        grouped, _defers, _forbidden = collect_fields(
            self.schema,
            self.fragments,
            self.variable_values,
            root_type,
            self.operation,
            self.hide_suggestions,
        )
        planner = Planner(self.schema, self.collect_subfields)
        plans: dict[str, FieldPlan] = {}
        try:
            for key, details in grouped.items():
                name = details[0].node.name.value
                if name.startswith("__"):
                    continue  # __typename, __schema, __type: graphql-core's own
                plan = planner.field(root_type, key, details, root=True)
                prepare(plan)
                if plan.objects:
                    plans[key] = plan
        except Unplannable as refused:
            return str(refused)
        return plans

    def _root_plan(self, path: Path) -> FieldPlan | None:
        """The plan of the root field at ``path``, when the document is planned."""
        plans = self._root_plans
        if plans is None or path.prev is not None:
            return None
        return plans.get(path.key)  # type: ignore[arg-type]

    def complete_value(
        self,
        return_type: Any,
        field_details_list: Any,
        info: Any,
        path: Path,
        result: Any,
        position_context: Any,
    ) -> Any:
        plan = self._root_plan(path)
        if plan is not None:
            if isinstance(result, Exception):
                raise result
            return self._complete_root(Runner(self, info), return_type, plan, result, path)
        return super().complete_value(
            return_type, field_details_list, info, path, result, position_context
        )

    def complete_awaitable_value(
        self,
        return_type: Any,
        field_details_list: Any,
        info: Any,
        path: Path,
        result: Any,
        position_context: Any,
    ) -> Any:
        plan = self._root_plan(path)
        if plan is not None and plan.wanted is not None:
            # The root field's page of nodes is read with the columns the plan reads
            # (core.light_nodes), set while its resolver runs.
            result = _wanting(result, plan.wanted)
        return super().complete_awaitable_value(
            return_type, field_details_list, info, path, result, position_context
        )

    async def _complete_root(
        self, runner: Runner, return_type: Any, plan: FieldPlan, result: Any, path: Path
    ) -> Any:
        try:
            return await runner.root(return_type, plan, result, path)
        except Retry:
            _record(self.context_value, COMPILED, None, retry=True)
            return None


def wanted_path(context: Any) -> str:
    """The path ``CRM_READ_PATH`` asks for, for a request with ``context``."""
    settings = getattr(context, "settings", None)
    return getattr(settings, "read_path", COMPILED) if settings is not None else COMPILED


def _record(context: Any, path: str, reason: str | None, retry: bool = False) -> None:
    if hasattr(context, "read_path"):
        context.read_path = path
        context.read_path_reason = reason
        context.read_path_retry = retry


async def execute_with_retry(execute: Callable[[], Awaitable[Any]], context: Any) -> Any:
    """``execute()`` (a request on the path chosen for it), and again on the reference
    executor when the compiled run asked for it (:class:`core.read_run.Retry`)."""
    result = await execute()
    if not getattr(context, "read_path_retry", False):
        return result
    token = forced_path.set(REFERENCE)
    try:
        result = await execute()
    finally:
        forced_path.reset(token)
    _record(context, REFERENCE, RETRIED)
    return result


async def _wanting(resolved: Awaitable[Any], wanted: tuple[str, frozenset[str]]) -> Any:
    """``resolved``, awaited with :data:`core.light_nodes.wanted_nodes` set to ``wanted``."""
    token = wanted_nodes.set(wanted)
    try:
        return await resolved
    finally:
        wanted_nodes.reset(token)
