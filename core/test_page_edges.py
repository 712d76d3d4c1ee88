"""A page's edges answered from its nodes: the compiled read path writes a page's
``edges { __typename cursor node }`` from the nodes and sort values of
:func:`core.pagination.connection_of`, without an edge object per row, and gives anything
else back to the level-by-level completion; both paths answer alike either way."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import strawberry
from sqlalchemy import column
from strawberry import relay

from core import read_compare as compare
from core.cursors import encode_cursor, ordering_tag
from core.ordering import SortKey
from core.pagination import Connection, PageArgs, connection_of, unread_page
from core.read_path import COMPILED, REFERENCE, RETRIED, CompiledExecutor
from core.test_read_rows import Quirk, _quirk, answers_of, run
from schema.builder import CRMSchema

KEYS = (SortKey(column("label")), SortKey(column("id")))
MADE: list[list[Any]] = [[]]
"""The connections the last request was answered with."""
MAKE: list[Callable[[], list[Any]]] = [list]
"""Makes the connections of a request."""


@strawberry.type
class PageQuery:
    @strawberry.field
    def pages(self) -> list[Connection[Quirk]]:
        MADE[0] = MAKE[0]()
        return MADE[0]


SCHEMA = CRMSchema(query=PageQuery, execution_context_class=CompiledExecutor)
FULL = """{ pages { __typename totalCount
  edges { __typename cursor node { id label code } again: cursor }
  pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }"""
LEAN = "{ pages { edges { cursor node { id label } } pageInfo { endCursor } } }"


def _page(
    *numbers: int, limit: int = 2, backwards: bool = False, to_node: Any = None
) -> Connection[Quirk]:
    rows = [(number, (f"q{number}", number)) for number in numbers]
    args = PageArgs(last=limit) if backwards else PageArgs(first=limit)
    return connection_of(
        rows,
        keys=KEYS,
        args=args,
        limit=limit,
        backwards=backwards,
        to_node=to_node or _quirk,
        count=None,
    )


def _pages() -> list[Any]:
    # More rows than the limit (a next page), none, one, and a page read backwards.
    return [_page(1, 2, 3), _page(), _page(4), _page(6, 5, 4, backwards=True)]


async def _answered_from_nodes(
    monkeypatch: pytest.MonkeyPatch, document: str = FULL, retried: bool = False
) -> tuple[list[bool], Any]:
    """Runs ``document`` on both paths (each on pages of its own, made alike); whether
    each list of edges was answered from its page's nodes, and the compiled response
    (``retried``: answered again by the reference, the compiled run having given up)."""
    answered = answers_of(monkeypatch, "_page_edges")
    reference, _ = await run(REFERENCE, SCHEMA, document)
    compiled, context = await run(COMPILED, SCHEMA, document)
    if not retried:
        assert context.read_path == COMPILED
    else:
        assert (context.read_path, context.read_path_reason) == (REFERENCE, RETRIED)
    assert compare.differences(reference, compiled) is None
    return answered, compiled


async def test_a_pages_edges_are_answered_from_its_nodes(monkeypatch: pytest.MonkeyPatch) -> None:
    MAKE[0] = _pages
    answered, compiled = await _answered_from_nodes(monkeypatch)
    assert answered == [True]
    # Counted, answered and paged without an edge object (totalCount counts the nodes).
    assert all(unread_page(connection) is not None for connection in MADE[0])
    first, empty, _one, backwards = compiled.data["pages"]
    tag = ordering_tag(KEYS)
    assert first["edges"][1] == {
        "__typename": "QuirkEdge",
        "cursor": encode_cursor(["q2", 2], tag),
        "node": {"id": relay.to_base64("Quirk", 2), "label": "q2", "code": "c2"},
        "again": encode_cursor(["q2", 2], tag),
    }
    assert first["pageInfo"] == {
        "hasNextPage": True,
        "hasPreviousPage": False,
        "startCursor": encode_cursor(["q1", 1], tag),
        "endCursor": encode_cursor(["q2", 2], tag),
    }
    assert first["totalCount"] == 2  # the page's length: this connection cannot count
    assert empty == {
        "__typename": "QuirkConnection",
        "totalCount": 0,
        "edges": [],
        "pageInfo": {
            "hasNextPage": False,
            "hasPreviousPage": False,
            "startCursor": None,
            "endCursor": None,
        },
    }
    # Read backwards, the rows come last first and the page is put back in order.
    assert [edge["node"]["label"] for edge in backwards["edges"]] == ["q5", "q6"]
    assert backwards["pageInfo"]["hasPreviousPage"] is True


async def test_no_edge_object_is_made_for_a_page_the_compiled_path_answers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    MAKE[0] = _pages
    answered, _compiled = await _answered_from_nodes(monkeypatch, LEAN)
    assert answered == [True]
    assert all(unread_page(connection) is not None for connection in MADE[0])
    await run(REFERENCE, SCHEMA, LEAN)  # the reference reads each page's edges
    assert all(unread_page(connection) is None for connection in MADE[0])


def _read(connection: Any) -> Any:
    assert connection.edges is not None
    return connection


ODD_PAGES: dict[str, Any] = {
    # Each has one connection the answer from nodes leaves to the general completion.
    "edges read before": lambda: [_page(1), _read(_page(2, 3))],
    "a connection made otherwise": lambda: [
        _page(1),
        Connection(edges=list(_read(_page(2)).edges), page_info=_page(2).page_info),
    ],
    "a missing node": lambda: [_page(1), _page(2, to_node=lambda _row: None)],
    "a node that failed": lambda: [_page(1), _page(2, to_node=lambda _row: RuntimeError("no"))],
    "a node of another type": lambda: [_page(1), _page(2, to_node=lambda _row: _page())],
    "a sort value no cursor holds": lambda: [_page(1), _odd_sort_values(_page(2))],
}


def _odd_sort_values(page: Any) -> Any:
    page._values = [(b"bytes", 2)]  # no cursor can hold bytes: the edge's cursor fails
    return page


NULLED = {
    "a missing node",
    "a node that failed",
    "a node of another type",
    "a sort value no cursor holds",
}
"""Cases whose failure nulls a page: the reference answers the request again."""


@pytest.mark.parametrize("case", sorted(ODD_PAGES))
async def test_pages_that_need_more_are_completed_level_by_level(
    case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    MAKE[0] = ODD_PAGES[case]
    answered, _compiled = await _answered_from_nodes(monkeypatch, LEAN, case in NULLED)
    assert answered == [False]


def test_a_pages_edges_and_page_information_are_made_when_first_read() -> None:
    tag = ordering_tag(KEYS)
    page = _page(1, 2, 3)
    assert "edges" not in vars(page)
    assert "page_info" not in vars(page)
    assert [edge.node.id for edge in page.edges] == [1, 2]
    assert [edge.cursor for edge in page.edges] == [
        encode_cursor(["q1", 1], tag),
        encode_cursor(["q2", 2], tag),
    ]
    assert page.edges is page.edges  # made once
    info = page.page_info
    assert (info.has_next_page, info.has_previous_page) == (True, False)
    assert (info.start_cursor, info.end_cursor) == (page.edges[0].cursor, page.edges[1].cursor)
    assert unread_page(page) is None
    backwards = _page(6, 5, 4, backwards=True)
    assert [node.id for node in unread_page(backwards)[0]] == [5, 6]  # type: ignore[index]
    assert (backwards.page_info.has_next_page, backwards.page_info.has_previous_page) == (
        False,
        True,
    )
    empty = _page()
    assert empty.edges == []
    assert (empty.page_info.start_cursor, empty.page_info.end_cursor) == (None, None)
    with pytest.raises(AttributeError):
        getattr(empty, "no_such_attribute")  # noqa: B009
