"""The compiled read path answers exactly as graphql-core's executor does, batch by batch.

Over a small schema of objects held in memory, with every kind of field the plan knows
(attributes, node ids, computed methods, batch fields with and without arguments), interfaces
and unions, lists and non-null types, and fields that fail in each way: the same
data and the same errors at the same paths for aliases, fragments, directives, variables,
abstract types and every way a field can fail; one batch call per field per level; which
documents fall back, and why; the plan cache; and the compare mode's report.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Sequence
from types import SimpleNamespace
from typing import Annotated, Any

import pytest
import strawberry
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strawberry import relay
from strawberry.extensions import SchemaExtension
from strawberry.permission import PermissionExtension

from core import read_compare as compare
from core import read_path as executor
from core.access import Requires
from core.batch_fields import batch_field
from core.context import RequestContext
from core.errors import ApiError, ApiErrorCode
from core.read_path import COMPILED, REFERENCE, RETRIED, CompiledExecutor, forced_path
from schema.builder import CRMSchema
from schema.testkit import Api

# ------------------------------------------------------------------ the small schema

CALLS: list[tuple[str, int]] = []
"""``(batch function, number of parents)`` of each call, in order."""


def make_context(read_path: str = "compiled") -> RequestContext:
    """A request context for the small schema (no database: nothing here reads one)."""
    settings = SimpleNamespace(read_path=read_path, max_page_size=100)
    return RequestContext(settings=settings, db=None, pm=None)  # type: ignore[arg-type]


@strawberry.enum
class Colour(enum.Enum):
    RED = "RED"
    GREEN = "GREEN"


async def _doubled(_context: RequestContext, leaves: Sequence[Leaf]) -> list[int]:
    CALLS.append(("doubled", len(leaves)))
    return [leaf.size * 2 for leaf in leaves]


async def _scaled(
    _context: RequestContext,
    leaves: Sequence[Leaf],
    factor: int = 1,
    colour: Colour | None = None,
) -> list[int | None]:
    CALLS.append(("scaled", len(leaves)))
    return [
        None if colour is not None and leaf.colour is not colour else leaf.size * factor
        for leaf in leaves
    ]


async def _maybe(_context: RequestContext, leaves: Sequence[Leaf]) -> list[Any]:
    """A value, or (for odd sizes) an error of that leaf's field alone."""
    return [
        ApiError(f"size {leaf.size} is odd", ApiErrorCode.BAD_USER_INPUT)
        if leaf.size % 2
        else leaf.size
        for leaf in leaves
    ]


async def _strict(_context: RequestContext, leaves: Sequence[Leaf]) -> list[int | None]:
    """Non-null in the schema, but null for size 3: the error rises to a nullable place."""
    return [None if leaf.size == 3 else leaf.size for leaf in leaves]


async def _failing(_context: RequestContext, leaves: Sequence[Leaf]) -> list[int]:
    raise ApiError("the batch failed", ApiErrorCode.FORBIDDEN)


@strawberry.interface
class Named:
    name: str


@strawberry.type
class Leaf(Named, relay.Node):
    id: relay.NodeID[int]
    name: str
    size: int
    colour: Colour
    tags: list[str]
    ratio: float
    trail: list[int] | None
    doubled: int = batch_field(_doubled)
    scaled: int | None = batch_field(_scaled)
    maybe: int | None = batch_field(_maybe)
    strict: int = batch_field(_strict)
    failing: int | None = batch_field(_failing)

    @strawberry.field
    def shout(self) -> str:
        return self.name.upper()


async def _leaves(
    _context: RequestContext, branches: Sequence[Branch], first: int | None = None
) -> list[list[Leaf]]:
    CALLS.append(("leaves", len(branches)))
    return [branch.held[:first] if first is not None else branch.held for branch in branches]


async def _strict_leaves(_context: RequestContext, branches: Sequence[Branch]) -> list[list[Leaf]]:
    return [branch.held for branch in branches]


async def _parents(_context: RequestContext, branches: Sequence[Branch]) -> list[Branch | None]:
    CALLS.append(("parent", len(branches)))
    return [BRANCHES[branch.parent] if branch.parent is not None else None for branch in branches]


@strawberry.type
class Branch(Named):
    name: str
    held: strawberry.Private[list[Leaf]]
    parent: strawberry.Private[int | None] = None
    leaves: list[Leaf] = batch_field(_leaves)
    strict_leaves: list[Leaf] | None = batch_field(_strict_leaves)
    up: Branch | None = batch_field(_parents)


@strawberry.type(name="Plain")
class PlainType:
    @strawberry.field
    async def info_only(self, info: strawberry.Info) -> str:
        return str(info.path.key)


def _trail(size: int) -> Any:
    """The leaf's trail: for size 3, an iterator that fails after its first item."""
    yield size
    if size == 3:
        raise ApiError("the trail broke", ApiErrorCode.BAD_USER_INPUT)


def _leaf(number: int, name: str, size: int, colour: Colour, tags: list[str]) -> Leaf:
    return Leaf(
        id=number, name=name, size=size, colour=colour, tags=tags, ratio=size / 4, trail=None
    )


def _trails() -> None:
    for leaf in LEAVES:
        leaf.trail = _trail(leaf.size)  # iterators: made anew before each request


LEAVES = [
    _leaf(1, "ash", 2, Colour.RED, ["a"]),
    _leaf(2, "birch", 3, Colour.GREEN, []),
    _leaf(3, "cedar", 4, Colour.RED, ["b", "c"]),
    _leaf(4, "daphne", 6, Colour.GREEN, ["d"]),
    _leaf(5, "elm", 8, Colour.RED, []),
]
BRANCHES = [
    Branch(name="north", held=LEAVES[:2]),
    Branch(name="south", held=LEAVES[2:4], parent=0),
    Branch(name="east", held=LEAVES[4:], parent=1),
    Branch(name="bare", held=[], parent=2),
]
EVEN = [LEAVES[0], LEAVES[2], LEAVES[3], LEAVES[4]]


@strawberry.type
class Query:
    @strawberry.field
    def branches(self, first: int | None = None) -> list[Branch]:
        return BRANCHES[:first] if first is not None else BRANCHES

    @strawberry.field
    def branch(self, index: int) -> Branch | None:
        return BRANCHES[index] if 0 <= index < len(BRANCHES) else None

    @strawberry.field
    def even_leaves(self) -> list[Leaf]:
        return EVEN

    @strawberry.field
    def named(self) -> list[Named]:
        return [*BRANCHES[:2], *LEAVES[:2]]

    @strawberry.field
    def either(self) -> list[Annotated[Leaf | Branch, strawberry.union("Either")]]:
        return [LEAVES[0], BRANCHES[1], LEAVES[3]]

    @strawberry.field
    def plain(self) -> PlainType:
        return PlainType()


@strawberry.type
class Mutation:
    @strawberry.mutation
    def touch(self) -> Branch:
        return BRANCHES[0]


SCHEMA = CRMSchema(query=Query, mutation=Mutation, execution_context_class=CompiledExecutor)


class OwnersOnly(Requires):
    """A permission that checks more than its name: the compiled path cannot run it."""

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        return False


@strawberry.type
class Guarded:
    @strawberry.field(extensions=[PermissionExtension(permissions=[OwnersOnly()])])
    def secret(self) -> str:
        return "hidden"


@strawberry.type
class GuardedQuery:
    @strawberry.field
    def guarded(self) -> Guarded:
        return Guarded()


DOCUMENTS = [
    "{ branches { name leaves { id name size colour tags ratio doubled shout } } }",
    "{ b: branches(first: 2) { __typename n: name leaves { a: size b: size d: doubled } } }",
    """query($f: Int!, $c: Colour) {
         branches { leaves(first: 1) { scaled(factor: $f) only: scaled(factor: 1, colour: $c) } }
       }""",
    """query($on: Boolean!, $off: Boolean!) {
         branches {
           name @include(if: $on)
           leaves @skip(if: $off) { name }
           ... on Branch @include(if: $off) { up { name } }
           ...More @skip(if: $on)
         }
       }
       fragment More on Branch { leaves { size } up { up { name } } }""",
    "{ named { __typename name ... on Leaf { size colour } ... on Branch { leaves { id } } } }",
    "{ either { __typename ... on Leaf { name } ... on Branch { name up { name } } } }",
    "{ either { ... on Leaf { name } } }",  # a Branch selects nothing: {}
    "{ branch(index: 2) { name up { name up { name up { name } } } } }",
    "{ branch(index: 9) { name } }",
    "{ branches { leaves { size maybe } } }",
    "{ branches { name leaves { name strict } } }",
    "{ branches { name strictLeaves { name strict } } }",
    "{ evenLeaves { name strict failing } }",
    "{ branches { name } __typename a: __typename }",
    "{ branches { leaves { size trail } } }",
]
VARIABLES: list[dict[str, Any]] = [
    {},
    {},
    {"f": 3, "c": "RED"},
    {"on": True, "off": False},
    {},
    {},
    {},
    {},
    {},
    {},
    {},
    {},
    {},
    {},
    {},
]


async def run(query: str, variables: dict[str, Any] | None, path: str) -> tuple[Any, Any]:
    _trails()
    context = make_context()
    token = forced_path.set(path)
    try:
        result = await SCHEMA.execute(query, variable_values=variables, context_value=context)
    finally:
        forced_path.reset(token)
    return result, context


async def both(
    query: str, variables: dict[str, Any] | None = None, *, retried: bool = False
) -> Any:
    """The compiled path's answer, required equal to the reference's; ``retried``: the
    compiled run met a failure that nulls an object or a list, and had the reference
    executor answer instead."""
    reference, _ = await run(query, variables, REFERENCE)
    compiled, context = await run(query, variables, COMPILED)
    if retried:
        assert (context.read_path, context.read_path_reason) == (REFERENCE, RETRIED)
    else:
        assert context.read_path == COMPILED, context.read_path_reason
    assert compare.differences(reference, compiled) is None
    return compiled


@pytest.mark.parametrize(("query", "variables"), list(zip(DOCUMENTS, VARIABLES, strict=True)))
async def test_each_document_is_answered_alike_on_both_paths(
    query: str, variables: dict[str, Any]
) -> None:
    await both(query, variables, retried="strict" in query and "evenLeaves" not in query)


async def test_directives_with_other_variable_values_get_their_own_plan() -> None:
    query = DOCUMENTS[3]
    first = await both(query, {"on": True, "off": False})
    second = await both(query, {"on": False, "off": True})
    assert first.data["branches"][0] == {
        "name": "north",
        "leaves": [{"name": "ash"}, {"name": "birch"}],
    }
    assert second.data["branches"][1] == {
        "up": {"name": "north", "up": None},
        "leaves": [{"size": 4}, {"size": 6}],
    }
    cached = executor._cache[SCHEMA._schema]
    plans = [entry for entry in cached.values() if entry.variables == ("off", "on")]
    assert len(plans) == 1
    assert set(plans[0].by_directives) == {(False, True), (True, False)}


async def test_a_batch_function_runs_once_per_level() -> None:
    CALLS.clear()
    result = await both("{ branches { leaves { doubled } up { leaves { doubled } } } }")
    assert result.data["branches"][1]["leaves"] == [{"doubled": 8}, {"doubled": 12}]
    compiled_calls = CALLS[len(CALLS) // 2 :]
    # The reference path's calls come first: per level on both paths, through the loader.
    assert CALLS[: len(compiled_calls)] == compiled_calls
    assert sorted(compiled_calls) == sorted(
        [("leaves", 4), ("doubled", 5), ("parent", 4), ("leaves", 3), ("doubled", 5)]
    )


async def test_errors_land_where_the_reference_puts_them() -> None:
    # An error value fails its own field: null there, one error at its path.
    result = await both("{ branches { leaves { size maybe } } }")
    assert sorted(tuple(error.path) for error in result.errors) == [
        ("branches", 0, "leaves", 1, "maybe")
    ]
    assert result.data["branches"][0]["leaves"][1] == {"size": 3, "maybe": None}
    assert result.errors[0].original_error.code == "BAD_USER_INPUT"

    # Null for a non-null field rises to the nearest nullable place: here the whole
    # response (the leaves, the branches and `branches` itself are non-null).
    result = await both("{ branches { name leaves { name strict } } }", retried=True)
    assert result.data is None
    (error,) = result.errors
    assert error.path == ["branches", 0, "leaves", 1, "strict"]
    assert error.message == "Cannot return null for non-nullable field Leaf.strict."

    # ... or to a nullable list: only that branch's strictLeaves is null.
    result = await both("{ branches { name strictLeaves { name strict } } }", retried=True)
    assert [branch["strictLeaves"] is None for branch in result.data["branches"]] == [
        True,
        False,
        False,
        False,
    ]

    # graphql-core stops an object at its first non-null failure and drops the errors of
    # fields it settles later: the compiled run leaves such a request to it.
    result = await both("{ branch(index: 0) { leaves { strict maybe size } } }", retried=True)
    assert result.data == {"branch": None}
    assert ["branch", "leaves", 1, "strict"] in [error.path for error in result.errors]

    # A batch function that raises fails the field of every parent of its batch.
    result = await both("{ evenLeaves { name failing } }")
    assert [leaf["failing"] for leaf in result.data["evenLeaves"]] == [None] * 4
    assert sorted(error.path[1] for error in result.errors) == [0, 1, 2, 3]
    assert {error.original_error.code for error in result.errors} == {"FORBIDDEN"}


async def test_a_field_that_declares_nothing_sends_the_document_to_the_reference() -> None:
    result, context = await run("{ branches { name } plain { infoOnly } }", None, COMPILED)
    assert result.errors is None
    assert result.data["plain"] == {"infoOnly": "infoOnly"}
    assert context.read_path == REFERENCE
    assert context.read_path_reason == (
        "Plain.infoOnly has a resolver that declares no batch function"
    )


async def test_an_iterator_failing_midway_fails_its_own_list() -> None:
    result = await both("{ branches { leaves { size trail } } }")
    assert result.data["branches"][0]["leaves"] == [
        {"size": 2, "trail": [2]},
        {"size": 3, "trail": None},
    ]
    assert [error.path for error in result.errors] == [["branches", 0, "leaves", 1, "trail"]]


async def test_a_permission_that_checks_more_than_its_name_is_not_planned() -> None:
    schema = CRMSchema(query=GuardedQuery, execution_context_class=CompiledExecutor)
    context = make_context()
    result = await schema.execute("{ guarded { secret } }", context_value=context)
    assert context.read_path == REFERENCE
    assert "permission the compiled path does not check" in (context.read_path_reason or "")
    assert result.data is None or result.data["guarded"] is None


def test_a_schema_executed_without_an_event_loop_takes_the_reference_path() -> None:
    context = make_context()
    result = SCHEMA.execute_sync("{ branches { name } }", context_value=context)
    assert result.errors is None
    assert (context.read_path, context.read_path_reason) == (REFERENCE, None)


async def test_a_mutation_takes_the_reference_path() -> None:
    result, context = await run("mutation { touch { name leaves { name } } }", None, COMPILED)
    assert result.data == {
        "touch": {"name": "north", "leaves": [{"name": "ash"}, {"name": "birch"}]}
    }
    assert (context.read_path, context.read_path_reason) == (REFERENCE, "not a query")


async def test_the_reference_setting_turns_the_plan_off() -> None:
    context = make_context(read_path=REFERENCE)
    result = await SCHEMA.execute("{ branches { name } }", context_value=context)
    assert result.data is not None
    assert result.data["branches"][0] == {"name": "north"}
    assert (context.read_path, context.read_path_reason) == (REFERENCE, None)


async def test_the_compare_mode_answers_a_disagreement_as_an_error_and_keeps_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def drifting(_context: Any, leaves: Any) -> list[int]:
        return [7 if forced_path.get() == COMPILED else 8 for _ in leaves]

    plan_field = SCHEMA._schema.type_map["Leaf"].fields["doubled"]  # type: ignore[attr-defined]
    monkeypatch.setattr(
        plan_field.extensions["strawberry-definition"].base_resolver.wrapped_func,
        "__crm_batch__",
        drifting,
    )
    monkeypatch.setattr(compare, "DISAGREEMENTS", [])
    executor._cache.clear()
    context = make_context(read_path="compare")
    result = await SCHEMA.execute("{ evenLeaves { doubled } }", context_value=context)
    executor._cache.clear()
    assert result.data is None
    (error,) = result.errors or []
    assert isinstance(error.original_error, ApiError)
    assert error.original_error.code == "INTERNAL_SERVER_ERROR"
    assert error.message.startswith("the compiled and reference read paths disagree: data differ")
    (report,) = compare.DISAGREEMENTS
    assert '"doubled":7' in report
    assert '"doubled":8' in report
    assert "evenLeaves" in report

    # Agreeing answers pass through unchanged, and the statement counter's check is off again.
    result = await SCHEMA.execute("{ branches { name } }", context_value=context)
    assert result.errors is None
    assert not compare.replaying()


# ---------------------------------------------------------------- random selection sets

LEAF_FIELDS = ["id", "name", "size", "colour", "tags", "ratio", "doubled", "shout", "maybe"]
BRANCH_FIELDS = ["name", "__typename"]


@st.composite
def selections(draw: st.DrawFn, type_name: str, depth: int) -> str:
    """A selection set on ``type_name`` with aliases, inline and named fragments and
    ``@skip``/``@include`` on variables ``$a``/``$b``."""
    parts = []
    for _ in range(draw(st.integers(1, 4))):
        parts.append(draw(_selection(type_name, depth)))
    return "{ " + " ".join(parts) + " }"


@st.composite
def _selection(draw: st.DrawFn, type_name: str, depth: int) -> str:
    # A response key names one field with one set of arguments, as validation requires:
    # an alias is the field's name with a suffix, and one per argument value.
    suffix = draw(st.sampled_from(["", "", "_x", "_y"]))
    directive = draw(
        st.sampled_from(["", "", " @skip(if: $a)", " @include(if: $b)", " @include(if: true)"])
    )
    kind = draw(st.integers(0, 9))
    if type_name == "Leaf":
        if kind == 9:
            return f"... on Leaf{directive} {draw(selections('Leaf', depth))}"
        if kind == 8:
            factor = draw(st.sampled_from(["1", "2", "$n"]))
            return f"scaled{factor.strip('$')}{suffix}: scaled(factor: {factor}){directive}"
        name = draw(st.sampled_from(LEAF_FIELDS))
        return f"{_alias(name, suffix)}{name}{directive}"
    if depth <= 0 or kind < 3:
        name = draw(st.sampled_from(BRANCH_FIELDS))
        return f"{_alias(name, suffix)}{name}{directive}"
    if kind < 6:
        first = draw(st.sampled_from(["", "1", "$n"]))
        field = f"leaves{first.strip('$')}{suffix}: leaves(first: {first})" if first else "leaves"
        return f"{field}{directive} {draw(selections('Leaf', depth - 1))}"
    if kind < 8:
        return f"{_alias('up', suffix)}up{directive} {draw(selections('Branch', depth - 1))}"
    if kind == 8:
        return f"...Twig{directive}"
    return f"... on Named{directive} {{ name ... on Leaf {{ size }} }}"


def _alias(name: str, suffix: str) -> str:
    return f"{name.strip('_')}{suffix}: " if suffix else ""


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    body=selections("Branch", 3),
    a=st.booleans(),
    b=st.booleans(),
    n=st.integers(0, 3),
)
async def test_random_selection_sets_are_answered_alike(
    body: str, a: bool, b: bool, n: int
) -> None:
    # Every variable and fragment is used at least once, or validation would refuse the
    # document before either path runs.
    query = (
        "query($a: Boolean!, $b: Boolean!, $n: Int!) { "
        "w: branches(first: $n) @skip(if: $a) @include(if: $b) { name } ...Root "
        f"branches {body} either {{ ... on Branch {body} ... on Leaf {{ name }} }} }}\n"
        "fragment Twig on Branch { name leaves { size } }\n"
        "fragment Root on Query { branches { ...Twig } }"
    )
    await both(query, {"a": a, "b": b, "n": n})


async def test_the_request_log_says_which_path_served(
    admin: Api, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="crm.access")
    await admin.gql("{ customers(first: 1) { edges { node { name owner { name } } } } }")
    await admin.gql('mutation { createTeam(input: {name: "Read path"}) { errors { field } } }')
    await admin.gql("{ system { widgetCount } }")  # the test plugin's field declares nothing
    paths = [
        getattr(record, "read_path", None)
        for record in caplog.records
        if record.name == "crm.access" and getattr(record, "path", None) == "/graphql"
    ]
    assert paths == [COMPILED, REFERENCE, REFERENCE]


async def test_a_document_keeps_at_most_sixteen_plans() -> None:
    flags = [f"f{n}" for n in range(5)]
    header = ", ".join(f"${flag}: Boolean!" for flag in flags)
    fields = " ".join(f"{flag}: name @include(if: ${flag})" for flag in flags)
    query = f"query({header}) {{ branches {{ {fields} }} }}"
    for combination in range(32):
        values = {flag: bool(combination >> n & 1) for n, flag in enumerate(flags)}
        result = await both(query, values)
        assert set(result.data["branches"][0]) == {flag for flag in flags if values[flag]}
    cached = executor._cache[SCHEMA._schema]
    (plans,) = [entry for entry in cached.values() if entry.variables == tuple(flags)]
    assert len(plans.by_directives) == executor.PLANS_PER_DOCUMENT


class Tracing(SchemaExtension):
    """A schema extension that resolves fields (as tracing does)."""

    def resolve(self, _next: Any, root: Any, info: Any, *args: Any, **kwargs: Any) -> Any:
        return _next(root, info, *args, **kwargs)


async def test_a_schema_extension_that_resolves_fields_sends_documents_to_the_reference() -> None:
    traced = CRMSchema(query=Query, extensions=[Tracing], execution_context_class=CompiledExecutor)
    context = make_context()
    result = await traced.execute("{ branches { name } }", context_value=context)
    assert result.data is not None
    assert result.data["branches"][0] == {"name": "north"}
    assert (context.read_path, context.read_path_reason) == (
        REFERENCE,
        "a schema extension resolves fields",
    )
