"""Stored bytes leave only after the rows that name them are gone for good: erasure and
``deleteAttachment`` queue a purge job in their transaction; a rolled-back erasure keeps
every file; a store that fails never turns a committed deletion into an error, and the job
tries again. Also: the S3 secret key stays out of reprs.

Each test runs on SQLite and (with ``CRM_TEST_POSTGRES_URL``) PostgreSQL.
"""

from __future__ import annotations

import logging
import shutil
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from core.attachments.jobs import PURGE_KIND
from core.attachments.models import Attachment
from core.attachments.storage import S3Store, store_for
from core.attachments.test_attachments import PDF, attach, attached, stored_files
from core.background import BackgroundJob, JobRunner, JobStatus
from core.config import Settings
from core.customers.test_customers_api import ERASE, create, log, ok
from core.errors import UserErrorCode, UserErrors
from tests.support import FIXTURE, Api, HookSet, running_app

DELETE = """
mutation($id: ID!) {
  deleteAttachment(input: {id: $id}) { deletedAttachmentId errors { field message code } }
}"""


async def purge_jobs(api: Api) -> list[BackgroundJob]:
    async with api.db.read() as session:
        return list(
            await session.scalars(
                select(BackgroundJob)
                .where(BackgroundJob.kind == PURGE_KIND)
                .order_by(BackgroundJob.id)
            )
        )


async def erase(api: Api, customer_id: str) -> dict[str, Any]:
    customer = (
        await api.gql("query($id: ID!) { customer(id: $id) { version } }", {"id": customer_id})
    )["data"]["customer"]
    return await api.gql(
        ERASE, {"id": customer_id, "version": customer["version"], "reason": "GDPR"}
    )


async def run_one_job(api: Api) -> bool:
    """One attempt at the oldest queued job (``Api.run_jobs`` retries until idle)."""
    state = api.app.state.crm
    runner = JobRunner(db=api.db, settings=api.settings, pm=state.pm, clock=state.clock)
    return await runner.run_one()


def jam(path: Path) -> Path:
    """Make the stored file at ``path`` impossible to delete: a directory in its place
    (unlinking a directory fails). Returns where the bytes were put aside."""
    aside = path.with_name(path.name + ".aside")
    path.rename(aside)
    path.mkdir()
    (path / "keep").write_bytes(b"")
    return aside


def unjam(path: Path) -> None:
    shutil.rmtree(path)


async def test_erasure_removes_bytes_only_after_commit(admin: Api, settings: Settings) -> None:
    acme = await create(admin, name="Acme")
    other = await create(admin, name="Other")
    meeting = await log(admin, acme["id"], "Meeting")
    await attached(admin, acme["id"], "a.pdf", PDF)
    await attached(admin, meeting["id"], "b.txt", b"notes")
    await attached(admin, other["id"], "c.txt", b"kept")
    assert len(stored_files(settings)) == 3

    ok(await erase(admin, acme["id"]), "eraseCustomer")

    # The rows are gone with the commit; the bytes wait for the purge job
    async with admin.db.read() as session:
        assert len(list(await session.scalars(select(Attachment.id)))) == 1
    assert len(stored_files(settings)) == 3
    [job] = await purge_jobs(admin)
    assert job.status == JobStatus.QUEUED
    assert await admin.run_jobs() == 1
    assert len(stored_files(settings)) == 1
    [job] = await purge_jobs(admin)
    assert (job.status, job.state) == (JobStatus.SUCCEEDED, {"purged": 2, "total": 2})


async def test_a_rolled_back_erasure_keeps_the_files(
    make_settings: Callable[..., Settings],
) -> None:
    async def veto(session: Any, customer: Any, context: Any) -> None:
        # a listener after core's attachments refuses the erasure: everything rolls back
        raise UserErrors.single(None, "refused by a listener", UserErrorCode.BUSINESS_RULE)

    settings = make_settings(plugins=("fixture", "veto"))
    plugins = {**FIXTURE, "veto": HookSet(crm_customer_erased=veto)}
    async with running_app(settings, extra_plugins=plugins) as api:
        admin = await api.user("admin@example.com", ["ADMINISTRATOR"])
        acme = await create(admin, name="Acme")
        await attached(admin, acme["id"], "a.pdf", PDF)
        before = [path.read_bytes() for path in stored_files(settings)]

        body = await erase(admin, acme["id"])
        assert body["data"]["eraseCustomer"]["errors"][0]["message"] == "refused by a listener"

        assert await purge_jobs(admin) == []
        assert await admin.run_jobs() == 0
        assert [path.read_bytes() for path in stored_files(settings)] == before == [PDF]
        listed = await admin.gql(
            "query($id: ID!) { customer(id: $id) { attachments { name } } }", {"id": acme["id"]}
        )
        assert listed["data"]["customer"]["attachments"] == [{"name": "a.pdf"}]


async def test_purging_a_missing_key_succeeds(admin: Api, settings: Settings) -> None:
    acme = await create(admin, name="Acme")
    file = await attached(admin, acme["id"], "a.pdf", PDF)
    [path] = stored_files(settings)
    path.unlink()  # already gone (an earlier attempt, or deleteAttachment's own removal)
    ok(await admin.gql(DELETE, {"id": file["id"]}), "deleteAttachment")
    assert await admin.run_jobs() == 1
    [job] = await purge_jobs(admin)
    assert job.status == JobStatus.SUCCEEDED


async def test_a_failing_store_after_commit_is_logged_and_retried(
    admin: Api, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    acme = await create(admin, name="Acme")
    file = await attached(admin, acme["id"], "a.pdf", PDF)
    [path] = stored_files(settings)
    aside = jam(path)

    # The deletion commits; the store refusing to remove the bytes is no error for the client
    with caplog.at_level(logging.WARNING, logger="crm.attachments"):
        body = await admin.gql(DELETE, {"id": file["id"]})
    assert "errors" not in body, body
    assert body["data"]["deleteAttachment"] == {
        "deletedAttachmentId": file["id"],
        "errors": [],
    }
    warnings = [r for r in caplog.records if r.name == "crm.attachments"]
    assert warnings
    assert path.name in warnings[0].getMessage()
    assert warnings[0].levelno == logging.WARNING

    # The purge job meets the same failure and is queued again
    assert await run_one_job(admin)
    [job] = await purge_jobs(admin)
    assert (job.status, job.attempts) == (JobStatus.QUEUED, 1)
    assert path.exists()

    # Once the store works again, the job removes the bytes
    unjam(path)
    aside.rename(path)
    assert await admin.run_jobs() == 1
    [job] = await purge_jobs(admin)
    assert job.status == JobStatus.SUCCEEDED
    assert stored_files(settings) == []


async def test_a_failing_store_during_erasure_is_retried(admin: Api, settings: Settings) -> None:
    acme = await create(admin, name="Acme")
    await attached(admin, acme["id"], "a.pdf", PDF)
    [path] = stored_files(settings)
    aside = jam(path)
    ok(await erase(admin, acme["id"]), "eraseCustomer")
    assert await run_one_job(admin)
    [job] = await purge_jobs(admin)
    assert job.status == JobStatus.QUEUED
    unjam(path)
    aside.rename(path)
    assert await admin.run_jobs() == 1
    assert stored_files(settings) == []


async def test_an_upload_the_store_refuses_leaves_no_row(admin: Api, settings: Settings) -> None:
    acme = await create(admin, name="Acme")
    root = settings.data_dir / "attachments"
    shutil.rmtree(root, ignore_errors=True)
    root.write_bytes(b"")  # no directory can be made under a file
    body = (await attach(admin, acme["id"], "a.pdf", PDF)).json()
    assert body["data"]["attachFile"] is None
    assert body["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    async with admin.db.read() as session:
        assert list(await session.scalars(select(Attachment.id))) == []
    assert await purge_jobs(admin) == []


def test_the_s3_secret_key_stays_out_of_reprs(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(
        attachment_store="s3", s3_bucket="crm-files", s3_secret_key="hunter2-s3-secret"
    )
    assert "hunter2-s3-secret" not in repr(settings)
    assert "hunter2-s3-secret" not in str(settings)
    assert "hunter2-s3-secret" not in repr(settings.model_dump())
    assert settings.s3_secret_key.get_secret_value() == "hunter2-s3-secret"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def test_an_s3_store_that_is_away_is_retried_by_the_purge_job(
    make_settings: Callable[..., Settings],
) -> None:
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    settings = make_settings(
        attachment_store="s3",
        s3_endpoint_url=f"http://127.0.0.1:{port}",
        s3_bucket="crm-purge",
        s3_access_key="test",
        s3_secret_key="test",
    )
    store = store_for(settings)
    assert isinstance(store, S3Store)
    store.client.create_bucket(Bucket="crm-purge")

    def keys() -> int:
        count: int = store.client.list_objects_v2(Bucket="crm-purge")["KeyCount"]
        return count

    try:
        async with running_app(settings) as api:
            admin = await api.user("admin@example.com", ["ADMINISTRATOR"])
            acme = await create(admin, name="Acme")
            await attached(admin, acme["id"], "a.pdf", PDF)
            ok(await erase(admin, acme["id"]), "eraseCustomer")
            assert keys() == 1

            server.stop()  # the object store is away while the job runs
            assert await run_one_job(admin)
            [job] = await purge_jobs(admin)
            assert (job.status, job.attempts) == (JobStatus.QUEUED, 1)

            server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
            server.start()  # back, with what it held
            assert keys() == 1
            assert await admin.run_jobs() == 1
            [job] = await purge_jobs(admin)
            assert job.status == JobStatus.SUCCEEDED
            assert keys() == 0
    finally:
        server.stop()
