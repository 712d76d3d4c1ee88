"""Key customers get care every quarter; companies' founding anniversaries are announced a
week ahead. The jobs run on the app's clock (``run_due_jobs``), once per customer
and quarter (or year), for the owner or, without one, a user who manages every customer."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy import select, update

from core.catalog import ADMINISTRATOR, SALES_REPRESENTATIVE
from core.config import Settings
from core.customers.key_accounts import quarter_of
from core.customers.models import Customer, Task
from core.identity.models import User
from tests.support import Api, FakeClock, running_app

CREATE = """
mutation($input: CreateCustomerInput!) {
  createCustomer(input: $input) { customer { id number } errors { field code } }
}"""
TASKS = """
query { tasks(first: 50) { edges { node { title type dueAt customer { number } } } } }
"""


async def create(api: Api, **fields: Any) -> str:
    body = await api.gql(CREATE, {"input": {"allowDuplicates": True, **fields}})
    assert body["data"]["createCustomer"]["errors"] == [], body
    number: str = body["data"]["createCustomer"]["customer"]["number"]
    return number


async def generated(api: Api, prefix: str) -> list[tuple[str, str, int | None, str]]:
    """(customer number, dedupe key, assignee id, type) of the tasks the jobs created."""
    async with api.db.read() as session:
        rows = await session.execute(
            select(Customer.number, Task.dedupe_key, Task.assignee_id, Task.type)
            .join(Customer, Customer.id == Task.customer_id)
            .where(Task.dedupe_key.like(f"{prefix}:%"))
            .order_by(Customer.number, Task.dedupe_key)
        )
        return [(r[0], r[1] or "", r[2], r[3]) for r in rows]


def test_quarters() -> None:
    assert quarter_of(dt.date(2026, 11, 23)) == (4, dt.date(2026, 12, 31))
    assert quarter_of(dt.date(2027, 1, 1)) == (1, dt.date(2027, 3, 31))
    assert quarter_of(dt.date(2027, 6, 30)) == (2, dt.date(2027, 6, 30))


async def test_key_customers_get_one_care_task_per_quarter(
    make_settings: Callable[..., Settings],
) -> None:
    clock = FakeClock()  # 2026-11-23 09:00 UTC: the fourth quarter
    settings = make_settings(
        key_account_grades="GOLD", key_account_tags="Key Customer", key_account_task_type="CALL"
    )
    async with running_app(settings, clock=clock) as api:
        admin = await api.as_role(ADMINISTRATOR, lasting=True)
        rep = await api.as_role(SALES_REPRESENTATIVE, lasting=True)
        gold = await create(rep, name="Gold One", grade="GOLD")
        tagged = await create(rep, name="Tagged", tags=["key customer"])
        await create(rep, name="Ordinary", tags=["other"])
        orphan = await create(rep, name="Orphan", grade="GOLD")
        async with api.db.transaction() as session:
            await session.execute(
                update(Customer).where(Customer.number == orphan).values(owner_id=None)
            )

        await rep.run_due_jobs()
        await rep.run_due_jobs()  # again: nothing new
        assert await generated(api, "care") == [
            (gold, f"care:{await _id(api, gold)}:2026-Q4", rep.user_id, "CALL"),
            (tagged, f"care:{await _id(api, tagged)}:2026-Q4", rep.user_id, "CALL"),
            (orphan, f"care:{await _id(api, orphan)}:2026-Q4", admin.user_id, "CALL"),
        ]
        body = await rep.gql(TASKS)
        nodes = [edge["node"] for edge in body["data"]["tasks"]["edges"]]
        assert {n["customer"]["number"] for n in nodes} == {gold, tagged}
        assert nodes[0]["title"].startswith("Quarterly care of ")
        assert nodes[0]["title"].endswith("(2026-Q4)")
        assert nodes[0]["dueAt"] == "2026-12-07T09:00:00+00:00"

        clock.set(dt.datetime(2027, 1, 2, 8, 0, tzinfo=dt.UTC))
        await rep.run_due_jobs()
        keys = [key for _, key, _, _ in await generated(api, "care")]
        assert len(keys) == 6
        assert sum(key.endswith("2027-Q1") for key in keys) == 3


async def test_a_deactivated_owners_key_customer_is_cared_for_by_a_manager(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(key_account_grades="GOLD")
    async with running_app(settings, clock=FakeClock()) as api:
        admin = await api.as_role(ADMINISTRATOR, lasting=True)
        rep = await api.as_role(SALES_REPRESENTATIVE, lasting=True)
        gold = await create(rep, name="Gold One", grade="GOLD")
        async with api.db.transaction() as session:
            await session.execute(
                update(User).where(User.id == rep.user_id).values(is_active=False)
            )

        await admin.run_due_jobs()
        assert await generated(api, "care") == [
            (gold, f"care:{await _id(api, gold)}:2026-Q4", admin.user_id, "VISIT"),
        ]


async def test_without_key_account_settings_no_care_task_is_made(
    make_settings: Callable[..., Settings],
) -> None:
    async with running_app(make_settings(), clock=FakeClock()) as api:
        rep = await api.as_role(SALES_REPRESENTATIVE, lasting=True)
        await create(rep, name="Gold One", grade="GOLD")
        await rep.run_due_jobs()
        assert await generated(api, "care") == []


async def test_a_founding_anniversary_is_announced_a_week_ahead_once_a_year(
    make_settings: Callable[..., Settings],
) -> None:
    clock = FakeClock()  # 2026-11-23
    async with running_app(make_settings(), clock=clock) as api:
        rep = await api.as_role(SALES_REPRESENTATIVE, lasting=True)
        old = await create(rep, name="Old Firm", foundedOn="2001-11-27")
        await create(rep, name="Later", foundedOn="2001-12-24")  # a month away
        await rep.run_due_jobs()
        clock.advance(hours=2)
        await rep.run_due_jobs()
        assert await generated(api, "anniversary") == [
            (old, f"anniversary:{await _id(api, old)}:2026", rep.user_id, "CALL")
        ]
        body = await rep.gql(TASKS)
        (node,) = [edge["node"] for edge in body["data"]["tasks"]["edges"]]
        assert node["title"] == "Anniversary of Old Firm on 2026-11-27: 25 years"
        assert node["dueAt"] == "2026-11-27T09:00:00+00:00"


async def _id(api: Api, number: str) -> int:
    async with api.db.read() as session:
        found = await session.scalar(select(Customer.id).where(Customer.number == number))
    assert found is not None
    return found
