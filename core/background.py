"""Background jobs: long work (a 30,000-row import) done outside the request that asked.

A request enqueues a job (:func:`enqueue`, a row of ``background_jobs`` written in the
request's own transaction) and answers at once with it; the client polls the job for its
progress. A :class:`JobRunner` claims queued jobs one at a time and runs the handler its
module registered for the job's kind (``crm_job_handlers``).

Runners live in ``crm serve`` (one per process unless ``CRM_WORKER_IN_PROCESS=false``, so the
embedded SQLite default needs nothing else) and in ``crm worker``. Any number of them may
share one database: a job is claimed with a lease (on PostgreSQL ``FOR UPDATE SKIP LOCKED``,
on SQLite a compare-and-set), renewed at every checkpoint. A runner that dies leaves its job
with a lease that runs out; the next runner resumes it from its last checkpoint. Handlers
checkpoint inside the transaction that does the work they record, so a resumed job neither
repeats nor skips work: a checkpoint by a runner that lost its lease fails and rolls the
work back with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import enum
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column, undefer

from core.db import Base, Database, UTCDateTime, utcnow
from core.errors import UserErrors
from core.host import declared
from core.zones import use_zone

if TYPE_CHECKING:
    from core.config import Settings
    from core.host import CRMPluginManager

logger = logging.getLogger("crm.jobs")

LEASE = dt.timedelta(seconds=60)
MAX_ATTEMPTS = 3


class JobStatus(enum.StrEnum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


FINISHED = (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)


class BackgroundJob(Base):
    """One job: what to do (``kind``, ``payload``), who asked, and how far it got (``state``)."""

    __tablename__ = "background_jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16), default=JobStatus.QUEUED, index=True)
    created_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    request_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    # The input can be large (a whole CSV file): loaded only by the runner.
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, deferred=True)
    state: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text)


class JobCancelled(Exception):
    """Raised by a handler that stops because someone asked it to (the job ends CANCELLED)."""


class LeaseLost(Exception):
    """Raised by :meth:`JobRun.checkpoint` when another runner has taken the job over."""


class JobFailed(Exception):
    """Raised by a handler to end its job as FAILED with a message for the client."""


class JobHandler(Protocol):
    """Runs one kind of job; returns the job's final ``state``."""

    def __call__(self, run: JobRun) -> Awaitable[Mapping[str, Any]]: ...


@dataclass
class JobRun:
    """What a handler gets: the job, the service around it, and how to record progress."""

    job_id: int
    kind: str
    payload: dict[str, Any]
    state: dict[str, Any]
    created_by: int | None
    request_id: str | None
    db: Database
    settings: Settings
    pm: CRMPluginManager
    clock: Callable[[], dt.datetime]
    runner_id: str
    lease: dt.timedelta = LEASE

    async def checkpoint(self, session: AsyncSession, state: Mapping[str, Any]) -> bool:
        """Record ``state`` in the caller's transaction and renew the lease; whether someone
        asked the job to stop (the handler commits what it did, then raises
        :class:`JobCancelled`).

        :raises LeaseLost: another runner holds the job now; the transaction must roll back.
        """
        now = self.clock()
        cancel = await session.scalar(
            update(BackgroundJob)
            .where(BackgroundJob.id == self.job_id, BackgroundJob.lease_owner == self.runner_id)
            .values(state=dict(state), updated_at=now, lease_until=now + self.lease)
            .returning(BackgroundJob.cancel_requested)
        )
        if cancel is None:
            raise LeaseLost(f"job {self.job_id} is no longer held by this runner")
        self.state = dict(state)
        return bool(cancel)

    async def cancel_requested(self) -> bool:
        async with self.db.read() as session:
            return bool(
                await session.scalar(
                    select(BackgroundJob.cancel_requested).where(BackgroundJob.id == self.job_id)
                )
            )


async def enqueue(
    session: AsyncSession,
    kind: str,
    payload: Mapping[str, Any],
    *,
    created_by: int | None,
    now: dt.datetime,
    request_id: str | None = None,
    state: Mapping[str, Any] | None = None,
) -> BackgroundJob:
    """Queue a job in the caller's transaction (it runs once that commits)."""
    job = BackgroundJob(
        kind=kind,
        status=JobStatus.QUEUED,
        created_by=created_by,
        request_id=request_id,
        created_at=now,
        updated_at=now,
        attempts=0,
        cancel_requested=False,
        payload=dict(payload),
        state=dict(state or {}),
    )
    session.add(job)
    await session.flush()
    return job


async def request_cancel(session: AsyncSession, job: BackgroundJob, now: dt.datetime) -> None:
    """Ask a job to stop: a queued one stops at once, a running one at its next checkpoint."""
    if job.status == JobStatus.QUEUED:
        job.status = JobStatus.CANCELLED
        job.finished_at = now
        job.payload = {}
    job.cancel_requested = True
    job.updated_at = now
    await session.flush()


def handlers_of(pm: CRMPluginManager) -> dict[str, JobHandler]:
    """Every module's job handlers by kind; a kind registered twice stops startup."""
    return declared(pm, "crm_job_handlers", "the background job kind")


@dataclass
class JobRunner:
    """Claims queued jobs and runs them, one at a time."""

    db: Database
    settings: Settings
    pm: CRMPluginManager
    clock: Callable[[], dt.datetime] = utcnow
    runner_id: str = field(default_factory=lambda: f"runner-{uuid.uuid4().hex[:12]}")
    lease: dt.timedelta = LEASE
    poll_seconds: float = 0.5
    handlers: dict[str, JobHandler] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.handlers:
            self.handlers = handlers_of(self.pm)

    def _claimable(self, now: dt.datetime) -> Any:
        return BackgroundJob.kind.in_(list(self.handlers)) & or_(
            BackgroundJob.status == JobStatus.QUEUED,
            (BackgroundJob.status == JobStatus.RUNNING) & (BackgroundJob.lease_until < now),
        )

    async def claim(self, job_id: int | None = None) -> JobRun | None:
        """Take the oldest claimable job (or job ``job_id``) with a lease, or ``None``.

        A look in a read session comes first, so an idle runner takes no write lock.
        """
        if not self.handlers:
            return None
        now = self.clock()
        statement = select(BackgroundJob.id).where(self._claimable(now))
        if job_id is not None:
            statement = statement.where(BackgroundJob.id == job_id)
        statement = statement.order_by(BackgroundJob.id).limit(1)
        async with self.db.read() as session:
            found = await session.scalar(statement)
        if found is None:
            return None
        async with self.db.transaction() as session:
            if self.db.dialect == "postgresql":
                # Many runners at once: each skips the rows another is claiming.
                found = await session.scalar(statement.with_for_update(skip_locked=True))
                if found is None:
                    return None
            claimed = await session.execute(
                update(BackgroundJob)
                .where(BackgroundJob.id == found, self._claimable(now))
                .values(
                    status=JobStatus.RUNNING,
                    lease_owner=self.runner_id,
                    lease_until=now + self.lease,
                    attempts=BackgroundJob.attempts + 1,
                    updated_at=now,
                )
                .execution_options(synchronize_session=False)
            )
            if not claimed.rowcount:  # type: ignore[attr-defined]
                return None  # another runner was quicker
            job = await session.get(
                BackgroundJob,
                found,
                populate_existing=True,
                options=[undefer(BackgroundJob.payload)],
            )
            assert job is not None
            if job.started_at is None:
                job.started_at = now
            return JobRun(
                job_id=job.id,
                kind=job.kind,
                payload=dict(job.payload or {}),
                state=dict(job.state or {}),
                created_by=job.created_by,
                request_id=job.request_id,
                db=self.db,
                settings=self.settings,
                pm=self.pm,
                clock=self.clock,
                runner_id=self.runner_id,
                lease=self.lease,
            )

    async def run_one(self, job_id: int | None = None) -> bool:
        """Claim and run one job; ``False`` if none was waiting."""
        run = await self.claim(job_id)
        if run is None:
            return False
        await self.execute(run)
        return True

    async def execute(self, run: JobRun) -> None:
        """Run a claimed job to its end and record how it ended."""
        handler = self.handlers[run.kind]
        try:
            if await run.cancel_requested():  # asked while no runner held it
                raise JobCancelled
            with use_zone(self.settings.zone):  # no caller here: the deployment's zone
                state = await handler(run)
        except JobCancelled:
            await self._finish(run, JobStatus.CANCELLED, run.state, None)
        except LeaseLost:
            logger.warning("job %s: lease lost; another runner carries on", run.job_id)
        except (JobFailed, UserErrors) as exc:
            await self._finish(run, JobStatus.FAILED, run.state, str(exc))
        except asyncio.CancelledError:
            await asyncio.shield(self._release(run))
            raise
        except Exception:
            logger.exception(
                "job %s (%s) stopped by an unexpected error",
                run.job_id,
                run.kind,
                extra={"request_id": run.request_id},
            )
            await self._after_crash(run)
        else:
            await self._finish(run, JobStatus.SUCCEEDED, state, None)

    async def _finish(
        self, run: JobRun, status: JobStatus, state: Mapping[str, Any], error: str | None
    ) -> None:
        now = self.clock()
        async with self.db.transaction() as session:
            await session.execute(
                update(BackgroundJob)
                .where(BackgroundJob.id == run.job_id, BackgroundJob.lease_owner == self.runner_id)
                .values(
                    status=status,
                    state=dict(state),
                    error=error,
                    finished_at=now,
                    updated_at=now,
                    lease_owner=None,
                    lease_until=None,
                    payload={},  # a finished job keeps no input (a file of personal data)
                )
            )

    async def _after_crash(self, run: JobRun) -> None:
        """Retry from the last checkpoint, or give up after ``MAX_ATTEMPTS``."""
        async with self.db.read() as session:
            attempts = await session.scalar(
                select(BackgroundJob.attempts).where(BackgroundJob.id == run.job_id)
            )
        if (attempts or 0) >= MAX_ATTEMPTS:
            await self._finish(
                run,
                JobStatus.FAILED,
                run.state,
                f"stopped by an unexpected error {attempts} times; "
                f"the server log has the details (job {run.job_id})",
            )
        else:
            await self._release(run)

    async def _release(self, run: JobRun) -> None:
        """Hand the job back (a runner that stops): the next runner resumes it."""
        now = self.clock()
        async with self.db.transaction() as session:
            await session.execute(
                update(BackgroundJob)
                .where(BackgroundJob.id == run.job_id, BackgroundJob.lease_owner == self.runner_id)
                .values(status=JobStatus.QUEUED, lease_owner=None, lease_until=None, updated_at=now)
            )

    async def run_until_idle(self, limit: int = 1000) -> int:
        """Run jobs until none is waiting (at most ``limit``); how many ran."""
        ran = 0
        while ran < limit and await self.run_one():
            ran += 1
        return ran

    async def serve(self, stop: asyncio.Event) -> None:
        """Run jobs as they come until ``stop`` is set; a job in progress is handed back."""
        while not stop.is_set():
            try:
                ran = await self.run_one()
            except Exception:  # the database away for a moment: log, wait, try again
                logger.exception("the job runner could not claim a job")
                ran = False
            if not ran:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.poll_seconds)
