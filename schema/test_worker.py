"""``crm worker``: a process of its own that runs queued background jobs until SIGTERM."""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from core.background import FINISHED, BackgroundJob, JobStatus
from core.catalog import ADMINISTRATOR, catalog_for
from core.config import Settings
from core.context import RequestContext
from core.customers import importing, models
from core.db import Database, utcnow
from core.host import CRMPluginManager
from core.identity.callers import caller_for_email
from core.mail import send_email
from core.mutations import transact
from core.outbox import OutboxMessage, OutboxWorker
from schema.serving import free_port
from schema.testkit import FakeClock
from schema.testkit_tools import make_user

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
                pytest.fail(f"the worker did not stop within 30 s of SIGTERM: {log.read_text()}")
    text = log.read_text()
    assert status == JobStatus.SUCCEEDED, text
    assert code == 0, text
    assert "running jobs of kinds: attachments.purge, customers.import" in text
    assert "stopped" in text
    assert "Traceback" not in text
    async with migrated_db.read() as session:
        names = (await session.scalars(models.Customer.__table__.select())).all()
    assert len(names) == 2


# --- a worker killed mid-batch ------------------------------------------------------------------


@dataclass
class StallingInbox:
    """An SMTP handler that holds every recipient until the gate opens, then records mail."""

    gate: threading.Event = field(default_factory=threading.Event)
    waiting: int = 0
    received: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        with self.lock:
            self.waiting += 1
        await asyncio.get_running_loop().run_in_executor(None, self.gate.wait, 60)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.original_content or b"")
        with self.lock:
            self.received.append(str(message["Message-ID"]))
        return "250 Message accepted"


async def outbox_rows(db: Database) -> list[OutboxMessage]:
    async with db.read() as session:
        return list((await session.scalars(select(OutboxMessage))).all())


async def test_a_worker_killed_mid_batch_leaves_its_mail_to_another_after_the_lease(
    settings: Settings,
    migrated_db: Database,
    plugin_manager: CRMPluginManager,
    database_url: str,
    tmp_path: Path,
) -> None:
    inbox = StallingInbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, ready_timeout=10)
    controller.start()
    mails = 12
    try:
        async with migrated_db.transaction() as session:
            for n in range(mails):
                await send_email(
                    session,
                    plugin_manager,
                    to=f"user{n}@example.com",
                    template="notification",
                    values={"title": f"Message {n}", "body": "", "url": None},
                    locale="en",
                    zone=dt.UTC,
                    now=utcnow(),
                    kind="test.crash",
                )
        env = {
            **os.environ,
            "CRM_DATA_DIR": str(settings.data_dir),
            "CRM_DATABASE_URL": database_url,
            "CRM_PLUGINS": "",
            "CRM_MAIL_BACKEND": "smtp",
            "CRM_SMTP_HOST": "127.0.0.1",
            "CRM_SMTP_PORT": str(port),
            "CRM_SMTP_SECURITY": "none",
            "CRM_OUTBOX_BATCH": "5",
            "CRM_OUTBOX_LEASE_SECONDS": "20",
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
                while inbox.waiting < 5:  # the whole first batch is stuck at the server
                    assert process.returncode is None, log.read_text()
                    assert time.monotonic() < deadline, log.read_text()
                    await asyncio.sleep(0.1)
            finally:
                process.kill()  # no goodbye: its batch stays claimed
                await process.wait()
        claimed = [row for row in await outbox_rows(migrated_db) if row.status == "SENDING"]
        assert len(claimed) == 5
        inbox.gate.set()

        later = FakeClock(utcnow() + dt.timedelta(seconds=25))  # past the dead worker's lease
        smtp = settings.model_copy(
            update={
                "mail_backend": "smtp",
                "smtp_host": "127.0.0.1",
                "smtp_port": port,
                "smtp_security": "none",
            }
        )
        other = OutboxWorker(db=migrated_db, settings=smtp, pm=plugin_manager, clock=later)
        assert await other.run_until_idle() == mails
    finally:
        inbox.gate.set()
        controller.stop()
    rows = await outbox_rows(migrated_db)
    assert {row.status for row in rows} == {"DELIVERED"}
    assert sorted(row.attempts for row in rows) == [1] * (mails - 5) + [2] * 5
    ids = [f"<{row.payload['message_id']}@" for row in rows]
    assert len(inbox.received) == mails  # each once: none lost, none twice
    assert all(sum(r.startswith(i) for r in inbox.received) == 1 for i in ids)
