"""Generated row builders: they answer a level's plain fields, and give the level up to the
runner's general completion whenever a value needs more, so both paths still agree."""

from __future__ import annotations

import enum
from types import SimpleNamespace
from typing import Any

import pytest
import strawberry
from strawberry import relay

from core import read_compare as compare
from core import read_path as executor
from core.context import RequestContext
from core.read_path import COMPILED, REFERENCE, RETRIED, CompiledExecutor, forced_path
from core.read_plan import ObjectPlan
from core.read_rows import builder_of
from core.read_run import Runner
from schema.builder import CRMSchema


@strawberry.enum
class Mood(enum.Enum):
    CALM = "calm"
    BUSY = "busy"


@strawberry.type
class Quirk(relay.Node):
    id: relay.NodeID[int]
    label: str | None
    count: int | None
    flag: bool | None
    mood: Mood | None
    code: str


def _quirk(number: int, **values: Any) -> Quirk:
    fields: dict[str, Any] = {
        "label": f"q{number}",
        "count": number,
        "flag": True,
        "mood": Mood.CALM,
        "code": f"c{number}",
    }
    fields.update(values)
    return Quirk(id=number, **fields)


PLAIN = [_quirk(1), _quirk(2, label=None, count=None, flag=None, mood=None), _quirk(3)]
ODD: dict[str, list[Quirk]] = {
    # Each list has one value the builder leaves to the general completion.
    "label": [_quirk(1), _quirk(2, label=5)],  # serialised to "5" by the builder itself
    "count": [_quirk(1), _quirk(2, count=2**40)],  # out of Int's range: an error
    "flag": [_quirk(1), _quirk(2, flag="yes")],  # not a Boolean: an error
    "mood": [_quirk(1, mood="busy"), _quirk(2, mood="BLUE")],  # by value; no such value
    "code": [_quirk(1), _quirk(2, code=None)],  # null for a non-null field: retried
}
CHOSEN: list[list[Quirk]] = [PLAIN]


@strawberry.type
class Query:
    @strawberry.field
    def quirks(self) -> list[Quirk] | None:
        return CHOSEN[0]


SCHEMA = CRMSchema(query=Query, execution_context_class=CompiledExecutor)
DOCUMENT = "{ quirks { __typename id label count flag mood code again: label } }"


async def run(
    path: str, schema: CRMSchema = SCHEMA, document: str = DOCUMENT
) -> tuple[Any, RequestContext]:
    settings = SimpleNamespace(read_path=path, max_page_size=100)
    context = RequestContext(settings=settings, db=None, pm=None)  # type: ignore[arg-type]
    token = forced_path.set(path)
    try:
        return await schema.execute(document, context_value=context), context
    finally:
        forced_path.reset(token)


def quirk_plan() -> ObjectPlan:
    """The plan of the Quirk level of :data:`DOCUMENT` (planned by a request before)."""
    cached = executor._cache[SCHEMA._schema][(DOCUMENT, None)]
    plans = cached.by_directives[()]
    assert isinstance(plans, dict)
    found = plans["quirks"].only
    assert found is not None
    return found


async def test_a_level_of_plain_fields_is_built_in_one_loop() -> None:
    CHOSEN[0] = PLAIN
    reference, _ = await run(REFERENCE)
    compiled, context = await run(COMPILED)
    assert context.read_path == COMPILED
    assert compare.differences(reference, compiled) is None
    assert compiled.data["quirks"][1] == {
        "__typename": "Quirk",
        "id": relay.to_base64("Quirk", 2),
        "label": None,
        "count": None,
        "flag": None,
        "mood": None,
        "code": "c2",
        "again": None,
    }
    build = quirk_plan().builder
    assert build is not None
    rows = build(PLAIN)
    assert rows is not None
    assert [list(row) for row in rows] == [
        ["__typename", "id", "label", "count", "flag", "mood", "code", "again"]
    ] * 3
    assert rows[0]["mood"] == "CALM"


@pytest.mark.parametrize("field", sorted(ODD))
async def test_a_value_that_needs_more_gives_the_level_to_the_runner(field: str) -> None:
    """Each list holds one value not in its output form: a serialiser converts it, or it
    fails (an error at its path), or it nulls the list (the request is retried)."""
    CHOSEN[0] = ODD[field]
    reference, _ = await run(REFERENCE)
    compiled, context = await run(COMPILED)
    if field == "code":
        assert (context.read_path, context.read_path_reason) == (REFERENCE, RETRIED)
        assert compiled.data == {"quirks": None}
    else:
        assert context.read_path == COMPILED
    assert compare.differences(reference, compiled) is None
    if field == "label":
        assert compiled.data["quirks"][1]["label"] == "5"
        assert compiled.errors is None
    elif field in ("count", "flag"):
        assert [error.path for error in compiled.errors] == [["quirks", 1, field]]
    build = quirk_plan().builder
    assert build is not None
    if field == "label":
        rows = build(ODD[field])  # a value its type's serialiser takes: still built
        assert rows is not None
        assert rows[1]["label"] == "5"
    else:
        assert build(ODD[field]) is None  # the builder gave the level up


async def test_an_attribute_that_raises_gives_the_level_up() -> None:
    CHOSEN[0] = PLAIN
    await run(COMPILED)

    class Broken:
        id = 9

        @property
        def label(self) -> str:
            raise RuntimeError("no label")

    build = quirk_plan().builder
    assert build is not None
    assert build([Broken()]) is None


def test_a_level_without_plain_fields_has_no_builder() -> None:
    level = SCHEMA._schema.type_map["Query"]
    assert builder_of(ObjectPlan(level, [])) is None  # type: ignore[arg-type]


# ------------------------------------------------------ lists of edges answered as one level


@strawberry.type
class Wrap:
    note: str | None
    thing: Quirk


@strawberry.type
class Box:
    wraps: list[Wrap] | None


BOXES: list[list[Any]] = [[]]


@strawberry.type
class BoxQuery:
    @strawberry.field
    def boxes(self) -> list[Box]:
        return BOXES[0]


BOX_SCHEMA = CRMSchema(query=BoxQuery, execution_context_class=CompiledExecutor)
BOX_DOCUMENT = "{ boxes { wraps { __typename note thing { id label code } } } }"


def _box(*things: Any, notes: str | None = "n") -> Box:
    return Box(wraps=[Wrap(note=notes, thing=thing) for thing in things])


ODD_BOXES: dict[str, list[Any]] = {
    # Each has one value the one-level answer leaves to the general completion.
    "a missing node": [_box(_quirk(1)), _box(None)],  # non-null: the request is retried
    "a node of another type": [_box(_quirk(1), Box(wraps=None))],
    "a node missing a non-null field": [_box(_quirk(1), _quirk(2, code=None))],
    "a node that failed": [_box(_quirk(1), RuntimeError("no node"))],
    "a tuple of edges": [Box(wraps=(Wrap(note="t", thing=_quirk(1)),))],  # type: ignore[arg-type]
    "an edge of another type": [Box(wraps=[_quirk(3)])],  # type: ignore[list-item]
    "a note that is not a string": [_box(_quirk(1), notes=["x"])],  # type: ignore[arg-type]
}


def answers_of(monkeypatch: pytest.MonkeyPatch, method: str) -> list[bool]:
    """Whether each call of the runner's ``method`` (an answer of a whole level, or
    ``None`` to leave it to the general completion) answered, in the order of the calls."""
    answered: list[bool] = []
    original = getattr(Runner, method)

    async def spy(self: Runner, *args: Any) -> Any:
        column = await original(self, *args)
        answered.append(column is not None)
        return column

    monkeypatch.setattr(Runner, method, spy)
    return answered


async def _answered_as_one_level(
    monkeypatch: pytest.MonkeyPatch, schema: CRMSchema = BOX_SCHEMA, document: str = BOX_DOCUMENT
) -> list[bool]:
    """Runs the box document on both paths; whether each edges level was answered whole."""
    answered = answers_of(monkeypatch, "_edges")
    reference, _ = await run(REFERENCE, schema, document)
    compiled, _ = await run(COMPILED, schema, document)
    assert compare.differences(reference, compiled) is None
    return answered


async def test_a_list_of_edges_is_answered_as_one_level(monkeypatch: pytest.MonkeyPatch) -> None:
    BOXES[0] = [_box(_quirk(1), _quirk(2)), Box(wraps=None), Box(wraps=[]), _box(_quirk(3))]
    assert await _answered_as_one_level(monkeypatch) == [True]
    compiled, context = await run(COMPILED, BOX_SCHEMA, BOX_DOCUMENT)
    assert context.read_path == COMPILED
    boxes = compiled.data["boxes"]
    assert [None if box["wraps"] is None else len(box["wraps"]) for box in boxes] == [2, None, 0, 1]
    assert boxes[0]["wraps"][1] == {
        "__typename": "Wrap",
        "note": "n",
        "thing": {"id": relay.to_base64("Quirk", 2), "label": "q2", "code": "c2"},
    }


async def test_lists_without_edges_are_answered_as_one_level(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    BOXES[0] = [Box(wraps=None), Box(wraps=[])]
    assert await _answered_as_one_level(monkeypatch) == [True]
    compiled, _ = await run(COMPILED, BOX_SCHEMA, BOX_DOCUMENT)
    assert compiled.data == {"boxes": [{"wraps": None}, {"wraps": []}]}


@pytest.mark.parametrize("case", sorted(ODD_BOXES))
async def test_edges_that_need_more_are_completed_level_by_level(
    case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    BOXES[0] = ODD_BOXES[case]
    answered = await _answered_as_one_level(monkeypatch)
    # A node missing a non-null field fails where the nodes' own level is completed, as
    # it would level by level: the edges were answered whole up to there.
    assert answered == ([] if case == "a node missing a non-null field" else [False])


async def test_only_a_list_of_wrappers_holding_one_object_is_answered_as_one_level() -> None:
    BOXES[0] = []
    await run(COMPILED, BOX_SCHEMA, BOX_DOCUMENT)
    plans = executor._cache[BOX_SCHEMA._schema][(BOX_DOCUMENT, None)].by_directives[()]
    assert isinstance(plans, dict)
    box_plan = plans["boxes"].only
    assert box_plan is not None
    assert plans["boxes"].edges is None  # a list of boxes: each holds a list, not one object
    wraps = box_plan.fields[0]
    assert wraps.edges is not None
    assert wraps.edges.node.key == "thing"
    assert wraps.edges.nullable
    assert box_plan.fields[0].only is not None
    thing = box_plan.fields[0].only.fields[2]
    assert thing.edges is None  # an object, not a list


@strawberry.interface
class Marked:
    note: str | None


@strawberry.type
class MarkedWrap(Marked):
    """An edge type with an ``is_type_of`` check (it implements an interface)."""

    thing: Quirk


@strawberry.type
class MarkedBox:
    marked: list[MarkedWrap]


MARKED: list[list[MarkedBox]] = [[]]


@strawberry.type
class MarkedQuery:
    @strawberry.field
    def marked_boxes(self) -> list[MarkedBox]:
        return MARKED[0]


MARKED_SCHEMA = CRMSchema(
    query=MarkedQuery, types=[MarkedWrap], execution_context_class=CompiledExecutor
)
MARKED_DOCUMENT = "{ markedBoxes { marked { note thing { id label } } } }"


@pytest.mark.parametrize("odd", [False, True])
async def test_edges_that_fail_their_type_check_are_completed_level_by_level(
    odd: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    edge_type = MARKED_SCHEMA._schema.get_type("MarkedWrap")
    assert getattr(edge_type, "is_type_of", None) is not None
    other = Wrap(note="b", thing=_quirk(2)) if odd else MarkedWrap(note="b", thing=_quirk(2))
    MARKED[0] = [MarkedBox(marked=[MarkedWrap(note="a", thing=_quirk(1)), other])]  # type: ignore[list-item]
    answered = await _answered_as_one_level(monkeypatch, MARKED_SCHEMA, MARKED_DOCUMENT)
    assert answered == [not odd]
    compiled, _ = await run(COMPILED, MARKED_SCHEMA, MARKED_DOCUMENT)
    if odd:  # the reference's own error, at the edge (and the request answered by it)
        assert compiled.data is None
        assert compiled.errors
        assert "MarkedWrap" in compiled.errors[0].message
    else:
        assert compiled.data["markedBoxes"][0]["marked"][1] == {
            "note": "b",
            "thing": {"id": relay.to_base64("Quirk", 2), "label": "q2"},
        }


@strawberry.type
class Other(relay.Node):
    id: relay.NodeID[int]


@strawberry.type
class Picky(relay.Node):
    id: relay.NodeID[int]

    @classmethod
    def is_type_of(cls, obj: Any, _info: Any) -> bool:
        return isinstance(obj, cls) and obj.id > 0


def _type_of(kind: type[Any]) -> Any:
    schema = strawberry.Schema(query=_Query, types=[kind, Other])
    return schema._schema.type_map[kind.__name__]


@strawberry.type
class _Query:
    quirk: Quirk | None = None


def test_strawberrys_own_check_is_skipped_for_instances_of_the_class_alone() -> None:
    from strawberry.types.cast import TYPE_CAST_ATTRIBUTE

    from core.read_rows import exact_class, is_of

    quirk_type = _type_of(Quirk)
    assert quirk_type.is_type_of is not None  # a node: strawberry checks its values
    plan = ObjectPlan(quirk_type, [], exact=exact_class(quirk_type))
    assert plan.exact is Quirk
    calls: list[Any] = []
    original = quirk_type.is_type_of

    def counted(value: Any, info: Any) -> bool:
        calls.append(value)
        return bool(original(value, info))

    quirk_type.is_type_of = counted
    try:
        assert is_of(plan, _quirk(1), None)
        assert calls == []
        # Another class, or an instance cast to another type: strawberry's check decides.
        other = SimpleNamespace(id=2)
        assert not is_of(plan, other, None)
        node = Other(id=4)  # strawberry's check takes any node for a node type
        assert is_of(plan, node, None)
        cast = _quirk(3)
        setattr(cast, TYPE_CAST_ATTRIBUTE, Other)
        assert not is_of(plan, cast, None)
        assert calls == [other, node, cast]
    finally:
        quirk_type.is_type_of = original
    # A class with its own is_type_of is always asked.
    picky_type = _type_of(Picky)
    assert exact_class(picky_type) is None
    picky = ObjectPlan(picky_type, [], exact=exact_class(picky_type))
    assert is_of(picky, Picky(id=1), None)
    assert not is_of(picky, Picky(id=-1), None)
