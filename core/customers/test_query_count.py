"""A customer list with its nested fields costs the same number of SQL statements for 5
customers as for 100: every relationship is loaded in one batch per request, and nested
connections page all parents in one statement (``ROW_NUMBER`` per parent).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy import insert, select, update

from core.catalog import SALES_REPRESENTATIVE
from core.customers import models
from core.db import utcnow
from core.identity.models import User
from schema.testkit_tools import make_user
from tests.support import Api, StatementCounter

NESTED = """
query($first: Int!) {
  customers(first: $first) {
    edges {
      node {
        owner { name }
        tags { name }
        contacts(first: 5) { edges { node { name } } }
        interactions(first: 3) { edges { node { summary } } }
      }
    }
  }
}"""
WITH_COUNTS = """
query($first: Int!) {
  customers(first: $first) {
    totalCount
    edges { node { contacts(first: 5) { totalCount edges { node { name } } } } }
  }
}"""
WITHOUT_COUNTS = """
query($first: Int!) {
  customers(first: $first) { edges { node { contacts(first: 5) { edges { node { name } } } } } }
}"""

COLLEAGUES = """
query($first: Int!) {
  customers(first: $first) {
    edges {
      node {
        owner { name active user { email } }
        interactions(first: 3) { edges { node { author { name } participants { name } } } }
      }
    }
  }
}"""

SIZE = 120


async def load_customers(api: Api) -> None:
    """``SIZE`` customers, each with 3 contacts, 3 tags and 4 interactions, inserted in bulk
    and owned in turn by the sales representatives."""
    now = utcnow()
    async with api.db.transaction() as session:
        owners = list(
            (
                await session.scalars(
                    select(User.id).where(User.email.like("rep%")).order_by(User.id)
                )
            ).all()
        ) or [api.user_id or 0]
        await session.execute(
            insert(models.Tag),
            [
                {"id": n + 1, "name": f"Tag {n}", "name_key": f"tag {n}", "created_at": now}
                for n in range(5)
            ],
        )
        await session.execute(
            insert(models.Customer),
            [
                {
                    "id": n + 1,
                    "number": f"C{n + 1:06d}",
                    "name": f"Customer {n:03d}",
                    "kind": "COMPANY",
                    "stage": "ACTIVE",
                    "grade": "STANDARD",
                    "owner_id": owners[n % len(owners)],
                    "custom_fields": {},
                    "created_at": now,
                    "updated_at": now,
                    "version": 1,
                }
                for n in range(SIZE)
            ],
        )
        await session.execute(
            insert(models.Contact),
            [
                {
                    "customer_id": n + 1,
                    "name": f"Contact {n}-{k}",
                    "is_primary": k == 0,
                    "created_at": now,
                    "updated_at": now,
                    "version": 1,
                }
                for n in range(SIZE)
                for k in range(3)
            ],
        )
        await session.execute(
            insert(models.CustomerTag),
            [
                {"customer_id": n + 1, "tag_id": (n + k) % 5 + 1}
                for n in range(SIZE)
                for k in range(3)
            ],
        )
        await session.execute(
            insert(models.Interaction),
            [
                {
                    "customer_id": n + 1,
                    "channel": "PHONE",
                    "summary": f"Call {k} with {n}",
                    "occurred_at": now - dt.timedelta(days=k),
                    "created_at": now,
                    "author_id": owners[n % len(owners)],
                }
                for n in range(SIZE)
                for k in range(4)
            ],
        )


async def statements_for(
    api: Api, counter: StatementCounter, query: str, first: int
) -> tuple[int, list[dict[str, Any]]]:
    counter.reset()
    body = await api.gql(query, {"first": first})
    assert "errors" not in body, body
    edges: list[dict[str, Any]] = body["data"]["customers"]["edges"]
    assert len(edges) == first
    return counter.count, edges


def queries(counter: StatementCounter) -> list[str]:
    """The statements other than SQLite's explicit ``BEGIN`` (one per session)."""
    return [s for s in counter.statements if s.strip().upper() != "BEGIN"]


def assert_nested_data(edges: list[dict[str, Any]]) -> None:
    """The page really carried the nested rows the statement count is about."""
    for edge in edges:
        node = edge["node"]
        assert node["owner"] is not None
        assert len(node["tags"]) == 3
        assert len(node["contacts"]["edges"]) == 3
        assert len(node["interactions"]["edges"]) == 3  # of 4: the page is cut per customer


async def test_nested_customer_list_costs_the_same_for_5_and_100(
    admin: Api, count_statements: Callable[..., StatementCounter]
) -> None:
    for email in ("rep1@example.com", "rep2@example.com", "rep3@example.com"):
        await make_user(admin.db, admin.settings, email, [SALES_REPRESENTATIVE])
    await load_customers(admin)
    counter = count_statements(admin.db)

    small, small_edges = await statements_for(admin, counter, NESTED, 5)
    large, large_edges = await statements_for(admin, counter, NESTED, 100)
    assert_nested_data(small_edges)
    assert_nested_data(large_edges)
    assert len({edge["node"]["owner"]["name"] for edge in large_edges}) == 3  # owners batched
    assert small == large, counter.statements
    # The list, owners, tags, contacts and interactions: one query each, plus the caller's
    # authentication; never one per customer.
    assert len(queries(counter)) <= 8, counter.statements
    assert small_edges[0] == large_edges[0]

    # A sales representative (OWN scope) pays for the scope once, not per customer.
    rep = await admin.login("rep1@example.com")
    rep_small, _ = await statements_for(rep, counter, NESTED, 5)
    rep_large, rep_edges = await statements_for(rep, counter, NESTED, SIZE // 3)
    assert rep_small == rep_large, counter.statements
    assert {edge["node"]["owner"]["name"] for edge in rep_edges} == {"Rep1"}


async def test_colleagues_on_a_page_cost_the_same_for_5_and_100(
    admin: Api, count_statements: Callable[..., StatementCounter]
) -> None:
    for email in ("rep1@example.com", "rep2@example.com", "rep3@example.com"):
        await make_user(admin.db, admin.settings, email, [SALES_REPRESENTATIVE], team="North")
    await load_customers(admin)
    counter = count_statements(admin.db)

    small, _ = await statements_for(admin, counter, COLLEAGUES, 5)
    large, edges = await statements_for(admin, counter, COLLEAGUES, 100)

    assert small == large, counter.statements
    assert {edge["node"]["owner"]["name"] for edge in edges} == {"Rep1", "Rep2", "Rep3"}
    authors = {
        node["node"]["author"]["name"]
        for edge in edges
        for node in edge["node"]["interactions"]["edges"]
    }
    assert authors == {"Rep1", "Rep2", "Rep3"}
    assert all(edge["node"]["owner"]["user"]["email"] for edge in edges)
    # A caller outside the authors' team sees the same names, no more statements per row.
    outsider = await admin.user("outsider@example.com", [SALES_REPRESENTATIVE], team="South")
    async with admin.db.transaction() as session:
        await session.execute(
            update(models.Customer)
            .where(models.Customer.id <= 100)
            .values(owner_id=outsider.user_id)
        )
    small, _ = await statements_for(outsider, counter, COLLEAGUES, 5)
    large, seen = await statements_for(outsider, counter, COLLEAGUES, 100)
    assert small == large, counter.statements
    assert {edge["node"]["owner"]["user"]["email"] for edge in seen} == {"outsider@example.com"}
    assert {
        node["node"]["author"]["name"]
        for edge in seen
        for node in edge["node"]["interactions"]["edges"]
    } == {"Rep1", "Rep2", "Rep3"}


async def test_total_count_runs_only_when_asked(
    admin: Api, count_statements: Callable[..., StatementCounter]
) -> None:
    await load_customers(admin)
    counter = count_statements(admin.db)

    without, _ = await statements_for(admin, counter, WITHOUT_COUNTS, 5)
    plain = queries(counter)
    assert not any("count(" in s.lower() for s in plain), plain
    with_counts_5, edges = await statements_for(admin, counter, WITH_COUNTS, 5)
    counted = queries(counter)
    counts = [s for s in counted if "count(" in s.lower()]
    assert len(counts) == 2, counted  # the list's, and one for every nested list together
    assert len(counted) == len(plain) + 2
    with_counts_100, _ = await statements_for(admin, counter, WITH_COUNTS, 100)
    assert with_counts_100 == with_counts_5
    assert with_counts_5 > without

    body = await admin.gql("{ customers(first: 1) { totalCount } }")
    assert body["data"]["customers"]["totalCount"] == SIZE
    assert [edge["node"]["contacts"]["totalCount"] for edge in edges] == [3] * 5
