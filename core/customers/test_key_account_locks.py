"""The key-account jobs skip a customer another transaction holds (a merge, an edit) and
care for it in a later run; a customer the job reads stays locked until the job commits,
so a merge of it waits and then sees the job's task.

PostgreSQL only (SQLite locks the whole database, and its statements carry no row locks):
skipped without ``CRM_TEST_POSTGRES_URL``. The held-customer test sets a ``lock_timeout``, so a
job that waited for a held customer would fail instead of waiting for ever.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from core.catalog import ADMINISTRATOR
from core.config import Settings
from core.customers.key_accounts import anniversary_reminders, key_account_care
from core.customers.models import Customer, Task
from schema.testkit import POSTGRES_URL, postgres_database
from tests.support import Api, FakeClock, running_app

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not POSTGRES_URL, reason="CRM_TEST_POSTGRES_URL not set"),
]

CREATE = """
mutation($input: CreateCustomerInput!) {
  createCustomer(input: $input) { customer { id number } errors { field code } }
}"""

JOBS = [pytest.param("care", id="care"), pytest.param("anniversary", id="anniversary")]


@pytest.fixture
async def database_url() -> AsyncIterator[str]:
    """PostgreSQL only (the kit's fixture also makes a SQLite case): a fresh database."""
    async with postgres_database() as url:
        yield url


async def give_up_waiting_for_locks(api: Api) -> None:
    """The app's sessions from now on give up waiting for a row lock after a while."""
    async with api.db.engine.begin() as connection:
        name = await connection.scalar(text("SELECT current_database()"))
        await connection.execute(text(f'ALTER DATABASE "{name}" SET lock_timeout = 10000'))
    await api.db.engine.dispose()


async def create(api: Api, name: str) -> int:
    fields = {"name": name, "grade": "GOLD", "foundedOn": "2001-11-27", "allowDuplicates": True}
    body = await api.gql(CREATE, {"input": fields})
    assert body["data"]["createCustomer"]["errors"] == [], body
    number = body["data"]["createCustomer"]["customer"]["number"]
    async with api.db.read() as session:
        found = await session.scalar(select(Customer.id).where(Customer.number == number))
    assert found is not None
    return found


async def tasks_of(api: Api, prefix: str) -> list[int | None]:
    """The customers of the tasks whose dedupe keys start with ``prefix``."""
    async with api.db.read() as session:
        rows = await session.scalars(
            select(Task.customer_id)
            .where(Task.dedupe_key.like(f"{prefix}:%"))
            .order_by(Task.customer_id)
        )
        return list(rows.all())


@pytest.mark.parametrize("prefix", JOBS)
async def test_a_customer_held_by_a_merge_is_cared_for_by_the_next_run(
    make_settings: Callable[..., Settings], prefix: str
) -> None:
    clock = FakeClock()  # 2026-11-23: the fourth quarter, four days before the anniversary
    async with running_app(make_settings(key_account_grades="GOLD"), clock=clock) as api:
        admin = await api.as_role(ADMINISTRATOR, lasting=True)
        await give_up_waiting_for_locks(api)
        held = await create(admin, "Held Firm")
        free = await create(admin, "Free Firm")

        async with api.db.transaction() as merging:  # as a merge locks its customers
            await merging.execute(select(Customer.id).where(Customer.id == held).with_for_update())
            await admin.run_due_jobs()
            assert await tasks_of(api, prefix) == [free]

        clock.advance(hours=1)
        await admin.run_due_jobs()
        assert await tasks_of(api, prefix) == sorted([free, held])


JOB_FUNCTIONS: dict[str, Any] = {"care": key_account_care, "anniversary": anniversary_reminders}


async def changeable(api: Api, customer_id: int) -> bool:
    """Whether another transaction may change the customer's row now, without waiting: lock
    it as an update of it (a merge archiving it, an edit) does, ``FOR NO KEY UPDATE`` (which
    a task's reference to the customer, ``FOR KEY SHARE``, does not stop)."""
    async with api.db.engine.connect() as connection:
        lock = select(Customer.id).where(Customer.id == customer_id)
        try:
            await connection.execute(lock.with_for_update(nowait=True, key_share=True))
        except DBAPIError as error:
            if "could not obtain lock" not in str(error):
                raise
            return False
        finally:
            await connection.rollback()
    return True


@pytest.mark.parametrize("prefix", JOBS)
async def test_the_job_holds_its_customers_until_it_commits(
    make_settings: Callable[..., Settings], prefix: str
) -> None:
    clock = FakeClock()
    async with running_app(make_settings(key_account_grades="GOLD"), clock=clock) as api:
        admin = await api.as_role(ADMINISTRATOR, lasting=True)
        customer = await create(admin, "Firm")
        job = JOB_FUNCTIONS[prefix]
        pm = admin.app.state.crm.pm

        async with api.db.transaction() as running:
            assert await job(running, api.settings, pm, clock()) == 1
            assert not await changeable(api, customer)
        assert await changeable(api, customer)
        assert await tasks_of(api, prefix) == [customer]
