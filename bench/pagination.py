"""Section 4: deep pagination and text search on the large data set.

Keyset pagination promises that the last page and a page deep in the list cost what the
first page costs; text search promises an answer in tens of milliseconds among a million
customers. Both are timed through the in-process app (the full ASGI stack, signed in as an
administrator, who sees every customer) on the large PostgreSQL data set when there is one,
else on each default-size data set.
"""

from __future__ import annotations

import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from bench.context import Run
from bench.dataset import Client, Target, in_process
from bench.report import Check, Table, median_ms, percentile_ms
from core.customers.models import Contact, Customer
from core.db import Database

PAGE = 50
"""Customers on a timed page."""
DEEP_FROM_END = 100
"""The deep page starts after the cursor of the row this far from the end."""
SEARCH_PAGE = 20
RATIO_LIMIT = 1.5
SEARCH_P50_LIMIT_MS = 50.0

PAGE_QUERY = """
query Page($orderBy: [CustomerOrder!], $first: Int, $after: String, $last: Int, $before: String) {
  customers(orderBy: $orderBy, first: $first, after: $after, last: $last, before: $before) {
    edges { cursor node { id number name stage updatedAt lastInteractionAt } }
    pageInfo { hasNextPage hasPreviousPage }
  }
}"""
"""A page of customers with a handful of scalar fields."""

SEARCH_QUERY = """
query Search($search: String!, $first: Int!) {
  customers(filter: {search: $search}, first: $first) {
    edges { node { id number name email phone } }
  }
}"""
"""The first page of a text search, in the default ordering."""


@dataclass(frozen=True)
class Ordering:
    label: str
    order_by: dict[str, str] | None
    """The ``orderBy`` argument (None: the default, by name)."""


ORDERINGS = [
    Ordering("name (default)", None),
    Ordering("updated, newest first", {"field": "UPDATED_AT", "direction": "DESC"}),
    Ordering(
        "last interaction, newest first", {"field": "LAST_INTERACTION_AT", "direction": "DESC"}
    ),
]


@dataclass(frozen=True)
class Term:
    text: str
    kind: str
    """What in the data it is drawn from."""
    common: bool = False
    """A word in a large share of all customers: shown, but not part of the target, which
    is about finding a customer (the first page of a common word is a browse)."""


COUNT_QUERY = """
query Count($search: String!) { customers(filter: {search: $search}) { totalCount } }"""


async def fetch_page(client: Client, ordering: Ordering, **args: Any) -> list[dict[str, Any]]:
    """The edges (cursor and node) of one page of customers in ``ordering``."""
    data = await client.data(PAGE_QUERY, {"orderBy": ordering.order_by, **args})
    edges: list[dict[str, Any]] = data["customers"]["edges"]
    return edges


async def search(client: Client, text: str, first: int = SEARCH_PAGE) -> list[dict[str, Any]]:
    """The nodes of the first page of a text search."""
    data = await client.data(SEARCH_QUERY, {"search": text, "first": first})
    return [edge["node"] for edge in data["customers"]["edges"]]


async def search_terms(target: Target) -> list[Term]:
    """Realistic search terms drawn from the data set: the parts of one customer (a company
    in the middle of the id range) someone would type, and a term that matches nothing."""
    db = Database(target.url)
    try:
        async with db.read() as session:
            low, high = (
                await session.execute(select(func.min(Customer.id), func.max(Customer.id)))
            ).one()
            customer = await session.scalar(
                select(Customer)
                .where(
                    Customer.id >= (low + high) // 2,
                    Customer.kind == "COMPANY",
                    Customer.archived_at.is_(None),
                    Customer.email.is_not(None),
                    Customer.phone.is_not(None),
                )
                .order_by(Customer.id)
                .limit(1)
            )
            if customer is None:
                raise RuntimeError(
                    f"no company customer with email and phone in {target.shown_url}"
                )
            contact = await session.scalar(
                select(Contact.name)
                .where(Contact.customer_id == customer.id, Contact.archived_at.is_(None))
                .order_by(Contact.id)
                .limit(1)
            )
    finally:
        await db.dispose()
    email = customer.email or ""
    digits = "".join(ch for ch in customer.phone or "" if ch.isdigit())
    terms = [
        Term(customer.number, "customer number"),
        Term(customer.number[:-2].lower(), "part of a customer number"),
        Term(email.split("@")[-1].split(".")[0], "part of an email"),
        Term(customer.name.split()[0].lower(), "company name word"),
        Term(digits[-7:], "phone digits"),
        Term("zqxjvk", "matches nothing"),
        Term("north", "common company name word", common=True),
        Term("ltd", "common legal form", common=True),
    ]
    if contact:
        terms.insert(4, Term(contact.split()[-1], "contact's last name"))
    return terms


async def _timed(
    calls: dict[str, Callable[[], Awaitable[Any]]], repeats: int
) -> dict[str, list[float]]:
    """Seconds of each call in ``repeats`` rounds after an untimed warm-up round. The calls
    take turns within each round, in a shuffled order, so that the machine's other work
    weighs on all of them alike and their ratios hold."""
    samples: dict[str, list[float]] = {name: [] for name in calls}
    order = list(calls)
    rng = random.Random(4)
    for round in range(repeats + 1):
        rng.shuffle(order)
        for name in order:
            started = time.perf_counter()
            await calls[name]()
            if round:
                samples[name].append(time.perf_counter() - started)
    return samples


def _call(client: Client, query: str, variables: dict[str, Any]) -> Callable[[], Awaitable[bytes]]:
    async def call() -> bytes:
        return await client.post(query, variables)

    return call


async def _pages(client: Client, target: Target, bench: Run, table: Table) -> None:
    for ordering in ORDERINGS:
        # The deep page starts after a row near the end, whose cursor a `last` query gives.
        tail = await fetch_page(client, ordering, last=DEEP_FROM_END)
        if not tail:
            bench.log(f"  {target.backend}: no customers to page through")
            return
        variants = {
            "first": {"first": PAGE},
            "last": {"last": PAGE},
            "deep": {"first": PAGE, "after": tail[0]["cursor"]},
        }
        calls = {}
        for name, args in variants.items():
            variables = {"orderBy": ordering.order_by, **args}
            await client.data(PAGE_QUERY, variables)  # must answer without errors
            calls[name] = _call(client, PAGE_QUERY, variables)
        timed = await _timed(calls, bench.repeats)
        medians = {name: median_ms(seconds) for name, seconds in timed.items()}
        last_ratio = medians["last"] / medians["first"]
        deep_ratio = medians["deep"] / medians["first"]
        table.rows.append(
            [
                target.backend,
                target.size,
                ordering.label,
                medians["first"],
                medians["last"],
                medians["deep"],
                last_ratio,
                deep_ratio,
            ]
        )
        if target is bench.large:
            table.checks += [
                Check(f"{ordering.label}: last page / first page", last_ratio, RATIO_LIMIT),
                Check(f"{ordering.label}: deep page / first page", deep_ratio, RATIO_LIMIT),
            ]


async def _search(client: Client, target: Target, bench: Run, table: Table) -> None:
    terms = await search_terms(target)
    matches: list[int] = []
    calls = {}
    for index, term in enumerate(terms):
        await search(client, term.text)  # must answer without errors
        counted = await client.data(COUNT_QUERY, {"search": term.text})
        matches.append(counted["customers"]["totalCount"])
        variables = {"search": term.text, "first": SEARCH_PAGE}
        calls[str(index)] = _call(client, SEARCH_QUERY, variables)
    timed = await _timed(calls, bench.repeats)
    for index, term in enumerate(terms):
        samples = timed[str(index)]
        table.rows.append(
            [
                target.backend,
                target.size,
                f"{term.text!r} ({term.kind})",
                matches[index],
                median_ms(samples),
                percentile_ms(samples, 0.99),
            ]
        )
    finding = [s for i, t in enumerate(terms) if not t.common for s in timed[str(i)]]
    every = [seconds for samples in timed.values() for seconds in samples]
    p50, p99 = percentile_ms(finding, 0.5), percentile_ms(finding, 0.99)
    table.rows.append([target.backend, target.size, "all but common words", None, p50, p99])
    table.rows.append(
        [
            target.backend,
            target.size,
            "all terms",
            None,
            percentile_ms(every, 0.5),
            percentile_ms(every, 0.99),
        ]
    )
    if target is bench.large:
        table.checks.append(
            Check("search p50 (ms), all but common words", p50, SEARCH_P50_LIMIT_MS)
        )


async def run(bench: Run) -> list[Table]:
    targets = [bench.large] if bench.large is not None else bench.targets
    pages = Table(
        "pagination",
        f"4. Deep pagination: {PAGE} customers a page, median ms (first, last, and a page "
        f"after the cursor {DEEP_FROM_END} rows from the end)",
        [
            "backend",
            "customers",
            "ordering",
            "first page",
            "last page",
            "deep page",
            "last / first",
            "deep / first",
        ],
    )
    searches = Table(
        "search",
        f"4b. Text search: the first {SEARCH_PAGE} matches, ms",
        ["backend", "customers", "term", "matches", "p50", "p99"],
        notes=[
            f"{bench.repeats} samples per term after a warm-up, the terms taking turns in a "
            "shuffled order; the aggregate rows are over every sample of their terms. A search "
            "looks in customer names, numbers and emails, contacts' names, and phone digits. "
            "Common words (a share of all customers) are shown but left out of the target: "
            "their first page is a browse, not a search for a customer."
        ],
    )
    for target in targets:
        bench.log(f"  pagination and search on {target.backend}, {target.size:,} customers")
        async with in_process(target) as client:
            await _pages(client, target, bench, pages)
            await _search(client, target, bench, searches)
    return [pages, searches]
