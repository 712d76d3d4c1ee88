"""Random query documents over the app's own schema, on every module's demo data, are
answered alike by the compiled read path and graphql-core's executor.

hypothesis builds each document from the schema as it stands: a few root lists and objects,
then fields chosen at random down to a few levels (lists paged by a variable), with aliases,
inline fragments on the types an interface or union may take, named fragments, and
``@skip``/``@include`` on variables. The suite's compare mode (``tests/read_paths.py``)
answers each on both paths and turns any difference into an INTERNAL_SERVER_ERROR; the test
also requires that the document was planned (not sent to the reference executor).
"""

from __future__ import annotations

from typing import Any

from graphql import (
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    get_named_type,
    is_leaf_type,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core import read_compare
from core.demo import load_all
from core.host import CRMPluginManager
from schema.testkit import Api

ROOTS = ("customers", "tickets", "opportunities", "orders", "contracts", "users", "viewer")
"""Root fields with data behind them in the demo (those the enabled modules have)."""
MAX_DEPTH = 7
# The test plugin of the suite keeps a field with a plain resolver, to show that such
# documents fall back; random documents leave its fields out.
FALLBACK_FIELDS = frozenset({"widgets", "widgetCount", "owner_Widget", "notes_Widget"})


def _fields(type_: GraphQLObjectType | GraphQLInterfaceType) -> list[tuple[str, GraphQLField]]:
    """Fields a document may select without arguments (other than ``first``)."""
    chosen = []
    for name, field in type_.fields.items():
        if name in FALLBACK_FIELDS or f"{name}_{type_.name}" in FALLBACK_FIELDS:
            continue
        required = [
            arg
            for arg_name, arg in field.args.items()
            if isinstance(arg.type, GraphQLNonNull)
            and arg.default_value is None
            and arg_name != "first"
        ]
        if not required:
            chosen.append((name, field))
    return chosen


class Builder:
    """Builds one random document over ``schema``."""

    def __init__(self, schema: GraphQLSchema, draw: st.DrawFn) -> None:
        self.schema = schema
        self.draw = draw
        self.fragments: list[str] = []

    def selection_set(self, type_: Any, depth: int) -> str:
        draw = self.draw
        if isinstance(type_, GraphQLUnionType):
            members = draw(st.lists(st.sampled_from(type_.types), min_size=1, max_size=2))
            parts = ["__typename"] + [
                f"... on {member.name} {self.selection_set(member, depth)}" for member in members
            ]
            return "{ " + " ".join(parts) + " }"
        fields = _fields(type_)
        picked = draw(
            st.lists(st.sampled_from(fields), min_size=1, max_size=3, unique_by=lambda f: f[0])
        )
        nested = [
            (name, field) for name, field in fields if not is_leaf_type(get_named_type(field.type))
        ]
        if nested and depth < MAX_DEPTH and draw(st.integers(0, 3)) > 0:
            # Most levels go one deeper, so documents reach nested connections and records.
            dive = draw(st.sampled_from(nested))
            picked = [dive, *(chosen for chosen in picked if chosen[0] != dive[0])]
        parts = [self.field(name, field, depth) for name, field in picked]
        if isinstance(type_, GraphQLInterfaceType):
            possible = self.schema.get_possible_types(type_)
            member = draw(st.sampled_from(possible))
            parts.append(f"... on {member.name} {self.selection_set(member, depth)}")
        if isinstance(type_, GraphQLObjectType) and draw(st.integers(0, 4)) == 0:
            name = f"F{len(self.fragments)}"
            self.fragments.append(f"fragment {name} on {type_.name} {{ __typename }}")
            parts.append(f"...{name}")
        return "{ " + " ".join(parts) + " }"

    def field(self, name: str, field: GraphQLField, depth: int) -> str:
        draw = self.draw
        arguments = ""
        if "first" in field.args:
            arguments = f"(first: {draw(st.sampled_from(['1', '2', '$n']))})"
        alias = draw(st.sampled_from(["", "", "x"]))
        key = f"{name}{alias}{arguments.strip('()').replace(': ', '').replace('$', '')}"
        label = f"{key}: " if alias or arguments else ""
        directive = draw(st.sampled_from(["", "", "", " @skip(if: $a)", " @include(if: $b)"]))
        named = get_named_type(field.type)
        if is_leaf_type(named):
            return f"{label}{name}{arguments}{directive}"
        if depth >= MAX_DEPTH:
            return f"{label}{name}{arguments}{directive} {{ __typename }}"
        return f"{label}{name}{arguments}{directive} {self.selection_set(named, depth + 1)}"


@st.composite
def documents(draw: st.DrawFn, schema: GraphQLSchema) -> str:
    builder = Builder(schema, draw)
    query_type = schema.query_type
    assert query_type is not None
    roots = [name for name in ROOTS if name in query_type.fields]
    picked = draw(st.lists(st.sampled_from(roots), min_size=1, max_size=2, unique=True))
    parts = [builder.field(name, query_type.fields[name], 1) for name in picked]
    # Every variable is used once for certain, or validation would refuse the document.
    body = " ".join(parts)
    return (
        "query($a: Boolean!, $b: Boolean!, $n: Int!) { "
        "v: viewer @skip(if: $a) @include(if: $b) { id } "
        f"w: customers(first: $n) {{ totalCount }} {body} }}\n" + "\n".join(builder.fragments)
    )


_loaded: set[int] = set()


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data(), a=st.booleans(), b=st.booleans(), n=st.integers(0, 3))
async def test_random_documents_over_the_schema_are_answered_alike(
    admin: Api, plugin_manager: CRMPluginManager, data: st.DataObject, a: bool, b: bool, n: int
) -> None:
    if id(admin) not in _loaded:
        await load_all(admin.db, plugin_manager, admin.settings, 12)
        _loaded.add(id(admin))
    schema: GraphQLSchema = admin.app.state.crm.schema._schema
    query = data.draw(documents(schema))
    compared = read_compare.COMPARED["compared"]
    body = await admin.gql(query, {"a": a, "b": b, "n": n})
    codes = [error.get("extensions", {}).get("code") for error in body.get("errors", [])]
    assert "INTERNAL_SERVER_ERROR" not in codes, (query, body["errors"])
    assert "GRAPHQL_VALIDATION_FAILED" not in codes, (query, body["errors"])
    assert read_compare.COMPARED["compared"] == compared + 1, query
