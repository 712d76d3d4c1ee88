"""The pagination and search section measures the pages and searches it says it measures.

The last and deep pages are checked against the customers read straight from the database,
and search results against a plain Python filter over the same rows. No timing is asserted.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from bench import pagination
from bench.context import Run
from bench.dataset import Target, in_process
from core.customers.models import Contact, Customer
from core.db import Database

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _order(ordering: pagination.Ordering) -> tuple[Any, bool]:
    """A Python sort key and direction equal to the ordering's (ties broken by id)."""
    field = (ordering.order_by or {}).get("field", "NAME")
    descending = (ordering.order_by or {}).get("direction") == "DESC"

    def key(row: Customer) -> tuple[Any, int]:
        value = {
            "NAME": row.name,
            "UPDATED_AT": row.updated_at,
            "LAST_INTERACTION_AT": row.last_interaction_at or EPOCH,
        }[field]
        return value, row.id

    return key, descending


async def _rows(target: Target) -> tuple[list[Customer], list[Contact]]:
    db = Database(target.url)
    try:
        async with db.read() as session:
            customers = list(
                await session.scalars(select(Customer).where(Customer.archived_at.is_(None)))
            )
            contacts = list(
                await session.scalars(select(Contact).where(Contact.archived_at.is_(None)))
            )
    finally:
        await db.dispose()
    return customers, contacts


def _matches(text: str, customers: list[Customer], contacts: list[Contact]) -> set[str]:
    """Numbers of the customers a search for ``text`` should find, by plain Python."""
    term = text.strip().lower()
    digits = "".join(ch for ch in term if ch.isdigit())
    named = {c.customer_id for c in contacts if term in c.name.lower()}
    return {
        c.number
        for c in customers
        if term in c.name.lower()
        or term in c.number.lower()
        or term in (c.email or "").lower()
        or c.id in named
        or (len(digits) >= 3 and digits in (c.phone or ""))
    }


async def test_pagination_section_reports_every_ordering_and_term(bench_run: Run) -> None:
    tables = await pagination.run(bench_run)

    pages, searches = tables
    target = bench_run.large or bench_run.targets[0]
    assert [row[:3] for row in pages.rows] == [
        [target.backend, target.size, ordering.label] for ordering in pagination.ORDERINGS
    ]
    for row in pages.rows:
        first, last, deep, last_ratio, deep_ratio = row[3:]
        assert min(first, last, deep) > 0
        assert last_ratio == last / first
        assert deep_ratio == deep / first
    terms = await pagination.search_terms(target)
    assert [row[:3] for row in searches.rows] == [
        *([target.backend, target.size, f"{t.text!r} ({t.kind})"] for t in terms),
        [target.backend, target.size, "all but common words"],
        [target.backend, target.size, "all terms"],
    ]
    # Common words are timed and shown (they match in the demo data of any size).
    common = [row for row, t in zip(searches.rows, terms, strict=False) if t.common]
    assert len(common) == 2
    assert all(row[3] > 0 for row in common)
    assert searches.rows[-1][4] <= searches.rows[-1][5]  # p50 <= p99
    nothing = next(row for row, t in zip(searches.rows, terms, strict=False) if "nothing" in t.kind)
    assert nothing[3] == 0
    # Targets are checked on the large data set only (here the PostgreSQL one stands in).
    if bench_run.large is not None:
        assert {check.name for check in pages.checks} == {
            f"{ordering.label}: {page} page / first page"
            for ordering in pagination.ORDERINGS
            for page in ("last", "deep")
        }
        assert [check.name for check in searches.checks] == [
            "search p50 (ms), all but common words"
        ]
    else:
        assert pages.checks == searches.checks == []


async def test_last_and_deep_pages_hold_the_customers_at_the_end(bench_run: Run) -> None:
    target = bench_run.large or bench_run.targets[0]
    customers, _contacts = await _rows(target)
    async with in_process(target) as client:
        for ordering in pagination.ORDERINGS:
            key, descending = _order(ordering)
            expected = [c.number for c in sorted(customers, key=key, reverse=descending)]

            last = await pagination.fetch_page(client, ordering, last=pagination.PAGE)
            assert [e["node"]["number"] for e in last] == expected[-pagination.PAGE :]

            tail = await pagination.fetch_page(client, ordering, last=pagination.DEEP_FROM_END)
            assert [e["node"]["number"] for e in tail] == expected[-pagination.DEEP_FROM_END :]
            deep = await pagination.fetch_page(
                client, ordering, first=pagination.PAGE, after=tail[0]["cursor"]
            )
            start = max(0, len(expected) - pagination.DEEP_FROM_END) + 1
            assert [e["node"]["number"] for e in deep] == expected[start : start + pagination.PAGE]

            first = await pagination.fetch_page(client, ordering, first=pagination.PAGE)
            assert [e["node"]["number"] for e in first] == expected[: pagination.PAGE]


async def test_search_finds_what_a_plain_filter_finds(bench_run: Run) -> None:
    target = bench_run.large or bench_run.targets[0]
    customers, contacts = await _rows(target)
    terms = [t.text for t in await pagination.search_terms(target)]
    company = next(c for c in customers if c.kind == "COMPANY")
    terms += [
        company.name.split()[-1],  # a legal form: many matches
        contacts[0].name.split()[0].lower(),  # a contact's first name
        company.number[-3:],  # digits of numbers and phones alike
        "e",  # shorter than a trigram
    ]
    async with in_process(target) as client:
        for term in terms:
            expected = _matches(term, customers, contacts)
            found = await pagination.search(client, term, first=100)
            numbers = [node["number"] for node in found]
            assert len(numbers) == len(set(numbers)), term
            if len(expected) < 100:
                assert set(numbers) == expected, term
            else:
                assert len(numbers) == 100
                assert set(numbers) <= expected, term
