"""Periodic jobs: work that runs on a schedule (reminders due, dormant customers, SLA watch).

Each module declares its jobs (``crm_periodic_jobs``): a name, how often, and an async
function. The worker (:class:`Scheduler`, in ``crm worker`` and in ``crm serve``'s in-process
worker) runs each job when it falls due; ``crm jobs run`` runs every job once, now.

Any number of workers may share one database and a job still runs once per period: each job
has a row in ``periodic_runs`` that a worker claims with a compare-and-set (due, and no live
lease) before running it, and moves on by ``every`` afterwards. A worker that dies in a job
leaves a lease that runs out; the next worker runs the job then. Jobs must be idempotent all
the same (``crm jobs run`` from cron may overlap a worker): each records what it did so that a
second run finds nothing left to do.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, String, Text, or_, select, update
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, Database, UTCDateTime, upsert_insert, utcnow
from core.host import PluginError, contributions
from core.zones import use_zone

if TYPE_CHECKING:
    from core.config import Settings
    from core.host import CRMPluginManager

logger = logging.getLogger("crm.schedule")

JOB_LEASE = dt.timedelta(minutes=10)
RETRY_AFTER_ERROR = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class JobContext:
    """What a periodic job gets: the service around it and the moment it runs for."""

    db: Database
    settings: Settings
    pm: CRMPluginManager
    now: dt.datetime
    clock: Callable[[], dt.datetime]


@dataclass(frozen=True)
class PeriodicJob:
    """A module's periodic job.

    :param name: ``"<module>.<what>"``, unique across modules.
    :param every: how often it runs.
    :param run: does the work in transactions of its own; returns what it did by description
        (``{"reminders sent": 3}``).
    """

    name: str
    every: dt.timedelta
    run: Callable[[JobContext], Awaitable[Mapping[str, int]]]


class PeriodicRun(Base):
    """When a periodic job runs next, who runs it now, and how its last run went."""

    __tablename__ = "periodic_runs"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    next_run_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    last_error: Mapped[str | None] = mapped_column(Text)


def jobs_of(pm: CRMPluginManager) -> list[PeriodicJob]:
    """Every module's periodic jobs, in module order; a name declared twice, or a job that
    does not run every positive interval, stops startup."""
    found: dict[str, PeriodicJob] = {}
    owners: dict[str, str] = {}
    for module, jobs in contributions(pm, "crm_periodic_jobs"):
        for job in jobs:
            if job.name in found:
                raise PluginError(
                    f"the periodic job {job.name!r} is declared by two modules: "
                    f"{owners[job.name]} and {module}"
                )
            if job.every <= dt.timedelta(0):
                raise PluginError(f"the periodic job {job.name!r} must run every positive interval")
            found[job.name] = job
            owners[job.name] = module
    return list(found.values())


@dataclass
class Scheduler:
    """Runs the periodic jobs that are due, each once per period across all workers."""

    db: Database
    settings: Settings
    pm: CRMPluginManager
    clock: Callable[[], dt.datetime] = utcnow
    worker_id: str = field(default_factory=lambda: f"scheduler-{uuid.uuid4().hex[:12]}")
    poll_seconds: float = 1.0
    jobs: Sequence[PeriodicJob] = ()

    def __post_init__(self) -> None:
        if not self.jobs:
            self.jobs = jobs_of(self.pm)
        self._rows_ready = False

    async def _due(self, now: dt.datetime) -> set[str]:
        """The jobs due now and free, looked up in a read session (an idle scheduler takes
        no write lock, which on SQLite would stand in line with every request's writes)."""
        async with self.db.read() as session:
            rows = await session.scalars(
                select(PeriodicRun.name).where(
                    PeriodicRun.next_run_at <= now,
                    or_(PeriodicRun.lease_until.is_(None), PeriodicRun.lease_until < now),
                )
            )
            return set(rows.all())

    async def _ensure_rows(self, now: dt.datetime) -> None:
        """A row per job, due now when first seen (once per scheduler)."""
        if self._rows_ready:
            return
        insert = upsert_insert(self.db.dialect)
        async with self.db.transaction() as session:
            await session.execute(
                insert(PeriodicRun)
                .values([{"name": job.name, "next_run_at": now} for job in self.jobs])
                .on_conflict_do_nothing(index_elements=[PeriodicRun.name])
            )
        self._rows_ready = True

    async def _claim(self, job: PeriodicJob, now: dt.datetime) -> bool:
        async with self.db.transaction() as session:
            claimed = await session.execute(
                update(PeriodicRun)
                .where(
                    PeriodicRun.name == job.name,
                    PeriodicRun.next_run_at <= now,
                    or_(PeriodicRun.lease_until.is_(None), PeriodicRun.lease_until < now),
                )
                .values(
                    lease_owner=self.worker_id, lease_until=now + JOB_LEASE, last_started_at=now
                )
            )
            return bool(claimed.rowcount)  # type: ignore[attr-defined]

    async def _finish(
        self,
        job: PeriodicJob,
        next_run: dt.datetime,
        result: Mapping[str, int] | None,
        error: str | None,
    ) -> None:
        async with self.db.transaction() as session:
            await session.execute(
                update(PeriodicRun)
                .where(PeriodicRun.name == job.name, PeriodicRun.lease_owner == self.worker_id)
                .values(
                    next_run_at=next_run,
                    lease_owner=None,
                    lease_until=None,
                    last_finished_at=self.clock(),
                    last_result=dict(result) if result is not None else None,
                    last_error=error,
                )
            )

    async def execute(self, job: PeriodicJob, now: dt.datetime) -> Mapping[str, int]:
        """Run one job for ``now`` in the deployment's zone (no caller: its calendar)."""
        context = JobContext(
            db=self.db, settings=self.settings, pm=self.pm, now=now, clock=self.clock
        )
        with use_zone(self.settings.zone):
            return await job.run(context)

    async def run_due(self) -> dict[str, Mapping[str, int]]:
        """Run every job that is due and not running elsewhere; what each did."""
        if not self.jobs:
            return {}
        await self._ensure_rows(self.clock())
        due = await self._due(self.clock())
        done: dict[str, Mapping[str, int]] = {}
        for job in self.jobs:
            if job.name not in due:
                continue
            now = self.clock()  # a job before this one may have run long: the time now
            if not await self._claim(job, now):
                continue
            try:
                result = await self.execute(job, now)
            except asyncio.CancelledError:
                with contextlib.suppress(Exception):
                    await asyncio.shield(self._finish(job, now, None, "stopped"))
                raise
            except Exception as exc:
                logger.exception("periodic job %s stopped by an unexpected error", job.name)
                await self._finish(job, now + RETRY_AFTER_ERROR, None, type(exc).__name__)
                continue
            await self._finish(job, now + job.every, result, None)
            done[job.name] = result
        return done

    async def run_all(self) -> dict[str, Mapping[str, int]]:
        """Run every job once now, due or not (``crm jobs run``); what each did."""
        now = self.clock()
        return {job.name: await self.execute(job, now) for job in self.jobs}

    async def serve(self, stop: asyncio.Event) -> None:
        """Run jobs as they fall due until ``stop`` is set."""
        while not stop.is_set():
            try:
                await self.run_due()
            except Exception:  # the database away for a moment: log, wait, try again
                logger.exception("the scheduler could not run its jobs")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.poll_seconds)
