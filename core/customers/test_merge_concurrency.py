"""A merge locks its two customers in id order, the order every writer of two customers
keeps, so a merge of A into B beside one of B into A waits instead of deadlocking.

PostgreSQL only (SQLite locks the whole database, and its statements carry no row locks):
skipped without ``CRM_TEST_POSTGRES_URL``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from sqlalchemy import event

from schema.testkit import POSTGRES_URL, Api, postgres_database
from schema.testkit_graphql import db_id, mutate_ok

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not POSTGRES_URL, reason="CRM_TEST_POSTGRES_URL not set"),
]

MERGE = """
mutation($source: ID!, $target: ID!) {
  mergeCustomers(input: {sourceId: $source, targetId: $target, dryRun: false}) {
    target { id } errors { field message code }
  }
}"""


@pytest.fixture
async def database_url() -> AsyncIterator[str]:
    """PostgreSQL only (the kit's fixture also makes a SQLite case): a fresh database."""
    async with postgres_database() as url:
        yield url


class CustomerLocks:
    """The customer ids locked with ``SELECT ... FOR UPDATE``, in order."""

    def __init__(self) -> None:
        self.ids: list[int] = []

    def __call__(self, *args: Any) -> None:
        statement, parameters = str(args[2]), args[3]
        if "FOR UPDATE" in statement and "FROM customers" in statement:
            values = parameters.values() if isinstance(parameters, dict) else parameters
            self.ids.extend(value for value in values if isinstance(value, int))


@pytest.fixture
def customer_locks(admin: Api) -> Iterator[CustomerLocks]:
    locks = CustomerLocks()
    engine = admin.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", locks)
    yield locks
    event.remove(engine, "before_cursor_execute", locks)


async def customer(api: Api, name: str) -> str:
    payload = await mutate_ok(api, "createCustomer", {"name": name}, "customer { id }")
    found: str = payload["customer"]["id"]
    return found


async def test_a_merge_locks_the_lower_id_first_either_way(
    admin: Api, customer_locks: CustomerLocks
) -> None:
    lower, higher = await customer(admin, "Lower"), await customer(admin, "Higher")
    customer_locks.ids.clear()

    body = await admin.gql(MERGE, {"source": higher, "target": lower})

    assert body["data"]["mergeCustomers"]["errors"] == [], body
    assert customer_locks.ids[:2] == [db_id(lower), db_id(higher)]


async def test_opposite_merges_at_once_merge_once(admin: Api) -> None:
    left, right = await customer(admin, "Left"), await customer(admin, "Right")

    bodies = await asyncio.gather(
        admin.gql(MERGE, {"source": left, "target": right}),
        admin.gql(MERGE, {"source": right, "target": left}),
    )

    payloads = [body["data"]["mergeCustomers"] for body in bodies]
    assert all("errors" not in body for body in bodies), bodies
    assert sorted(bool(payload and payload["errors"] == []) for payload in payloads) == [
        False,
        True,
    ]
