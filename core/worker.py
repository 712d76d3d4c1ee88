"""The worker: background jobs, outbox deliveries and periodic jobs, side by side.

``crm worker`` runs one; ``crm serve`` runs one inside each process unless
``CRM_WORKER_IN_PROCESS=false``. Any number of workers may share one database: each of the
three loops claims its work with a lease (:mod:`core.background`, :mod:`core.outbox`,
:mod:`core.schedule`).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from core.background import JobRunner
from core.db import Database, utcnow
from core.host import check_declarations
from core.outbox import OutboxWorker
from core.schedule import Scheduler

if TYPE_CHECKING:
    from core.config import Settings
    from core.host import CRMPluginManager


@dataclass
class Worker:
    """The three loops of one worker, named after it."""

    db: Database
    settings: Settings
    pm: CRMPluginManager
    clock: Callable[[], dt.datetime] = utcnow
    worker_id: str = field(default_factory=lambda: f"worker-{uuid.uuid4().hex[:12]}")

    def __post_init__(self) -> None:
        check_declarations(self.pm)  # a name two modules declare stops the start
        common = {"db": self.db, "settings": self.settings, "pm": self.pm, "clock": self.clock}
        self.jobs = JobRunner(runner_id=f"{self.worker_id}-jobs", **common)  # type: ignore[arg-type]
        self.outbox = OutboxWorker(worker_id=f"{self.worker_id}-outbox", **common)  # type: ignore[arg-type]
        self.scheduler = Scheduler(worker_id=f"{self.worker_id}-schedule", **common)  # type: ignore[arg-type]

    async def serve(self, stop: asyncio.Event) -> None:
        """Run until ``stop`` is set; work in progress is handed back when cancelled."""
        loops = [
            asyncio.create_task(self.jobs.serve(stop), name=f"{self.worker_id}-jobs"),
            asyncio.create_task(self.outbox.serve(stop), name=f"{self.worker_id}-outbox"),
            asyncio.create_task(self.scheduler.serve(stop), name=f"{self.worker_id}-schedule"),
        ]
        try:
            await asyncio.gather(*loops)
        finally:
            for loop in loops:
                loop.cancel()
            for loop in loops:
                with contextlib.suppress(asyncio.CancelledError):
                    await loop
