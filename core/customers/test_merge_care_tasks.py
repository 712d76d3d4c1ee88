"""Merging two key customers leaves the survivor at most one open care task per quarter: the
source's duplicate is cancelled (counted by the merge, its dry run included, and audited);
a care task of a quarter the survivor had none for becomes the survivor's, so the periodic
job makes no second one (and when the job made one meanwhile, the moved one is cancelled)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit import AuditEvent
from core.catalog import ADMINISTRATOR
from core.config import Settings
from core.context import RequestContext
from core.customers.key_accounts import key_account_care
from core.customers.models import Customer, Task
from core.hookspecs import hookimpl
from tests.support import Api, FakeClock, running_app

CREATE = """
mutation($input: CreateCustomerInput!) {
  createCustomer(input: $input) { customer { id number version } errors { field code } }
}"""
UPDATE = """
mutation($input: UpdateCustomerInput!) {
  updateCustomer(input: $input) { customer { grade } errors { field code } }
}"""
MERGE = """
mutation($source: ID!, $target: ID!, $dryRun: Boolean!) {
  mergeCustomers(input: {sourceId: $source, targetId: $target, dryRun: $dryRun}) {
    moved { kind count } dryRun errors { field message code }
  }
}"""

NOTHING_ELSE = {"attachments": 0, "contacts": 0, "interactions": 0, "tags": 0}


async def create(api: Api, name: str, grade: str) -> dict[str, Any]:
    body = await api.gql(CREATE, {"input": {"name": name, "grade": grade, "allowDuplicates": True}})
    assert body["data"]["createCustomer"]["errors"] == [], body
    customer: dict[str, Any] = body["data"]["createCustomer"]["customer"]
    return customer


async def merge(api: Api, source: str, target: str, dry_run: bool) -> dict[str, int]:
    body = await api.gql(MERGE, {"source": source, "target": target, "dryRun": dry_run})
    payload = body["data"]["mergeCustomers"]
    assert payload["errors"] == [], body
    return {m["kind"]: m["count"] for m in payload["moved"]}


async def care_tasks(api: Api, number: str) -> list[tuple[str, str]]:
    """(dedupe key, OPEN / DONE / CANCELLED) of the care tasks of customer ``number``."""
    async with api.db.read() as session:
        rows = await session.execute(
            select(Task.dedupe_key, Task.done_at, Task.cancelled_at)
            .join(Customer, Customer.id == Task.customer_id)
            .where(Customer.number == number, Task.dedupe_key.like("care:%"))
            .order_by(Task.id)
        )
        return [
            (key or "", "CANCELLED" if cancelled else "DONE" if done else "OPEN")
            for key, done, cancelled in rows
        ]


async def id_of(api: Api, number: str) -> int:
    async with api.db.read() as session:
        found = await session.scalar(select(Customer.id).where(Customer.number == number))
    assert found is not None
    return found


async def test_the_survivor_keeps_one_open_care_task_per_quarter(
    make_settings: Callable[..., Settings],
) -> None:
    clock = FakeClock()  # 2026-11-23: the fourth quarter
    async with running_app(
        make_settings(plugins=(), key_account_grades="GOLD"), clock=clock
    ) as api:
        admin = await api.as_role(ADMINISTRATOR, lasting=True)
        target = await create(admin, "Gold Target", "GOLD")
        source = await create(admin, "Gold Source", "GOLD")
        await admin.run_due_jobs()
        target_id, source_id = (
            await id_of(api, target["number"]),
            await id_of(api, source["number"]),
        )
        assert await care_tasks(api, target["number"]) == [(f"care:{target_id}:2026-Q4", "OPEN")]
        assert await care_tasks(api, source["number"]) == [(f"care:{source_id}:2026-Q4", "OPEN")]

        expected = {**NOTHING_ELSE, "tasks": 1, "careTasksCancelled": 1}
        assert await merge(admin, source["id"], target["id"], dry_run=True) == expected
        assert await care_tasks(api, source["number"]) == [(f"care:{source_id}:2026-Q4", "OPEN")]

        clock.advance(minutes=5)
        assert await merge(admin, source["id"], target["id"], dry_run=False) == expected
        assert await care_tasks(api, target["number"]) == [
            (f"care:{target_id}:2026-Q4", "OPEN"),
            (f"care:{source_id}:2026-Q4", "CANCELLED"),  # moved, and cancelled
        ]
        async with api.db.read() as session:
            events = list(
                (
                    await session.scalars(
                        select(AuditEvent)
                        .where(AuditEvent.action.in_(["task.cancelled", "customer.merged"]))
                        .order_by(AuditEvent.id)
                    )
                ).all()
            )
            cancelled_id = await session.scalar(
                select(Task.id).where(Task.dedupe_key == f"care:{source_id}:2026-Q4")
            )
        assert [e.action for e in events] == ["task.cancelled", "customer.merged"]
        assert events[0].entity_id == str(cancelled_id)
        assert events[0].actor_id == admin.user_id
        assert events[0].changes["cancelledAt"]["before"] is None
        assert "reason" in events[0].changes
        assert events[1].changes["moved"] == expected

        # The quarter's job run finds the survivor cared for: nothing new.
        clock.advance(hours=2)
        await admin.run_due_jobs()
        assert len(await care_tasks(api, target["number"])) == 2


async def test_a_done_care_task_is_kept_and_an_open_one_beside_it_too(
    make_settings: Callable[..., Settings],
) -> None:
    clock = FakeClock()
    async with running_app(
        make_settings(plugins=(), key_account_grades="GOLD"), clock=clock
    ) as api:
        admin = await api.as_role(ADMINISTRATOR, lasting=True)
        target = await create(admin, "Gold Target", "GOLD")
        source = await create(admin, "Gold Source", "GOLD")
        await admin.run_due_jobs()
        source_id = await id_of(api, source["number"])
        async with api.db.transaction() as session:  # the source's visit was made
            await session.execute(
                update(Task)
                .where(Task.customer_id == source_id)
                .values(done_at=clock(), version=Task.version + 1)
            )

        expected = {**NOTHING_ELSE, "tasks": 1}
        assert await merge(admin, source["id"], target["id"], dry_run=True) == expected
        assert await merge(admin, source["id"], target["id"], dry_run=False) == expected
        states = [state for _key, state in await care_tasks(api, target["number"])]
        assert states == ["OPEN", "DONE"]


async def test_a_care_task_moved_to_a_survivor_without_one_counts_as_its_own(
    make_settings: Callable[..., Settings],
) -> None:
    clock = FakeClock()
    async with running_app(
        make_settings(plugins=(), key_account_grades="GOLD"), clock=clock
    ) as api:
        admin = await api.as_role(ADMINISTRATOR, lasting=True)
        target = await create(admin, "Plain Target", "STANDARD")
        source = await create(admin, "Gold Source", "GOLD")
        await admin.run_due_jobs()
        assert await care_tasks(api, target["number"]) == []

        moved = await merge(admin, source["id"], target["id"], dry_run=False)
        assert moved == {**NOTHING_ELSE, "tasks": 1}
        target_id = await id_of(api, target["number"])
        assert await care_tasks(api, target["number"]) == [(f"care:{target_id}:2026-Q4", "OPEN")]

        # The survivor becomes a key customer this quarter: it has its care task already.
        async with api.db.read() as session:
            version = await session.scalar(select(Customer.version).where(Customer.id == target_id))
        body = await admin.gql(
            UPDATE, {"input": {"id": target["id"], "version": version, "grade": "GOLD"}}
        )
        assert body["data"]["updateCustomer"]["errors"] == [], body
        clock.advance(hours=2)
        await admin.run_due_jobs()
        assert await care_tasks(api, target["number"]) == [(f"care:{target_id}:2026-Q4", "OPEN")]

        # The next quarter it gets the next one, once.
        clock.set(dt.datetime(2027, 1, 4, 9, 0, tzinfo=dt.UTC))
        await admin.run_due_jobs()
        assert await care_tasks(api, target["number"]) == [
            (f"care:{target_id}:2026-Q4", "OPEN"),
            (f"care:{target_id}:2027-Q1", "OPEN"),
        ]


class CareJobMeanwhile:
    """A module whose merge step runs the quarter's care job, as a worker might while the
    merge runs: the target gets its care task after the merge looked."""

    @hookimpl
    async def crm_customer_merge(
        self,
        session: AsyncSession,
        source: Customer,
        target: Customer,
        dry_run: bool,
        context: RequestContext,
    ) -> dict[str, int]:
        if not dry_run:
            await key_account_care(session, context.settings, context.pm, context.now())
        return {}


async def test_a_care_task_the_job_made_meanwhile_wins(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(plugins=("meanwhile",), key_account_grades="GOLD")
    clock = FakeClock()
    extra = {"meanwhile": CareJobMeanwhile()}
    async with running_app(settings, clock=clock, extra_plugins=extra) as api:
        admin = await api.as_role(ADMINISTRATOR, lasting=True)
        target = await create(admin, "Plain Target", "STANDARD")
        source = await create(admin, "Gold Source", "GOLD")
        await admin.run_due_jobs()
        body = await admin.gql(
            UPDATE, {"input": {"id": target["id"], "version": target["version"], "grade": "GOLD"}}
        )
        assert body["data"]["updateCustomer"]["errors"] == [], body

        moved = await merge(admin, source["id"], target["id"], dry_run=False)
        assert moved == {**NOTHING_ELSE, "tasks": 1, "careTasksCancelled": 1}
        target_id, source_id = (
            await id_of(api, target["number"]),
            await id_of(api, source["number"]),
        )
        assert await care_tasks(api, target["number"]) == [
            (f"care:{source_id}:2026-Q4", "CANCELLED"),
            (f"care:{target_id}:2026-Q4", "OPEN"),
        ]


class CareTaskDoneMeanwhile:
    """A module whose merge step marks the source's care tasks done, as their owner might
    while the merge runs: after the merge planned to cancel them."""

    @hookimpl
    async def crm_customer_merge(
        self,
        session: AsyncSession,
        source: Customer,
        target: Customer,
        dry_run: bool,
        context: RequestContext,
    ) -> dict[str, int]:
        if not dry_run:
            await session.execute(
                update(Task)
                .where(Task.customer_id == source.id, Task.dedupe_key.like("care:%"))
                .values(done_at=context.now(), version=Task.version + 1)
            )
        return {}


async def test_a_care_task_done_meanwhile_is_not_counted_as_cancelled(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(plugins=("meanwhile",), key_account_grades="GOLD")
    extra = {"meanwhile": CareTaskDoneMeanwhile()}
    async with running_app(settings, clock=FakeClock(), extra_plugins=extra) as api:
        admin = await api.as_role(ADMINISTRATOR, lasting=True)
        target = await create(admin, "Gold Target", "GOLD")
        source = await create(admin, "Gold Source", "GOLD")
        await admin.run_due_jobs()

        planned = {**NOTHING_ELSE, "tasks": 1, "careTasksCancelled": 1}
        assert await merge(admin, source["id"], target["id"], dry_run=True) == planned
        moved = await merge(admin, source["id"], target["id"], dry_run=False)
        assert moved == {**NOTHING_ELSE, "tasks": 1}
        states = [state for _key, state in await care_tasks(api, target["number"])]
        assert states == ["OPEN", "DONE"]
        async with api.db.read() as session:
            actions = list(
                (
                    await session.scalars(
                        select(AuditEvent.action).where(AuditEvent.action == "task.cancelled")
                    )
                ).all()
            )
            merged = await session.scalar(
                select(AuditEvent).where(AuditEvent.action == "customer.merged")
            )
        assert actions == []
        assert merged is not None
        assert merged.changes["moved"] == moved
