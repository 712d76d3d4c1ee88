"""``crm worker``: a process of its own that runs queued background jobs until SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from core.background import FINISHED, BackgroundJob, JobStatus
from core.catalog import ADMINISTRATOR, catalog_for
from core.config import Settings
from core.context import RequestContext
from core.customers import importing, models
from core.db import Database
from core.host import CRMPluginManager
from core.identity.auth import caller_for_email
from core.mutations import transact
from schema.testkit import make_user

CSV = "name,email\nAcme,info@acme.example\nBravo,bravo@example.com\n"


@pytest.fixture
def crm_plugins() -> tuple[str, ...]:
    return ()


@pytest.fixture
def crm_extra_plugins() -> Mapping[str, Any]:
    """The worker runs installed plugins only, so the in-process setup does too."""
    return {}


async def job_status(db: Database, job_id: int) -> str:
    async with db.read() as session:
        job = await session.get(BackgroundJob, job_id)
        assert job is not None
        return job.status


async def test_the_worker_runs_a_queued_import_and_stops_on_sigterm(
    settings: Settings,
    migrated_db: Database,
    plugin_manager: CRMPluginManager,
    database_url: str,
    tmp_path: Path,
) -> None:
    await make_user(migrated_db, settings, "importer@example.com", [ADMINISTRATOR])
    caller = await caller_for_email(
        migrated_db, catalog_for(plugin_manager), "importer@example.com"
    )
    context = RequestContext(settings=settings, db=migrated_db, pm=plugin_manager, caller=caller)
    job = await transact(
        migrated_db,
        lambda session: importing.start_import(session, context, CSV, ["EMAIL"], False),
    )
    env = {
        **os.environ,
        "CRM_DATA_DIR": str(settings.data_dir),
        "CRM_DATABASE_URL": database_url,
        "CRM_PLUGINS": "",
    }
    log = tmp_path / "worker.log"
    with log.open("w+b") as output:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "schema.cli",
            "worker",
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 60
            while (status := await job_status(migrated_db, job.id)) not in FINISHED:
                assert process.returncode is None, log.read_text()
                assert time.monotonic() < deadline, f"job still {status}: {log.read_text()}"
                await asyncio.sleep(0.2)
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                code = await asyncio.wait_for(process.wait(), 30)
            except TimeoutError:
                process.kill()
                await process.wait()
                raise
    text = log.read_text()
    assert status == JobStatus.SUCCEEDED, text
    assert code == 0, text
    assert "running jobs of kinds: customers.import" in text
    assert "stopped" in text
    assert "Traceback" not in text
    async with migrated_db.read() as session:
        names = (await session.scalars(models.Customer.__table__.select())).all()
    assert len(names) == 2
