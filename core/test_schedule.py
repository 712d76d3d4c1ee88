"""Periodic jobs (:mod:`core.schedule`): each runs once per period across all workers, is
retried after an error, and outlives a worker that dies while running it.

A test plugin declares the job ``test.count``, which records each moment it runs for. The
schedulers of these tests run that job only (core's own jobs are left out), on the test's
FakeClock. Every test runs on SQLite and, with ``CRM_TEST_POSTGRES_URL``, on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pytest

from core.config import Settings
from core.db import Database
from core.hookspecs import hookimpl
from core.host import CRMPluginManager
from core.schedule import (
    JOB_LEASE,
    RETRY_AFTER_ERROR,
    JobContext,
    PeriodicJob,
    PeriodicRun,
    Scheduler,
    jobs_of,
)
from schema.modules import build_plugin_manager
from schema.testkit import FakeClock

EVERY = dt.timedelta(hours=1)


class Counting:
    """A plugin with the periodic job ``test.count``: records the moments it runs for."""

    def __init__(self, name: str = "test.count") -> None:
        self.name = name
        self.runs: list[dt.datetime] = []
        self.fail = False

    async def run(self, job: JobContext) -> Mapping[str, int]:
        self.runs.append(job.now)
        await asyncio.sleep(0)  # let a concurrent scheduler interleave
        if self.fail:
            raise RuntimeError("the job broke")
        return {"runs": len(self.runs)}

    @hookimpl
    def crm_periodic_jobs(self) -> Sequence[PeriodicJob]:
        return [PeriodicJob(self.name, EVERY, self.run)]


@pytest.fixture
def counting() -> Counting:
    return Counting()


@pytest.fixture
def crm_plugins() -> tuple[str, ...]:
    return ("counting",)


@pytest.fixture
def crm_extra_plugins(counting: Counting) -> Mapping[str, Any]:
    return {"counting": counting}


@pytest.fixture
def scheduler(
    migrated_db: Database, settings: Settings, plugin_manager: CRMPluginManager, clock: FakeClock
) -> Callable[..., Scheduler]:
    """``scheduler(worker_id, db=...)``: a scheduler of the test plugin's job only."""
    jobs = [job for job in jobs_of(plugin_manager) if job.name.startswith("test.")]
    assert [job.name for job in jobs] == ["test.count"]

    def make(worker_id: str = "first", db: Database = migrated_db) -> Scheduler:
        return Scheduler(
            db=db, settings=settings, pm=plugin_manager, clock=clock, worker_id=worker_id, jobs=jobs
        )

    return make


async def run_row(db: Database, name: str = "test.count") -> PeriodicRun:
    async with db.read() as session:
        found = await session.get(PeriodicRun, name)
        assert found is not None
        return found


async def test_a_job_runs_when_due_and_again_after_its_period(
    migrated_db: Database,
    clock: FakeClock,
    counting: Counting,
    scheduler: Callable[..., Scheduler],
) -> None:
    start = clock()
    assert await scheduler().run_due() == {"test.count": {"runs": 1}}
    assert counting.runs == [start]
    row = await run_row(migrated_db)
    assert row.next_run_at == start + EVERY
    assert row.last_started_at == start
    assert row.last_finished_at == start
    assert row.last_result == {"runs": 1}
    assert row.last_error is None
    assert row.lease_owner is None
    assert row.lease_until is None

    assert await scheduler().run_due() == {}
    clock.advance(minutes=59, seconds=59)
    assert await scheduler("second").run_due() == {}
    assert counting.runs == [start]

    clock.advance(seconds=1)
    assert await scheduler("second").run_due() == {"test.count": {"runs": 2}}
    assert counting.runs == [start, start + EVERY]
    assert (await run_row(migrated_db)).next_run_at == start + 2 * EVERY


async def test_two_schedulers_at_the_same_moment_run_a_job_once(
    database_url: str,
    settings: Settings,
    migrated_db: Database,
    clock: FakeClock,
    counting: Counting,
    scheduler: Callable[..., Scheduler],
) -> None:
    if database_url.startswith("postgresql"):
        engines = [Database(settings.resolved_database_url) for _ in range(2)]
    else:
        engines = [migrated_db, migrated_db]
    try:
        for _ in range(3):  # the first run (rows created by both) and two periods after it
            first, second = await asyncio.wait_for(
                asyncio.gather(
                    scheduler("one", engines[0]).run_due(), scheduler("two", engines[1]).run_due()
                ),
                30,
            )
            assert len(first) + len(second) == 1, (first, second)
            clock.advance(hours=1)
    finally:
        if database_url.startswith("postgresql"):
            for db in engines:
                await db.dispose()
    start = clock() - 3 * EVERY
    assert counting.runs == [start, start + EVERY, start + 2 * EVERY]


async def test_a_job_that_fails_is_retried_after_five_minutes(
    migrated_db: Database,
    clock: FakeClock,
    counting: Counting,
    scheduler: Callable[..., Scheduler],
) -> None:
    start = clock()
    counting.fail = True
    assert await scheduler().run_due() == {}
    assert counting.runs == [start]
    row = await run_row(migrated_db)
    assert row.last_error == "RuntimeError"
    assert row.last_result is None
    assert row.next_run_at == start + RETRY_AFTER_ERROR
    assert row.lease_owner is None

    clock.advance(seconds=RETRY_AFTER_ERROR.total_seconds() - 1)
    assert await scheduler().run_due() == {}
    assert len(counting.runs) == 1

    counting.fail = False
    clock.set(start + RETRY_AFTER_ERROR)
    assert await scheduler().run_due() == {"test.count": {"runs": 2}}
    row = await run_row(migrated_db)
    assert row.last_error is None
    assert row.last_result == {"runs": 2}
    assert row.next_run_at == start + RETRY_AFTER_ERROR + EVERY


async def test_a_dead_schedulers_lease_holds_the_job_until_it_ends(
    migrated_db: Database,
    clock: FakeClock,
    counting: Counting,
    scheduler: Callable[..., Scheduler],
) -> None:
    start = clock()
    dead = scheduler("dead")
    [job] = dead.jobs
    await dead._ensure_rows(start)
    assert await dead._claim(job, start)  # and then it dies, never finishing
    row = await run_row(migrated_db)
    assert row.lease_owner == "dead"
    assert row.lease_until == start + JOB_LEASE

    alive = scheduler("alive")
    assert await alive.run_due() == {}
    clock.advance(seconds=JOB_LEASE.total_seconds())
    assert await alive.run_due() == {}, "the lease still holds at its last moment"
    assert counting.runs == []

    clock.advance(seconds=1)
    assert await alive.run_due() == {"test.count": {"runs": 1}}
    assert counting.runs == [clock()]
    row = await run_row(migrated_db)
    assert row.next_run_at == clock() + EVERY
    assert row.lease_owner is None

    # The dead scheduler's late finish does not move the job: the lease was not its own.
    await dead._finish(job, start + dt.timedelta(days=7), None, "stopped")
    row = await run_row(migrated_db)
    assert row.next_run_at == clock() + EVERY
    assert row.last_error is None


async def test_run_all_runs_every_job_whatever_its_schedule(
    migrated_db: Database,
    settings: Settings,
    plugin_manager: CRMPluginManager,
    clock: FakeClock,
    counting: Counting,
    scheduler: Callable[..., Scheduler],
) -> None:
    assert await scheduler().run_due() == {"test.count": {"runs": 1}}
    assert await scheduler().run_all() == {"test.count": {"runs": 2}}
    assert await scheduler().run_all() == {"test.count": {"runs": 3}}
    assert counting.runs == [clock()] * 3

    everything = Scheduler(db=migrated_db, settings=settings, pm=plugin_manager, clock=clock)
    names = [job.name for job in everything.jobs]
    assert "test.count" in names
    assert "outbox.purge" in names
    done = await everything.run_all()
    assert set(done) == set(names)
    assert done["test.count"] == {"runs": 4}


async def test_two_plugins_declaring_one_job_name_stop_the_scheduler(
    settings: Settings, db: Database
) -> None:
    pm = build_plugin_manager(
        ["one", "two"], extra_plugins={"one": Counting("test.same"), "two": Counting("test.same")}
    )
    with pytest.raises(RuntimeError, match=r"two periodic jobs are named 'test\.same'"):
        Scheduler(db=db, settings=settings, pm=pm)
