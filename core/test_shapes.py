"""Statements built once per shape: a statement's identity is its structure and every value
bound in it, and a nested page's statement kept for one scope never answers for another."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement

from core import child_pages as child_pages_module
from core.child_pages import child_pages
from core.db import Database
from core.ordering import SortKey
from core.pagination import PageArgs
from core.shapes import Shapes, identity

CHILDREN = Table(
    "shaped_children",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("parent_id", Integer),
    Column("owner", Integer),
    Column("name", String(20)),
)


def _owned(owner: Any) -> Any:
    return select(CHILDREN).where(CHILDREN.c.owner == owner)


def test_one_identity_for_one_structure_and_the_same_values() -> None:
    assert identity(_owned(1)) == identity(_owned(1))
    assert identity(_owned(1)) is not None


def test_another_bound_value_is_another_identity() -> None:
    assert identity(_owned(1)) != identity(_owned(2))
    # Equal in Python, not in SQL: the value's type is part of the identity.
    assert identity(_owned(1)) != identity(_owned(True))
    assert identity(_owned(1)) != identity(_owned(1.0))
    listed = [select(CHILDREN).where(CHILDREN.c.owner.in_(ids)) for ids in ([1, 2], [1, 3])]
    assert identity(listed[0]) != identity(listed[1])


def test_another_structure_is_another_identity() -> None:
    by_name = select(CHILDREN).where(CHILDREN.c.name == 1)
    assert identity(_owned(1)) != identity(by_name)
    assert identity(_owned(1)) != identity(_owned(1).where(CHILDREN.c.id > 0))


class _Unkeyable(ColumnElement[bool]):
    """An element SQLAlchemy cannot make a cache key of (no inherit_cache)."""

    __visit_name__ = "shaped_unkeyable"
    inherit_cache = False


@compiles(_Unkeyable)
def _compile_unkeyable(_element: _Unkeyable, _compiler: Any, **_kw: Any) -> str:
    return "1 = 1"


def test_no_identity_when_sqlalchemy_cannot_key_it_or_a_value_cannot_be_compared() -> None:
    assert identity(select(CHILDREN).where(_Unkeyable())) is None
    assert identity(_owned({"a": 1})) is None


def test_shapes_keep_the_most_recently_used() -> None:
    shapes: Shapes[str] = Shapes(2)
    built: list[str] = []

    def build(name: str) -> Callable[[], str]:
        def made() -> str:
            built.append(name)
            return name

        return made

    assert shapes.get("a", build("a")) == "a"
    assert shapes.get("b", build("b")) == "b"
    assert shapes.get("a", build("a again")) == "a"  # kept; now the most recent
    assert shapes.get("c", build("c")) == "c"  # "b" leaves
    assert shapes.get("b", build("b again")) == "b again"
    assert built == ["a", "b", "c", "b again"]
    assert len(shapes) == 2
    # Without an identity a statement is built every time and never kept.
    assert shapes.get(None, build("x")) == "x"
    assert shapes.get(None, build("x")) == "x"
    assert built[-2:] == ["x", "x"]
    assert len(shapes) == 2


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    rows = [
        {"id": number, "parent_id": number % 3, "owner": number % 2, "name": f"n{number:02d}"}
        for number in range(1, 25)
    ]
    async with database.engine.begin() as connection:
        await connection.run_sync(CHILDREN.metadata.create_all)
        await connection.execute(insert(CHILDREN), rows)
    try:
        yield database
    finally:
        await database.dispose()


async def _pages(db: Database, owner: int, parents: list[int]) -> dict[int, list[int]]:
    async with db.lookup() as session:
        found = await child_pages(
            session,
            _owned(owner),
            parent=CHILDREN.c.parent_id,
            parent_ids=parents,
            keys=(SortKey(CHILDREN.c.name), SortKey(CHILDREN.c.id)),
            args=PageArgs(first=3),
            limit=3,
            backwards=False,
        )
    return {
        parent: [record.__dict__["id"] for record, _values in rows]
        for parent, rows in found.items()
    }


async def test_a_kept_page_statement_answers_each_scope_and_parents_with_its_own_rows(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    shapes: Shapes[Any] = Shapes(512)
    monkeypatch.setattr(child_pages_module, "_SHAPES", shapes)
    expected = {
        (owner, parent): sorted(
            (n for n in range(1, 25) if n % 3 == parent and n % 2 == owner),
            key=lambda n: f"n{n:02d}",
        )[:4]  # the page and one more row, which says there is a next page
        for owner in (0, 1)
        for parent in (0, 1, 2)
    }
    for owner, parents in [(0, [0, 1]), (1, [0, 1]), (0, [2]), (1, [1, 2]), (0, [0, 1])]:
        found = await _pages(db, owner, parents)
        assert found == {parent: expected[(owner, parent)] for parent in parents}
    # One statement per scope, whatever the parents: the second owner's was built anew.
    assert len(shapes) == 2
