"""Merging two customers leaves the survivor at most one open anniversary task per year, for
its own founding date: the source's open anniversary task is cancelled (counted by the
merge, its dry run included, and audited) unless the survivor has the source's founding
date and no anniversary task of its own that year; then it becomes the survivor's, so the
periodic job makes no second one. Done anniversary tasks are kept as they are."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit import AuditEvent
from core.catalog import ADMINISTRATOR
from core.config import Settings
from core.customers.models import Customer, Task
from core.customers.service import merge as merge_service
from core.customers.test_merge_care_tasks import NOTHING_ELSE, id_of, merge
from core.validation import global_id
from tests.support import Api, FakeClock, running_app

CREATE = """
mutation($input: CreateCustomerInput!) {
  createCustomer(input: $input) { customer { id number version } errors { field code } }
}"""


async def create(api: Api, name: str, founded_on: str, grade: str = "STANDARD") -> dict[str, Any]:
    body = await api.gql(
        CREATE,
        {"input": {"name": name, "grade": grade, "foundedOn": founded_on, "allowDuplicates": True}},
    )
    assert body["data"]["createCustomer"]["errors"] == [], body
    customer: dict[str, Any] = body["data"]["createCustomer"]["customer"]
    return customer


async def anniversary_tasks(api: Api, number: str) -> list[tuple[str, str, str]]:
    """(dedupe key, title, OPEN / DONE / CANCELLED) of customer ``number``'s anniversary
    tasks."""
    async with api.db.read() as session:
        rows = await session.execute(
            select(Task.dedupe_key, Task.title, Task.done_at, Task.cancelled_at)
            .join(Customer, Customer.id == Task.customer_id)
            .where(Customer.number == number, Task.dedupe_key.like("anniversary:%"))
            .order_by(Task.id)
        )
        return [
            (key or "", title, "CANCELLED" if cancelled else "DONE" if done else "OPEN")
            for key, title, done, cancelled in rows
        ]


async def test_the_survivor_keeps_the_anniversary_task_of_its_own_founding_date(
    make_settings: Callable[..., Settings],
) -> None:
    clock = FakeClock()  # 2026-11-23
    async with running_app(
        make_settings(plugins=(), key_account_grades="GOLD"), clock=clock
    ) as api:
        admin = await api.as_role(ADMINISTRATOR, lasting=True)
        target = await create(admin, "Gold Target", "2001-11-27", "GOLD")
        source = await create(admin, "Gold Source", "2010-11-25", "GOLD")
        await admin.run_due_jobs()
        target_id, source_id = (
            await id_of(api, target["number"]),
            await id_of(api, source["number"]),
        )
        ours = (
            f"anniversary:{target_id}:2026",
            "Anniversary of Gold Target on 2026-11-27: 25 years",
            "OPEN",
        )
        theirs = (
            f"anniversary:{source_id}:2026",
            "Anniversary of Gold Source on 2026-11-25: 16 years",
            "OPEN",
        )
        assert await anniversary_tasks(api, target["number"]) == [ours]
        assert await anniversary_tasks(api, source["number"]) == [theirs]

        # The quarterly care tasks and the anniversary tasks: one of each is cancelled.
        expected = {
            **NOTHING_ELSE,
            "tasks": 2,
            "careTasksCancelled": 1,
            "anniversaryTasksCancelled": 1,
        }
        assert await merge(admin, source["id"], target["id"], dry_run=True) == expected
        assert await anniversary_tasks(api, source["number"]) == [theirs]

        clock.advance(minutes=5)
        assert await merge(admin, source["id"], target["id"], dry_run=False) == expected
        assert await anniversary_tasks(api, target["number"]) == [
            ours,
            (*theirs[:2], "CANCELLED"),  # moved, and cancelled
        ]
        async with api.db.read() as session:
            cancelled_id = await session.scalar(
                select(Task.id).where(Task.dedupe_key == f"anniversary:{source_id}:2026")
            )
            (event,) = (
                await session.scalars(
                    select(AuditEvent).where(
                        AuditEvent.action == "task.cancelled",
                        AuditEvent.entity_id == str(cancelled_id),
                    )
                )
            ).all()
            merged = await session.scalar(
                select(AuditEvent).where(AuditEvent.action == "customer.merged")
            )
        assert event.actor_id == admin.user_id
        assert event.changes["cancelledAt"]["before"] is None
        assert "founding date" in event.changes["reason"]
        assert event.changes["mergedFrom"] == global_id("Customer", source_id)
        assert merged is not None
        assert merged.changes["moved"] == expected

        # The job's next runs find the survivor's anniversary remembered: nothing new.
        clock.advance(hours=2)
        await admin.run_due_jobs()
        clock.advance(days=1)
        await admin.run_due_jobs()
        assert [state for *_, state in await anniversary_tasks(api, target["number"])] == [
            "OPEN",
            "CANCELLED",
        ]


async def test_a_survivor_with_the_source_founding_date_takes_its_task(
    make_settings: Callable[..., Settings],
) -> None:
    clock = FakeClock()
    async with running_app(make_settings(plugins=()), clock=clock) as api:
        admin = await api.as_role(ADMINISTRATOR, lasting=True)
        source = await create(admin, "Old Firm", "2001-11-27")
        await admin.run_due_jobs()
        # The same firm entered again before the job's next run: no anniversary task yet.
        target = await create(admin, "Old Firm Ltd", "2001-11-27")
        assert await anniversary_tasks(api, target["number"]) == []

        expected = {**NOTHING_ELSE, "tasks": 1}
        assert await merge(admin, source["id"], target["id"], dry_run=True) == expected
        assert await merge(admin, source["id"], target["id"], dry_run=False) == expected
        target_id = await id_of(api, target["number"])
        survivor = [
            (
                f"anniversary:{target_id}:2026",
                "Anniversary of Old Firm on 2026-11-27: 25 years",
                "OPEN",
            )
        ]
        assert await anniversary_tasks(api, target["number"]) == survivor

        clock.advance(hours=2)
        await admin.run_due_jobs()
        assert await anniversary_tasks(api, target["number"]) == survivor


async def test_an_anniversary_the_survivor_has_its_own_task_for_is_cancelled(
    make_settings: Callable[..., Settings],
) -> None:
    clock = FakeClock()
    async with running_app(make_settings(plugins=()), clock=clock) as api:
        admin = await api.as_role(ADMINISTRATOR, lasting=True)
        target = await create(admin, "Old Firm Ltd", "2001-11-27")
        source = await create(admin, "Old Firm", "2001-11-27")
        await admin.run_due_jobs()

        expected = {**NOTHING_ELSE, "tasks": 1, "anniversaryTasksCancelled": 1}
        assert await merge(admin, source["id"], target["id"], dry_run=True) == expected
        assert await merge(admin, source["id"], target["id"], dry_run=False) == expected
        states = [state for *_, state in await anniversary_tasks(api, target["number"])]
        assert states == ["OPEN", "CANCELLED"]


async def test_a_done_anniversary_task_is_kept_as_it_was(
    make_settings: Callable[..., Settings],
) -> None:
    clock = FakeClock()
    async with running_app(make_settings(plugins=()), clock=clock) as api:
        admin = await api.as_role(ADMINISTRATOR, lasting=True)
        target = await create(admin, "Target", "2001-11-27")
        source = await create(admin, "Source", "2010-11-25")
        await admin.run_due_jobs()
        source_id = await id_of(api, source["number"])
        async with api.db.transaction() as session:  # the source's anniversary call was made
            await session.execute(
                update(Task)
                .where(Task.customer_id == source_id)
                .values(done_at=clock(), version=Task.version + 1)
            )

        expected = {**NOTHING_ELSE, "tasks": 1}
        assert await merge(admin, source["id"], target["id"], dry_run=True) == expected
        assert await merge(admin, source["id"], target["id"], dry_run=False) == expected
        assert [
            (key, state) for key, _title, state in await anniversary_tasks(api, target["number"])
        ] == [
            (f"anniversary:{await id_of(api, target['number'])}:2026", "OPEN"),
            (f"anniversary:{source_id}:2026", "DONE"),
        ]


async def test_an_anniversary_task_done_meanwhile_is_not_counted_as_cancelled(
    make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = FakeClock()
    plan = merge_service._duplicate_anniversary_tasks

    async def done_after_the_plan(session: AsyncSession, source: Customer, target: Customer) -> Any:
        """The merge's plan, after which the source's anniversary tasks are done, as their
        owner might mark them while the merge runs."""
        planned = await plan(session, source, target)
        await session.execute(
            update(Task)
            .where(Task.customer_id == source.id, Task.dedupe_key.like("anniversary:%"))
            .values(done_at=clock(), version=Task.version + 1)
        )
        return planned

    async with running_app(make_settings(plugins=()), clock=clock) as api:
        admin = await api.as_role(ADMINISTRATOR, lasting=True)
        target = await create(admin, "Target", "2001-11-27")
        source = await create(admin, "Source", "2010-11-25")
        await admin.run_due_jobs()

        planned = {**NOTHING_ELSE, "tasks": 1, "anniversaryTasksCancelled": 1}
        assert await merge(admin, source["id"], target["id"], dry_run=True) == planned
        monkeypatch.setattr(merge_service, "_duplicate_anniversary_tasks", done_after_the_plan)
        moved = await merge(admin, source["id"], target["id"], dry_run=False)
        assert moved == {**NOTHING_ELSE, "tasks": 1}
        states = [state for _key, _title, state in await anniversary_tasks(api, target["number"])]
        assert states == ["OPEN", "DONE"]
        async with api.db.read() as session:
            cancelled = list(
                (
                    await session.scalars(
                        select(AuditEvent.id).where(AuditEvent.action == "task.cancelled")
                    )
                ).all()
            )
            merged = await session.scalar(
                select(AuditEvent).where(AuditEvent.action == "customer.merged")
            )
        assert cancelled == []
        assert merged is not None
        assert merged.changes["moved"] == moved
